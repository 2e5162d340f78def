import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpToolsInvoker } from '../../packages/client/dist/index.js';
import { connect, startGateway, type McpTestGateway } from './helpers.js';

const TOKEN = 'tok-mcp-alice-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** One raw HTTP exchange, so Host and Origin are exactly what the test says. */
function raw(url: string, opts: { method: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/mcp', method: opts.method, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('MCP over Streamable HTTP with tokens', () => {
  let gw: McpTestGateway;
  beforeAll(async () => {
    gw = await startGateway({ MINI_AGENT_TOKENS: `alice:${TOKEN}` });
  });
  afterAll(() => gw.close());

  it('lists the same tools as GET /tools, as HttpToolsInvoker sees them', async () => {
    const { client } = await connect(gw.url, AUTH);
    const { tools } = await client.listTools();
    const viaHttp = await new HttpToolsInvoker(gw.url, { token: TOKEN }).listTools();
    expect(tools.map((t) => t.name)).toEqual(viaHttp.map((t) => t.function.name));
    expect(tools.map((t) => t.name)).toContain('exec_python');
    for (const tool of tools) {
      const http = viaHttp.find((t) => t.function.name === tool.name)!;
      expect(tool.description).toBe(http.function.description);
      expect(tool.inputSchema).toEqual(http.function.parameters);
    }
    expect(client.getServerVersion()?.name).toBe('mini-agent');
    await client.close();
  });

  it('runs exec_python: the text a model reads, and the exec result as structuredContent', async () => {
    const { client } = await connect(gw.url, AUTH);
    const result = await client.callTool({ name: 'exec_python', arguments: { code: 'print(6 * 7)' } });
    expect(result.isError).toBe(false);
    expect(result.structuredContent).toMatchObject({ ok: true, rc: 0, stdout: '42\n', stderr: '', timed_out: false });
    const content = result.content as { type: string; text: string }[];
    expect(content).toHaveLength(1);
    expect(content[0]!.type).toBe('text');
    expect(JSON.parse(content[0]!.text)).toEqual({ ok: true, rc: 0, stdout: '42\n', stderr: '' });
    await client.close();
  });

  it('reports a failed run as isError with its rc and stderr', async () => {
    const { client } = await connect(gw.url, AUTH);
    const result = await client.callTool({ name: 'exec_python', arguments: { code: 'import sys\nprint("boom", file=sys.stderr)\nsys.exit(3)' } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ ok: false, rc: 3, stderr: 'boom\n' });
    await client.close();
  });

  it('gives bad arguments back to the model as an isError result naming the field', async () => {
    const { client } = await connect(gw.url, AUTH);
    const result = await client.callTool({ name: 'exec_python', arguments: { source: 'print(1)' } });
    expect(result.isError).toBe(true);
    const body = JSON.parse((result.content as { text: string }[])[0]!.text) as { code: string; message: string };
    expect(body.code).toBe('INVALID_ARGUMENTS');
    expect(body.message).toMatch(/code|source/);
    await client.close();
  });

  it('answers an unknown tool with a JSON-RPC invalid-params error', async () => {
    const { client } = await connect(gw.url, AUTH);
    await expect(client.callTool({ name: 'exec_cobol', arguments: {} })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringMatching(/exec_cobol.*not found/),
    });
    await client.close();
  });

  it('refuses a client without a token, or with a wrong one (401)', async () => {
    await expect(connect(gw.url)).rejects.toMatchObject({ code: 401 });
    await expect(connect(gw.url, { authorization: 'Bearer not-the-token-000000' })).rejects.toMatchObject({ code: 401 });
    const res = await raw(gw.url, { method: 'POST', headers: { ...MCP_HEADERS, host: '127.0.0.1' }, body: INITIALIZE });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('refuses a browser Origin that is not loopback or allowed (DNS rebinding), accepts a loopback one', async () => {
    const evil = await raw(gw.url, { method: 'POST', headers: { ...MCP_HEADERS, ...AUTH, host: 'evil.example', origin: 'http://evil.example' }, body: INITIALIZE });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body)).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    const local = await raw(gw.url, { method: 'POST', headers: { ...MCP_HEADERS, ...AUTH, origin: 'http://localhost:6274' }, body: INITIALIZE });
    expect(local.status).toBe(200);
    expect(JSON.parse(local.body)).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'mini-agent' } } });
  });

  it('answers GET and DELETE with 405 and Allow: POST (stateless: no SSE stream, no session)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await raw(gw.url, { method, headers: { ...AUTH, accept: 'text/event-stream' } });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.headers['mcp-session-id']).toBeUndefined();
    }
  });

  it('refuses a JSON-RPC batch, so one request cannot carry many tool calls past the rate limit', async () => {
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'exec_python', arguments: { code: 'print(1)' } } });
    const res = await raw(gw.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...AUTH, 'mcp-protocol-version': '2025-03-26' },
      body: JSON.stringify([call(1), call(2), call(3)]),
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 }, id: null });
  });

  it('kills the run when the client disconnects', async () => {
    const { client, transport } = await connect(gw.url, AUTH);
    const call = client.callTool({ name: 'exec_python', arguments: { code: 'import time\ntime.sleep(30)', timeout_s: 40 } });
    call.catch(() => {});
    // Wait until the run is admitted, then drop the connection.
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    await transport.close();
    let audit: Record<string, unknown> | undefined;
    while (Date.now() - started < 10_000 && audit === undefined) {
      await new Promise((r) => setTimeout(r, 50));
      audit = gw.logs.map((l) => l.audit as Record<string, unknown> | undefined).find((a) => a?.tool === 'exec_python' && a.aborted === true);
    }
    expect(audit).toMatchObject({ principal: 'alice', aborted: true, ok: false });
    expect(audit!.duration_ms as number).toBeLessThan(10_000);
  });
});

