import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpToolsInvoker, ToolsHttpError } from '../dist/index.js';

// A tiny real HTTP server whose next answer each test chooses: a gateway that misbehaves.
type Answer = (res: ServerResponse) => void;
let answer: Answer;
let seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
let baseUrl: string;
const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    answer(res);
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);
beforeEach(() => {
  seen = [];
});

const send = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Answer => (res) =>
  res.writeHead(status, headers).end(body);

async function failure(promise: Promise<unknown>): Promise<ToolsHttpError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ToolsHttpError);
  expect(ToolsHttpError.isInstance(err)).toBe(true);
  return err as ToolsHttpError;
}

describe('a gateway answering garbage', () => {
  it.each([
    ['an HTML page', '<html><body>Welcome to nginx</body></html>', 'a body that is not JSON: <html><body>Welcome to nginx'],
    ['an empty body', '', 'a body that is not JSON: (empty)'],
    ['text that is not a string', '{"text":1,"data":{}}', 'body.text: must be string'],
    ['no data', '{"text":"hi"}', 'body: missing field `data`'],
    ['data as an array', '{"text":"hi","data":[]}', 'body.data: must be object'],
    ['an error key beside the result', '{"text":"hi","data":{},"error":"boom"}', 'body: unexpected field `error`'],
    [
      'exec data of the wrong shape',
      '{"text":"hi","data":{"ok":"yes","rc":0,"signal":null,"stdout":"","stderr":"","timed_out":false,"truncated":false,"duration_ms":1}}',
      'body.data.ok: must be boolean',
    ],
    ['exec data without rc', '{"text":"hi","data":{"ok":true,"signal":null,"stdout":"","stderr":"","timed_out":false,"truncated":false,"duration_ms":1}}', 'body.data: missing field `rc`'],
  ])('invoke refuses %s, naming what was wrong', async (_label, body, expected) => {
    answer = send(200, body);
    const err = await failure(new HttpToolsInvoker(baseUrl).invoke('exec_python', { code: 'print(1)' }));
    expect(err).toMatchObject({ code: 'INVALID_RESPONSE', statusCode: 200, isRetryable: false, responseBody: body, url: `${baseUrl}/invoke` });
    expect(err.message).toContain(expected);
    expect(seen).toHaveLength(1);
  });

  it('listTools refuses anything but an array of function tools', async () => {
    answer = send(200, '{"tools":[]}');
    expect((await failure(new HttpToolsInvoker(baseUrl).listTools())).message).toContain('body: must be array');
    answer = send(200, JSON.stringify([{ type: 'function', function: { name: 'x', description: 'd', parameters: {}, strict: true } }]));
    expect((await failure(new HttpToolsInvoker(baseUrl).listTools())).message).toContain('body[0].function: unexpected field `strict`');
  });

  it('a 304 the client did not ask for is an error, not an empty list', async () => {
    answer = send(304, '', {});
    expect(await failure(new HttpToolsInvoker(baseUrl).listTools())).toMatchObject({ code: 'INVALID_RESPONSE', statusCode: 304 });
  });

  it('maps a foreign error page to HTTP_<status> with an excerpt', async () => {
    answer = send(502, '<html><h1>502 Bad Gateway</h1></html>', { 'content-type': 'text/html' });
    const err = await failure(new HttpToolsInvoker(baseUrl).invoke('exec_python', { code: '1' }));
    expect(err).toMatchObject({ code: 'HTTP_502', statusCode: 502, isRetryable: false });
    expect(err.message).toContain('502 Bad Gateway');
    answer = send(400, '{"error":"bad"}');
    expect(await failure(new HttpToolsInvoker(baseUrl).invoke('exec_python', { code: '1' }))).toMatchObject({ code: 'HTTP_400', statusCode: 400 });
  });

  it('does not follow a redirect (it would re-send the invocation elsewhere)', async () => {
    answer = send(307, '', { location: 'http://127.0.0.1:1/invoke' });
    const err = await failure(new HttpToolsInvoker(baseUrl).invoke('exec_python', { code: '1' }));
    expect(err).toMatchObject({ code: 'HTTP_307', statusCode: 307, isRetryable: false });
    expect(err.message).toContain('redirected to http://127.0.0.1:1/invoke');
    expect(seen).toHaveLength(1);
  });

  it('refuses a body larger than maxResponseBytes, declared or streamed', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(5000), data: {} });
    answer = send(200, big);
    const declared = await failure(new HttpToolsInvoker(baseUrl, { maxResponseBytes: 2048 }).invoke('exec_python', { code: '1' }));
    expect(declared).toMatchObject({ code: 'INVALID_RESPONSE' });
    expect(declared.message).toContain('larger than 2048 bytes');
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 10; i++) res.write('x'.repeat(1000));
      res.end();
    };
    const streamed = await failure(new HttpToolsInvoker(baseUrl, { maxResponseBytes: 2048 }).invoke('exec_python', { code: '1' }));
    expect(streamed.message).toContain('larger than 2048 bytes');
  });
});

