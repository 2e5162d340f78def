import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoke, testApp } from './helpers.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp({ MINI_AGENT_MAX_TIMEOUT_S: '2', MINI_AGENT_MAX_OUTPUT_BYTES: '4096', MINI_AGENT_BODY_LIMIT_BYTES: '65536' });
});
afterAll(() => app.close());

const errorBody = (statusCode: number, code: string) => ({
  statusCode,
  code,
  error: expect.any(String),
  message: expect.any(String),
});

describe('GET /tools', () => {
  it('is a bare array of OpenAI function tools sorted by name, with nothing else in the elements', async () => {
    const res = await app.inject({ url: '/tools' });
    expect(res.statusCode).toBe(200);
    const tools = res.json<{ type: string; function: { name: string } }[]>();
    expect(Array.isArray(tools)).toBe(true);
    expect(tools.map((t) => t.function.name)).toEqual(['exec_python', 'exec_shell']);
    for (const tool of tools) {
      expect(Object.keys(tool).sort()).toEqual(['function', 'type']);
      expect(Object.keys(tool.function).sort()).toEqual(['description', 'name', 'parameters']);
      expect(tool.type).toBe('function');
    }
    const python = tools[0]!.function as unknown as { parameters: Record<string, unknown> };
    expect(python.parameters).toMatchObject({ type: 'object', required: ['code'], additionalProperties: false });
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await app.inject({ url: '/tools' });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);
    const again = await app.inject({ url: '/tools', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const other = await app.inject({ url: '/tools', headers: { 'if-none-match': '"other"' } });
    expect(other.statusCode).toBe(200);
  });
});

describe('POST /invoke', () => {
  it('takes arguments as a JSON string, as an object, and answers {text, data}', async () => {
    for (const args of ['{"code":"print(6*7)"}', { code: 'print(6*7)' }]) {
      const res = await app.inject(invoke('exec_python', args));
      expect(res.statusCode).toBe(200);
      const body = res.json<{ text: string; data: Record<string, unknown> }>();
      expect(Object.keys(body).sort()).toEqual(['data', 'text']);
      expect(body.data).toMatchObject({ ok: true, rc: 0, signal: null, stdout: '42\n', stderr: '', timed_out: false, truncated: false });
      expect(typeof body.data.duration_ms).toBe('number');
      expect(JSON.parse(body.text)).toEqual({ ok: true, rc: 0, stdout: '42\n', stderr: '' });
    }
  });

  it('treats absent arguments as {}', async () => {
    const res = await app.inject(invoke('exec_python'));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ ...errorBody(400, 'INVALID_ARGUMENTS'), message: 'arguments: missing required field `code`' });
  });

  it('answers a failed run with 200 and ok:false, never an error key', async () => {
    const res = await app.inject(invoke('exec_python', { code: 'import sys; print("oops", file=sys.stderr); sys.exit(2)' }));
    expect(res.statusCode).toBe(200);
    const body = res.json<{ text: string; data: Record<string, unknown> }>();
    expect(body).not.toHaveProperty('error');
    expect(body.data).toMatchObject({ ok: false, rc: 2, stderr: 'oops\n' });
    expect(JSON.parse(body.text)).toEqual({ ok: false, rc: 2, stdout: '', stderr: 'oops\n' });
  });

  it('times out: partial output kept, rc null, timed_out true, capped by the server maximum', async () => {
    const res = await app.inject(
      invoke('exec_python', { code: 'import time\nprint("partial", flush=True)\ntime.sleep(60)', timeout_s: 3600 }),
    );
    const body = res.json<{ text: string; data: Record<string, unknown> }>();
    expect(body.data).toMatchObject({ ok: false, rc: null, stdout: 'partial\n', timed_out: true });
    expect(body.data.duration_ms as number).toBeGreaterThanOrEqual(1900);
    expect(body.data.duration_ms as number).toBeLessThan(4000);
    expect(JSON.parse(body.text)).toMatchObject({ timed_out: true, ok: false, rc: null });
  });

  it('caps each stream, keeps head and tail, and flags truncated', async () => {
    const res = await app.inject(invoke('exec_python', { code: 'print("H" + "x"*100000 + "T")' }));
    const body = res.json<{ text: string; data: { stdout: string; truncated: boolean; ok: boolean } }>();
    expect(body.data.truncated).toBe(true);
    expect(body.data.ok).toBe(false);
    expect(body.data.stdout.startsWith('H')).toBe(true);
    expect(body.data.stdout.endsWith('T\n')).toBe(true);
    expect(body.data.stdout.length).toBeLessThan(4200);
    expect(JSON.parse(body.text).truncated).toBe(true);
  });

  it('runs exec_shell without a shell: metacharacters are inert text', async () => {
    const res = await app.inject(invoke('exec_shell', { cmd: 'echo a; id | cat && $(whoami) `id` > /tmp/x' }));
    expect(res.json<{ data: { stdout: string } }>().data.stdout).toBe('a; id | cat && $(whoami) `id` > /tmp/x\n');
  });

  it('gives each call a fresh workspace, removed afterwards', async () => {
    const first = await app.inject(invoke('exec_python', { code: 'import os; open("f","w").write("x"); print(os.getcwd())' }));
    const cwd = first.json<{ data: { stdout: string } }>().data.stdout.trim();
    const second = await app.inject(invoke('exec_python', { code: 'import os; print(os.listdir("."))' }));
    expect(second.json<{ data: { stdout: string } }>().data.stdout).toBe('[]\n');
    const { existsSync } = await import('node:fs');
    if (cwd.startsWith('/tmp') || cwd.includes('mini-agent')) expect(existsSync(cwd)).toBe(false);
  });

  it('hands tool code none of the gateway environment', async () => {
    process.env.MINI_AGENT_CONTRACT_SECRET = 'hunter2-contract';
    try {
      const res = await app.inject(invoke('exec_python', { code: 'import os; print(sorted(os.environ.items()))' }));
      const out = res.json<{ data: { stdout: string } }>().data.stdout;
      expect(out).not.toContain('hunter2-contract');
      expect(out).not.toContain('MINI_AGENT');
      expect(out).toContain("'PATH'");
    } finally {
      delete process.env.MINI_AGENT_CONTRACT_SECRET;
    }
  });

  it.each([
    ['missing name', { arguments: '{}' }, 'body: must have required property'],
    ['name not a string', { name: 1 }, 'body.name: must be string'],
    ['unknown key', { name: 'exec_python', extra: 1 }, 'body: must NOT have additional properties'],
    ['arguments of the wrong type', { name: 'exec_python', arguments: 5 }, 'body.arguments'],
  ])('answers 400 INVALID_BODY for %s', async (_label, payload, message) => {
    const res = await app.inject({ method: 'POST', url: '/invoke', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(errorBody(400, 'INVALID_BODY'));
    expect(res.json<{ message: string }>().message).toContain(message);
  });

  it('answers 400 INVALID_BODY for malformed JSON', async () => {
    const res = await app.inject({ method: 'POST', url: '/invoke', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(errorBody(400, 'INVALID_BODY'));
  });

  it('answers 400 INVALID_ARGUMENTS naming the field', async () => {
    const cases: [unknown, string][] = [
      ['{"code":', 'arguments: not valid JSON'],
      ['[1,2]', 'arguments: must be a JSON object'],
      [{ code: 5 }, 'arguments.code: must be string'],
      [{ code: 'x', timeout_s: -1 }, 'arguments.timeout_s: must be > 0'],
      [{ code: 'x', shell: true }, 'arguments: unknown field `shell`'],
    ];
    for (const [args, message] of cases) {
      const res = await app.inject(invoke('exec_python', args));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(errorBody(400, 'INVALID_ARGUMENTS'));
      expect(res.json<{ message: string }>().message).toContain(message);
    }
  });

  it('answers 400 INVALID_SESSION for a bad session id', async () => {
    for (const id of ['../etc', 'a b', 'x'.repeat(65), '']) {
      const res = await app.inject({ ...invoke('exec_python', { code: 'print(1)' }), headers: { 'x-session-id': id } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(errorBody(400, 'INVALID_SESSION'));
    }
  });

  it('answers 403 COMMAND_NOT_ALLOWED listing what is allowed', async () => {
    for (const cmd of ['sh -c id', '/bin/sh -c id', 'bash', 'env python3', 'xargs', 'nohup id', '../../bin/sh', 'python3 -c 1']) {
      const res = await app.inject(invoke('exec_shell', { cmd }));
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(errorBody(403, 'COMMAND_NOT_ALLOWED'));
      expect(res.json<{ message: string }>().message).toMatch(/allowed: .*echo/);
    }
  });

  it('answers 404 TOOL_NOT_FOUND listing the tools', async () => {
    const res = await app.inject(invoke('rm_rf', {}));
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(errorBody(404, 'TOOL_NOT_FOUND'));
    expect(res.json<{ message: string }>().message).toContain('exec_python, exec_shell');
  });

  it('answers 413 PAYLOAD_TOO_LARGE past the body limit', async () => {
    const res = await app.inject(invoke('exec_python', { code: `print(${'1'.repeat(70_000)})` }));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual(errorBody(413, 'PAYLOAD_TOO_LARGE'));
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await app.inject({ method: 'POST', url: '/invoke', headers: { 'content-type': 'text/plain' }, payload: 'name=x' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual(errorBody(415, 'UNSUPPORTED_MEDIA_TYPE'));
  });
});

describe('the rest of the surface', () => {
  it('reports health and the sandbox in use', async () => {
    const res = await app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', sandbox: expect.stringMatching(/^(bwrap|none)$/) });
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/tools', '/invoke', '/healthz', '/readyz']));
    const docs = await app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });

  it('answers unknown routes with 404 ROUTE_NOT_FOUND', async () => {
    const res = await app.inject({ url: '/nope' });
    expect(res.json()).toEqual(errorBody(404, 'ROUTE_NOT_FOUND'));
  });

  it('serves only loopback Host names when no tokens are set', async () => {
    const res = await app.inject({ url: '/tools', headers: { host: 'attacker.example:8787' } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(errorBody(403, 'HOST_NOT_ALLOWED'));
    expect((await app.inject({ url: '/tools', headers: { host: '127.0.0.1:8787' } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/tools', headers: { host: '[::1]:8787' } })).statusCode).toBe(200);
  });
});
