
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listening, pidsWithMarker, waitFor } from './helpers.js';


async function post(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}/invoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    body: JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

describe('over a real socket', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await listening({ MINI_AGENT_TOKENS: 'alice:tok-alice-123456', MINI_AGENT_MAX_OUTPUT_BYTES: '65536' }));
  });
  afterAll(() => app.close());
  const auth = { authorization: 'Bearer tok-alice-123456' };

  it('answers the contract and its error codes', async () => {
    const ok = await post(url, { name: 'exec_shell', arguments: '{"cmd":"echo hi"}' }, { headers: auth });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await ok.json()) as { data: { stdout: string } }).data.stdout).toBe('hi\n');
    const cases: [unknown, Record<string, string>, number, string][] = [
      [{ name: 'exec_shell', arguments: { cmd: 'echo' } }, {}, 401, 'UNAUTHORIZED'],
      [{ name: 'nope' }, auth, 404, 'TOOL_NOT_FOUND'],
      [{ name: 'exec_shell', arguments: { cmd: 'sh' } }, auth, 403, 'COMMAND_NOT_ALLOWED'],
      [{ name: 'exec_shell', arguments: { cmd: 1 } }, auth, 400, 'INVALID_ARGUMENTS'],
      [{ nom: 'x' }, auth, 400, 'INVALID_BODY'],
      [{ name: 'exec_python', arguments: { code: 'x'.repeat(2 * 1024 * 1024) } }, auth, 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [body, headers, status, code] of cases) {
      const res = await post(url, body, { headers });
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ statusCode: status, code });
    }
  });

  it('kills the run when the client disconnects', async () => {
    const marker = `disconnect-${process.pid}-${Date.now()}`;
    const controller = new AbortController();
    const pending = post(
      url,
      { name: 'exec_python', arguments: { code: `import time\ntime.sleep(30)  # ${marker}`, timeout_s: 30 } },
      { headers: auth, signal: controller.signal },
    ).catch((err: unknown) => err);
    expect(await waitFor(() => pidsWithMarker(marker).length > 0, 5000)).toBe(true);
    controller.abort();
    await pending;
    expect(await waitFor(() => pidsWithMarker(marker).length === 0, 3000)).toBe(true);
  });

  it('keeps its memory bounded under an output flood', async () => {
    const before = process.memoryUsage().rss;
    const res = await post(
      url,
      { name: 'exec_python', arguments: { code: 'import sys\nb = b"x" * 1048576\nfor _ in range(300): sys.stdout.buffer.write(b)\n' } },
      { headers: auth },
    );
    const body = (await res.json()) as { data: { truncated: boolean; stdout: string; rc: number } };
    expect(body.data.rc).toBe(0);
    expect(body.data.truncated).toBe(true);
    expect(body.data.stdout.length).toBeLessThan(70_000);
    // 300 MiB went through the pipe; the gateway kept 64 KiB of it.
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('graceful shutdown', () => {
  it('refuses new work, lets a short run finish, kills a long one at the grace deadline', async () => {
    const { app, url } = await listening({ MINI_AGENT_SHUTDOWN_GRACE_S: '1' });
    const marker = `shutdown-${process.pid}-${Date.now()}`;
    const long = post(url, {
      name: 'exec_python',
      arguments: { code: `import time\ntime.sleep(30)  # ${marker}`, timeout_s: 30 },
    });
    const short = post(url, { name: 'exec_python', arguments: { code: 'import time\ntime.sleep(0.3)\nprint("finished")' } });
    expect(await waitFor(() => pidsWithMarker(marker).length > 0, 5000)).toBe(true);

    const started = Date.now();
    const draining = app.beginShutdown();
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ code: 'SHUTTING_DOWN' });
    const refused = await post(url, { name: 'exec_python', arguments: { code: 'print(1)' } });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ statusCode: 503, code: 'SHUTTING_DOWN' });

    const shortBody = (await (await short).json()) as { data: { ok: boolean; stdout: string } };
    expect(shortBody.data).toMatchObject({ ok: true, stdout: 'finished\n' });
    const longBody = (await (await long).json()) as { data: { ok: boolean; rc: number | null } };
    expect(longBody.data).toMatchObject({ ok: false, rc: null });
    await draining;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(pidsWithMarker(marker)).toEqual([]);
    await app.close();
  });
});