describe('what the client sends', () => {
  it('posts {name, arguments} with the token, session, extra headers, under the base path', async () => {
    answer = send(200, '{"text":"t","data":{"ok":true,"rc":0,"signal":null,"stdout":"","stderr":"","timed_out":false,"truncated":false,"duration_ms":1}}');
    const client = new HttpToolsInvoker(`${baseUrl}/gw`, { token: 'abc123', sessionId: 'default-session', headers: { 'X-Trace': 't1' } });
    await expect(client.invoke('exec_shell', '{"cmd":"ls"}')).resolves.toEqual({ text: 't', data: { ok: true, rc: 0, signal: null, stdout: '', stderr: '', timed_out: false, truncated: false, duration_ms: 1 } });
    await client.invoke('exec_python', undefined, { sessionId: 'other' });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/gw/invoke', body: '{"name":"exec_shell","arguments":"{\\"cmd\\":\\"ls\\"}"}' });
    expect(seen[0]!.headers).toMatchObject({
      authorization: 'Bearer abc123',
      'content-type': 'application/json',
      'x-session-id': 'default-session',
      'x-trace': 't1',
    });
    expect(seen[1]).toMatchObject({ body: '{"name":"exec_python"}' });
    expect(seen[1]!.headers['x-session-id']).toBe('other');
  });

  it('isInstance recognises only ToolsHttpErrors', () => {
    expect(ToolsHttpError.isInstance(new ToolsHttpError({ url: 'http://x/', code: 'TIMEOUT', message: 'm' }))).toBe(true);
    expect(ToolsHttpError.isInstance(Object.assign(new Error('m'), { code: 'TIMEOUT', url: 'http://x/' }))).toBe(false);
    expect(ToolsHttpError.isInstance(null)).toBe(false);
  });

  it('rejects unusable options with a TypeError naming them', () => {
    expect(() => new HttpToolsInvoker('ftp://host')).toThrow(/http\(s\) URL/);
    expect(() => new HttpToolsInvoker('not a url')).toThrow(/http\(s\) URL/);
    expect(() => new HttpToolsInvoker('http://user:pw@host')).toThrow(/credentials/);
    expect(() => new HttpToolsInvoker(baseUrl, { retries: -1 })).toThrow('Expected the `retries` option to be an integer >= 0, got `-1`');
    expect(() => new HttpToolsInvoker(baseUrl, { timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new HttpToolsInvoker(baseUrl, { headers: { Authorization: 'x' } })).toThrow(/token/);
    expect(() => new HttpToolsInvoker(baseUrl, { token: 'has space' })).toThrow(/token/);
  });

  it('a header value that cannot be sent is INVALID_REQUEST, before anything is sent', async () => {
    const err = await failure(new HttpToolsInvoker(baseUrl).invoke('exec_python', { code: '1' }, { sessionId: 'bad\nid' }));
    expect(err.code).toBe('INVALID_REQUEST');
    expect(seen).toHaveLength(0);
  });
});