describe('MCP without tokens (loopback only)', () => {
  let gw: McpTestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());

  it('serves a loopback Host', async () => {
    const { client } = await connect(gw.url);
    const result = await client.callTool({ name: 'exec_shell', arguments: { cmd: 'echo hi' } });
    expect(result.structuredContent).toMatchObject({ ok: true, stdout: 'hi\n' });
    await client.close();
  });

  it('refuses a Host that is not loopback (403), as a rebound DNS name would send', async () => {
    const res = await raw(gw.url, { method: 'POST', headers: { ...MCP_HEADERS, host: 'attacker.example:8787' }, body: INITIALIZE });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
  });
});

describe('MCP under the gateway limits', () => {
  const BOB = 'tok-mcp-bob-0123456789';
  let gw: McpTestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      MINI_AGENT_TOKENS: `alice:${TOKEN},bob:${BOB}`,
      MINI_AGENT_PRINCIPAL_TOOLS: 'bob=exec_python',
      MINI_AGENT_MAX_CONCURRENCY: '1',
      MINI_AGENT_MAX_CONCURRENCY_PER_PRINCIPAL: '1',
      MINI_AGENT_MAX_QUEUE: '0',
      MINI_AGENT_ALLOWED_ORIGINS: 'https://app.example.com',
    });
  });
  afterAll(() => gw.close());

  it('lists only the tools of a restricted principal and refuses the others as unknown', async () => {
    const { client } = await connect(gw.url, { authorization: `Bearer ${BOB}` });
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['exec_python']);
    await expect(client.callTool({ name: 'exec_shell', arguments: { cmd: 'echo hi' } })).rejects.toMatchObject({
      code: -32602,
      data: { code: 'TOOL_FORBIDDEN' },
    });
    await client.close();
  });

  it('answers a call the admission queue refuses with a JSON-RPC error carrying the code (nothing ran)', async () => {
    const busy = await connect(gw.url, AUTH);
    const long = busy.client.callTool({ name: 'exec_python', arguments: { code: 'import time\ntime.sleep(20)', timeout_s: 30 } });
    long.catch(() => {});
    await new Promise((r) => setTimeout(r, 400));
    const { client } = await connect(gw.url, { authorization: `Bearer ${BOB}` });
    await expect(client.callTool({ name: 'exec_python', arguments: { code: 'print(1)' } })).rejects.toMatchObject({
      code: -32000,
      data: { code: 'QUEUE_FULL', statusCode: 429 },
    });
    await client.close();
    await busy.transport.close();
  });

  it('accepts the origins the operator allowed and IPv6 loopback, and nothing else', async () => {
    const status = async (origin: string) =>
      (await raw(gw.url, { method: 'POST', headers: { ...MCP_HEADERS, ...AUTH, origin }, body: INITIALIZE })).status;
    expect(await status('https://app.example.com')).toBe(200);
    expect(await status('http://[::1]:5173')).toBe(200);
    expect(await status('http://app.example.com')).toBe(403);
    expect(await status('https://app.example.com.evil.example')).toBe(403);
    expect(await status('null')).toBe(403);
  });
});
