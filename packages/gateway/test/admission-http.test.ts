import { request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { resolveConfig, type ConfigInput } from '../src/config.js';

const apps: FastifyInstance[] = [];
// /metrics takes the tool routes' auth: read it with the first configured token.
const metricsAuth = new WeakMap<FastifyInstance, Record<string, string>>();
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function gateway(settings: ConfigInput): Promise<FastifyInstance> {
  const app = await buildApp(resolveConfig({ MINI_AGENT_PORT: '0', MINI_AGENT_SANDBOX: 'none', ...settings }));
  apps.push(app);
  const token = /^[^:]+:([^,]+)/.exec(settings.MINI_AGENT_TOKENS ?? '')?.[1];
  metricsAuth.set(app, token === undefined ? {} : { authorization: `Bearer ${token}` });
  return app;
}

const python = (code: string, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url: '/invoke',
  headers,
  payload: { name: 'exec_python', arguments: { code } },
});

// Holds its run slot for 1.5 s, long enough to observe the others queue behind it.
const SLOW = 'import time\ntime.sleep(1.5)\nprint("slow")';

/** Sums the samples of a metric whose labels contain every `labels` pair. */
async function metric(app: FastifyInstance, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await app.inject({ url: '/metrics', headers: metricsAuth.get(app) });
  expect(res.statusCode).toBe(200);
  const text = res.body;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

describe('admission over HTTP', () => {
  it('answers 429 QUEUE_FULL with Retry-After when every slot is busy and the queue is full; nothing runs', async () => {
    const app = await gateway({ MINI_AGENT_MAX_CONCURRENCY: '1', MINI_AGENT_MAX_QUEUE: '0' });
    const slow = app.inject(python(SLOW, { 'x-session-id': 'q1' }));
    await expect.poll(() => metric(app, 'mini_agent_inflight'), { timeout: 5000 }).toBe(1);
    const refused = await app.inject(python('open("ran", "w").write("yes")', { 'x-session-id': 'q1' }));
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      statusCode: 429,
      code: 'QUEUE_FULL',
      error: 'Too Many Requests',
      message: expect.stringContaining('nothing ran'),
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await slow).json().data.stdout).toBe('slow\n');
    const check = await app.inject(python('import os\nprint(os.path.exists("ran"))', { 'x-session-id': 'q1' }));
    expect(check.json().data.stdout).toBe('False\n');
    expect(await metric(app, 'mini_agent_rejections_total', { reason: 'QUEUE_FULL' })).toBe(1);
    expect(await metric(app, 'mini_agent_invocations_total', { outcome: 'refused', code: 'QUEUE_FULL' })).toBe(1);
  });

  it('answers 429 QUEUE_TIMEOUT with Retry-After when no slot frees in time', async () => {
    const app = await gateway({ MINI_AGENT_MAX_CONCURRENCY: '1', MINI_AGENT_QUEUE_TIMEOUT_S: '0.2' });
    const slow = app.inject(python(SLOW));
    await expect.poll(() => metric(app, 'mini_agent_inflight'), { timeout: 5000 }).toBe(1);
    const started = performance.now();
    const refused = await app.inject(python('print(1)'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('QUEUE_TIMEOUT');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await slow).statusCode).toBe(200);
  });

  it('forgets a queued call whose client disconnects', async () => {
    const app = await gateway({ MINI_AGENT_MAX_CONCURRENCY: '1' });
    const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    const slow = app.inject(python(SLOW));
    await expect.poll(() => metric(app, 'mini_agent_inflight'), { timeout: 5000 }).toBe(1);
    const req = httpRequest({ host: url.hostname, port: url.port, path: '/invoke', method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => {});
    req.end(JSON.stringify({ name: 'exec_python', arguments: { code: 'print(1)' } }));
    await expect.poll(() => metric(app, 'mini_agent_queue_depth'), { timeout: 5000 }).toBe(1);
    req.destroy();
    await expect.poll(() => metric(app, 'mini_agent_queue_depth'), { timeout: 5000 }).toBe(0);
    expect(await metric(app, 'mini_agent_rejections_total', { reason: 'CLIENT_CLOSED' })).toBe(1);
    expect((await slow).statusCode).toBe(200);
    expect(await metric(app, 'mini_agent_invocations_total', { outcome: 'ok' })).toBe(1);
  });

  it('lets another principal run while one is at its own limit', async () => {
    const app = await gateway({
      MINI_AGENT_TOKENS: 'alice:alice-token-0123456789,bob:bob-token-0123456789',
      MINI_AGENT_MAX_CONCURRENCY: '2',
      MINI_AGENT_MAX_CONCURRENCY_PER_PRINCIPAL: '1',
    });
    const alice = { authorization: 'Bearer alice-token-0123456789' };
    const first = app.inject(python(SLOW, alice));
    await expect.poll(() => metric(app, 'mini_agent_inflight'), { timeout: 5000 }).toBe(1);
    const second = app.inject(python('print("alice 2")', alice));
    await expect.poll(() => metric(app, 'mini_agent_queue_depth'), { timeout: 5000 }).toBe(1);
    const started = performance.now();
    const bob = await app.inject(python('print("bob")', { authorization: 'Bearer bob-token-0123456789' }));
    expect(bob.json().data.stdout).toBe('bob\n');
    // Bob did not wait for alice's slow call.
    expect(performance.now() - started).toBeLessThan(1200);
    expect(await metric(app, 'mini_agent_queue_depth')).toBe(1);
    expect((await second).json().data.stdout).toBe('alice 2\n');
    await first;
  });

  it('refuses queued calls with 503 SHUTTING_DOWN when the gateway closes; the running one finishes', async () => {
    const app = await gateway({ MINI_AGENT_MAX_CONCURRENCY: '1' });
    const slow = app.inject(python(SLOW));
    await expect.poll(() => metric(app, 'mini_agent_inflight'), { timeout: 5000 }).toBe(1);
    const queued = app.inject(python('print(1)'));
    await expect.poll(() => metric(app, 'mini_agent_queue_depth'), { timeout: 5000 }).toBe(1);
    const closing = app.close();
    const res = await queued;
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('SHUTTING_DOWN');
    expect((await slow).json().data.ok).toBe(true);
    await closing;
  });
});

