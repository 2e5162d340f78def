import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { resolveConfig, type ConfigInput } from '../src/config.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function gateway(settings: ConfigInput = {}): Promise<FastifyInstance> {
  const app = await buildApp(resolveConfig({ MINI_AGENT_PORT: '0', MINI_AGENT_SANDBOX: 'none', ...settings }));
  apps.push(app);
  return app;
}

const call = (name: string, args: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url: '/invoke',
  headers,
  payload: { name, arguments: args },
});

/** The value of the one sample `series` (name and labels exactly as exposed). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('counts invocations by tool, principal and outcome, with durations, queue, in-flight and sandbox', async () => {
    const app = await gateway();
    expect((await app.inject(call('exec_python', { code: 'print(1)' }))).statusCode).toBe(200);
    expect((await app.inject(call('exec_python', { code: 'raise SystemExit(3)' }))).json().data.rc).toBe(3);
    expect((await app.inject(call('exec_python', { code: 'import time; time.sleep(5)', timeout_s: 0.3 }))).json().data.timed_out).toBe(true);
    expect((await app.inject(call('exec_python', { nope: 1 }))).statusCode).toBe(400);

    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    const inv = (outcome: string, code = '') =>
      sample(text, `mini_agent_invocations_total{tool="exec_python",principal="anonymous",outcome="${outcome}",code="${code}"}`);
    expect(inv('ok')).toBe(1);
    expect(inv('failed')).toBe(1);
    expect(inv('timed_out')).toBe(1);
    expect(inv('refused', 'INVALID_ARGUMENTS')).toBe(1);
    // Refused before running: three runs are timed, not four.
    const counts = ['ok', 'failed', 'timed_out'].map((o) =>
      sample(text, `mini_agent_invocation_duration_seconds_count{tool="exec_python",outcome="${o}"}`),
    );
    expect(counts).toEqual([1, 1, 1]);
    expect(sample(text, 'mini_agent_invocation_duration_seconds_sum{tool="exec_python",outcome="timed_out"}')).toBeGreaterThan(0.25);
    expect(sample(text, 'mini_agent_queue_wait_seconds_count')).toBe(4);
    expect(sample(text, 'mini_agent_queue_depth')).toBe(0);
    expect(sample(text, 'mini_agent_inflight')).toBe(0);
    expect(sample(text, 'mini_agent_sandbox_info{backend="none"}')).toBe(1);
    expect(sample(text, 'mini_agent_admission_limit{limit="max_queue"}')).toBe(64);
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('never turns a caller-chosen tool name into a label', async () => {
    const app = await gateway();
    for (let i = 0; i < 5; i++) expect((await app.inject(call(`made_up_${i}`, {}))).statusCode).toBe(404);
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).not.toContain('made_up');
    expect(sample(text, 'mini_agent_invocations_total{tool="(unknown)",principal="anonymous",outcome="refused",code="TOOL_NOT_FOUND"}')).toBe(5);
  });

  it('keeps each app in its own registry', async () => {
    const a = await gateway();
    const b = await gateway();
    await a.inject(call('exec_python', { code: 'print(1)' }));
    const series = 'mini_agent_invocations_total{tool="exec_python",principal="anonymous",outcome="ok",code=""}';
    expect(sample((await a.inject({ url: '/metrics' })).body, series)).toBe(1);
    expect(sample((await b.inject({ url: '/metrics' })).body, series)).toBeUndefined();
  });

  it('takes the tool routes\' auth when tokens are set', async () => {
    const app = await gateway({ MINI_AGENT_TOKENS: 'alice:alice-token-0123456789' });
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer alice-token-0123456789' } })).statusCode).toBe(200);
  });

  it('refuses a non-loopback Host without tokens, like the tool routes', async () => {
    const app = await gateway();
    const res = await app.inject({ url: '/metrics', headers: { host: 'evil.example:8787' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('HOST_NOT_ALLOWED');
  });

  it('opens only to MINI_AGENT_METRICS_TOKEN when it is set', async () => {
    const app = await gateway({
      MINI_AGENT_TOKENS: 'alice:alice-token-0123456789',
      MINI_AGENT_METRICS_TOKEN: 'scraper-token-0123456789',
    });
    const agent = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer alice-token-0123456789' } });
    expect(agent.statusCode).toBe(401);
    const scraper = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scraper-token-0123456789' } });
    expect(scraper.statusCode).toBe(200);
    // The scraper's token is not a principal: it cannot run tools.
    const run = await app.inject(call('exec_python', { code: 'print(1)' }, { authorization: 'Bearer scraper-token-0123456789' }));
    expect(run.statusCode).toBe(401);
  });

  it('counts rate-limit refusals by principal', async () => {
    const app = await gateway({ MINI_AGENT_RATE_LIMIT: '1' });
    await app.inject({ url: '/tools' });
    expect((await app.inject({ url: '/tools' })).statusCode).toBe(429);
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(sample(text, 'mini_agent_rejections_total{reason="RATE_LIMITED",principal="anonymous"}')).toBe(1);
  });
});
