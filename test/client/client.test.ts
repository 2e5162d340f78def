import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpToolsInvoker } from '../../packages/client/dist/index.js';
import { forward, refusal, startGateway, startServer, TOKEN, type TestGateway } from './helpers.js';

const BOB_TOKEN = 'tok-bob-9876543210';
const QUEUE_FULL = JSON.stringify({ statusCode: 429, code: 'QUEUE_FULL', error: 'Too Many Requests', message: 'the queue is full' });

describe('HttpToolsInvoker against a real gateway', () => {
  let gateway: TestGateway;
  let client: HttpToolsInvoker;
  beforeAll(async () => {
    gateway = await startGateway({
      MINI_AGENT_BODY_LIMIT_BYTES: String(64 * 1024),
      MINI_AGENT_TOKENS: `alice:${TOKEN},bob:${BOB_TOKEN}`,
      MINI_AGENT_PRINCIPAL_TOOLS: 'bob=exec_python',
    });
    client = new HttpToolsInvoker(gateway.url, { token: TOKEN });
  });
  afterAll(() => gateway.close());

  it('revalidates the tool list with its ETag and reuses it on 304', async () => {
    const before = gateway.responses.length;
    const first = await client.listTools();
    const second = await client.listTools();
    expect(second).toEqual(first);
    const statuses = gateway.responses.slice(before).map((r) => `${r.method} ${r.url} ${r.statusCode}`);
    expect(statuses).toEqual(['GET /tools 200', 'GET /tools 304']);
  });

  it('maps 401 to UNAUTHORIZED with every field set', async () => {
    for (const anonymous of [new HttpToolsInvoker(gateway.url), new HttpToolsInvoker(gateway.url, { token: 'wrong-token' })]) {
      const err = await refusal(anonymous.invoke('exec_python', { code: 'print(1)' }));
      expect(err).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED', url: `${gateway.url}/invoke`, isRetryable: false });
      expect(JSON.parse(err.responseBody!)).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
      expect(err.message).not.toContain('wrong-token');
    }
    expect((await refusal(new HttpToolsInvoker(gateway.url).listTools())).code).toBe('UNAUTHORIZED');
  });

  it('maps 403 TOOL_FORBIDDEN for a tool hidden from this principal', async () => {
    const bob = new HttpToolsInvoker(gateway.url, { token: BOB_TOKEN });
    expect((await bob.listTools()).map((t) => t.function.name)).toEqual(['exec_python']);
    const err = await refusal(bob.invoke('exec_shell', { cmd: 'ls' }));
    expect(err).toMatchObject({ statusCode: 403, code: 'TOOL_FORBIDDEN', isRetryable: false });
  });

  it.each([
    ['403 COMMAND_NOT_ALLOWED', 'exec_shell', { cmd: 'sh -c id' }, {}, 403, 'COMMAND_NOT_ALLOWED'],
    ['404 TOOL_NOT_FOUND', 'exec_nothing', {}, {}, 404, 'TOOL_NOT_FOUND'],
    ['400 INVALID_ARGUMENTS', 'exec_python', { code: 1 }, {}, 400, 'INVALID_ARGUMENTS'],
    ['400 INVALID_BODY', 'exec_python', 42, {}, 400, 'INVALID_BODY'],
    ['400 INVALID_SESSION', 'exec_python', { code: 'print(1)' }, { sessionId: '../etc' }, 400, 'INVALID_SESSION'],
    ['413 PAYLOAD_TOO_LARGE', 'exec_python', { code: `# ${'x'.repeat(100 * 1024)}` }, {}, 413, 'PAYLOAD_TOO_LARGE'],
  ] as const)('maps %s', async (_label, name, args, options, statusCode, code) => {
    const err = await refusal(client.invoke(name, args as never, options));
    expect(err).toMatchObject({ statusCode, code, isRetryable: false });
    expect(err.message.length).toBeGreaterThan(0);
    expect(JSON.parse(err.responseBody!)).toMatchObject({ statusCode, code, message: err.message });
  });

  it('retries after a 429 honouring Retry-After, and the tool runs once', async () => {
    let posts = 0;
    const proxy = await startServer(async (req, body, res) => {
      if (req.method === 'POST' && ++posts === 1) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end(QUEUE_FULL);
        return;
      }
      const answer = await forward(gateway.url, req, body);
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(answer.text);
    });
    try {
      const sessionId = `retry-${Date.now()}`;
      const started = Date.now();
      const result = await new HttpToolsInvoker(proxy.url, { token: TOKEN }).invoke(
        'exec_python',
        { code: 'open("calls.log", "a").write("ran\\n")\nprint(open("calls.log").read().count("ran"))' },
        { sessionId },
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(posts).toBe(2);
      expect(result.data).toMatchObject({ ok: true, stdout: '1\n' });
      const log = await client.invoke('exec_shell', { cmd: 'cat calls.log' }, { sessionId });
      expect(log.data).toMatchObject({ stdout: 'ran\n' });
    } finally {
      await proxy.close();
    }
  });

  it('never re-sends an invocation whose connection failed after it was sent', async () => {
    let posts = 0;
    const proxy = await startServer(async (req, body, res) => {
      posts++;
      await forward(gateway.url, req, body);
      // The gateway ran the call; its answer is lost on the way back.
      res.socket?.destroy();
    });
    try {
      const sessionId = `lost-${Date.now()}`;
      const err = await refusal(
        new HttpToolsInvoker(proxy.url, { token: TOKEN, retries: 5, retryBaseMs: 1 }).invoke(
          'exec_python',
          { code: 'open("calls.log", "a").write("ran\\n")' },
          { sessionId },
        ),
      );
      expect(err).toMatchObject({ code: 'CONNECTION_FAILED', isRetryable: false, statusCode: undefined });
      expect(err.message).toContain('may have run');
      expect(posts).toBe(1);
      const log = await client.invoke('exec_shell', { cmd: 'cat calls.log' }, { sessionId });
      expect(log.data).toMatchObject({ stdout: 'ran\n' });
    } finally {
      await proxy.close();
    }
  });

  it('gives up at once when Retry-After goes past the call timeout', async () => {
    let posts = 0;
    const proxy = await startServer((_req, _body, res) => {
      posts++;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' }).end(QUEUE_FULL);
    });
    try {
      const started = Date.now();
      const err = await refusal(new HttpToolsInvoker(proxy.url, { timeoutMs: 5000 }).invoke('exec_python', { code: 'print(1)' }));
      expect(err).toMatchObject({ statusCode: 429, code: 'QUEUE_FULL', isRetryable: true });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(posts).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('stops waiting to retry when the caller aborts', async () => {
    let posts = 0;
    const proxy = await startServer((_req, _body, res) => {
      posts++;
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' }).end(
        JSON.stringify({ statusCode: 503, code: 'SHUTTING_DOWN', error: 'Service Unavailable', message: 'shutting down' }),
      );
    });
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      const err = await refusal(new HttpToolsInvoker(proxy.url).invoke('exec_python', { code: 'print(1)' }, { signal: controller.signal }));
      expect(err.code).toBe('ABORTED');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(posts).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a gateway answer that does not match the protocol, naming what is wrong', async () => {
    const proxy = await startServer(async (req, body, res) => {
      const answer = await forward(gateway.url, req, body);
      const tampered = { ...JSON.parse(answer.text), error: 'injected' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tampered));
    });
    try {
      const err = await refusal(new HttpToolsInvoker(proxy.url, { token: TOKEN }).invoke('exec_python', { code: 'print(1)' }));
      expect(err).toMatchObject({ code: 'INVALID_RESPONSE', statusCode: 200, isRetryable: false });
      expect(err.message).toContain('unexpected field `error`');
    } finally {
      await proxy.close();
    }
  });
});