describe('per-principal tools', () => {
  const tokens = {
    MINI_AGENT_TOKENS: 'alice:alice-token-0123456789,bob:bob-token-0123456789',
    MINI_AGENT_PRINCIPAL_TOOLS: 'alice=exec_python',
  };
  const alice = { authorization: 'Bearer alice-token-0123456789' };
  const bob = { authorization: 'Bearer bob-token-0123456789' };

  it('hides other tools from GET /tools, with an ETag of its own', async () => {
    const app = await gateway(tokens);
    const a = await app.inject({ url: '/tools', headers: alice });
    const b = await app.inject({ url: '/tools', headers: bob });
    expect(a.json().map((t: { function: { name: string } }) => t.function.name)).toEqual(['exec_python']);
    expect(b.json().map((t: { function: { name: string } }) => t.function.name)).toEqual(['exec_python', 'exec_shell']);
    expect(a.headers.etag).not.toBe(b.headers.etag);
    const cached = await app.inject({ url: '/tools', headers: { ...alice, 'if-none-match': String(a.headers.etag) } });
    expect(cached.statusCode).toBe(304);
    // Bob's tag does not validate alice's cache, nor the other way round.
    const stale = await app.inject({ url: '/tools', headers: { ...alice, 'if-none-match': String(b.headers.etag) } });
    expect(stale.statusCode).toBe(200);
  });

  it('answers 403 TOOL_FORBIDDEN for a hidden tool, and names only the allowed ones', async () => {
    const app = await gateway(tokens);
    const res = await app.inject({ method: 'POST', url: '/invoke', headers: alice, payload: { name: 'exec_shell', arguments: { cmd: 'echo hi' } } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ statusCode: 403, code: 'TOOL_FORBIDDEN', error: 'Forbidden' });
    expect(res.json().message).toContain('exec_python');
    const unknown = await app.inject({ method: 'POST', url: '/invoke', headers: alice, payload: { name: 'nope' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).not.toContain('exec_shell');
    const ok = await app.inject(python('print(2)', alice));
    expect(ok.json().data.stdout).toBe('2\n');
    const other = await app.inject({ method: 'POST', url: '/invoke', headers: bob, payload: { name: 'exec_shell', arguments: { cmd: 'echo hi' } } });
    expect(other.json().data.stdout).toBe('hi\n');
    expect(await metric(app, 'mini_agent_rejections_total', { reason: 'TOOL_FORBIDDEN', principal: 'alice' })).toBe(1);
  });

  it('refuses at startup a tool list naming a tool the gateway does not serve', async () => {
    await expect(gateway({ ...tokens, MINI_AGENT_PRINCIPAL_TOOLS: 'alice=exec_pyton' })).rejects.toThrow(
      /`MINI_AGENT_PRINCIPAL_TOOLS` to name served tools .* got `exec_pyton` for alice/,
    );
  });
});

describe('rate limits', () => {
  it('answers 429 RATE_LIMITED with the x-ratelimit headers per principal', async () => {
    const app = await gateway({ MINI_AGENT_TOKENS: 'alice:alice-token-0123456789,bob:bob-token-0123456789', MINI_AGENT_RATE_LIMIT: '2' });
    const alice = { authorization: 'Bearer alice-token-0123456789' };
    const first = await app.inject({ url: '/tools', headers: alice });
    expect(first.headers['x-ratelimit-limit']).toBe('2');
    expect(first.headers['x-ratelimit-remaining']).toBe('1');
    await app.inject(python('print(1)', alice));
    const limited = await app.inject(python('print(1)', alice));
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({
      statusCode: 429,
      code: 'RATE_LIMITED',
      error: 'Too Many Requests',
      message: expect.stringContaining('2 calls per minute'),
    });
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Keyed by principal: bob is untouched.
    const bob = await app.inject(python('print(1)', { authorization: 'Bearer bob-token-0123456789' }));
    expect(bob.statusCode).toBe(200);
    expect(await metric(app, 'mini_agent_rejections_total', { reason: 'RATE_LIMITED', principal: 'alice' })).toBe(1);
  });

  it('is off with 0', async () => {
    const app = await gateway({ MINI_AGENT_RATE_LIMIT: '0' });
    const res = await app.inject({ url: '/tools' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-ratelimit-limit']).toBeUndefined();
  });
});
