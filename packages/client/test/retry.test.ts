import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, HttpToolsInvoker, MAX_BACKOFF_MS, parseRetryAfter, ToolsHttpError, type FetchLike } from '../dist/index.js';

const DATA = { ok: true, rc: 0, signal: null, stdout: '', stderr: '', timed_out: false, truncated: false, duration_ms: 1 };
const RESULT = JSON.stringify({ text: 'ok', data: DATA });
const QUEUE_FULL = JSON.stringify({ statusCode: 429, code: 'QUEUE_FULL', error: 'Too Many Requests', message: 'queue full' });

const json = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } });

/** A fetch that answers from a script, one entry per call, and records what was sent. */
function scripted(...answers: (Response | Error)[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    const next = answers.shift();
    if (next === undefined) throw new Error('unexpected extra request');
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch, calls };
}

/** What `promise` settles to once fake time has moved `ms` on; throws if it is still pending then. */
async function after<T>(ms: number, promise: Promise<T>): Promise<unknown> {
  let state: { value: unknown } | undefined;
  promise.then(
    (value) => (state = { value }),
    (err: unknown) => (state = { value: err }),
  );
  // Let the client read its answer (real I/O) before fake time moves: it settles or starts a backoff.
  const end = performance.now() + 5000;
  while (state === undefined && vi.getTimerCount() < 2 && performance.now() < end) await new Promise((resolve) => realImmediate(resolve));
  await vi.advanceTimersByTimeAsync(ms);
  if (state === undefined) throw new Error(`still pending after ${ms} ms`);
  return state.value;
}

// Captured before fake timers replace it: reading a response body takes real event-loop turns.
const realImmediate = globalThis.setImmediate;

/**
 * Waits (in real time, at most 5 s) until `n` fake timers are pending: the call's deadline and its
 * backoff sleep. Advancing fake time before the client has read an answer would outrun it.
 */
async function untilTimers(n: number, done: () => boolean = () => false): Promise<void> {
  const end = performance.now() + 5000;
  while (!done() && vi.getTimerCount() < n && performance.now() < end) await new Promise((resolve) => realImmediate(resolve));
}

const networkError = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and ignores junk', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-1')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt with equal jitter, capped', () => {
    expect(backoffDelay(1, 200, () => 0)).toBe(100);
    expect(backoffDelay(1, 200, () => 1)).toBe(200);
    expect(backoffDelay(3, 200, () => 0.5)).toBe(600);
    expect(backoffDelay(30, 200, () => 1)).toBe(MAX_BACKOFF_MS);
    expect(backoffDelay(30, 200, () => 0)).toBe(MAX_BACKOFF_MS / 2);
  });
});

describe('HttpToolsInvoker retries (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits Retry-After after a 429 before the one retry, then returns the result', async () => {
    const { fetch, calls } = scripted(json(429, QUEUE_FULL, { 'retry-after': '5' }), json(200, RESULT));
    const client = new HttpToolsInvoker('http://gateway.test', { fetch });
    const call = client.invoke('exec_python', { code: 'print(1)' });
    await untilTimers(2);
    await vi.advanceTimersByTimeAsync(4_900);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(2);
    await expect(call).resolves.toEqual({ text: 'ok', data: DATA });
    expect(calls[1]!.init.body).toBe(calls[0]!.init.body);
  });

  it('never re-posts an invocation after a bare 503 from something in front of the gateway', async () => {
    // A proxy may answer 503 after it forwarded the request (an upstream reset): the run may have started.
    const { fetch, calls } = scripted(new Response('upstream connect error or disconnect/reset before headers', { status: 503 }));
    const client = new HttpToolsInvoker('http://gateway.test', { fetch, retries: 3 });
    const err = await after(0, client.invoke('exec_python', { code: 'print(1)' }));
    expect(err).toBeInstanceOf(ToolsHttpError);
    expect(err).toMatchObject({ statusCode: 503, code: 'HTTP_503', isRetryable: false });
    expect(calls).toHaveLength(1);
  });

  it('repeats a GET /tools after a bare 503, since listing runs nothing', async () => {
    const tools = JSON.stringify([]);
    const { fetch, calls } = scripted(new Response('busy', { status: 503, headers: { 'retry-after': '1' } }), json(200, tools));
    const client = new HttpToolsInvoker('http://gateway.test', { fetch });
    await expect(after(1_100, client.listTools())).resolves.toEqual([]);
    expect(calls).toHaveLength(2);
  });

  it('backs off with growing jittered delays without Retry-After, and stops after `retries`', async () => {
    const shutting = () => json(503, JSON.stringify({ statusCode: 503, code: 'SHUTTING_DOWN', error: 'Service Unavailable', message: 'bye' }));
    const { fetch, calls } = scripted(shutting(), shutting(), shutting());
    const at: number[] = [];
    const timed: FetchLike = (url, init) => {
      at.push(Date.now());
      return fetch(url, init);
    };
    const client = new HttpToolsInvoker('http://gateway.test', { fetch: timed, retries: 2, retryBaseMs: 1000 });
    let settled: unknown;
    const call = client.invoke('exec_python', { code: 'print(1)' }).then(
      (v) => (settled = v),
      (err: unknown) => (settled = err),
    );
    // Move fake time only to the next pending timer (the backoff sleep), once the client has read
    // each answer, so the gaps between attempts are exactly the delays it chose.
    while (settled === undefined) {
      await untilTimers(2, () => settled !== undefined);
      if (settled !== undefined) break;
      await vi.advanceTimersToNextTimerAsync();
    }
    await call;
    expect(calls).toHaveLength(3);
    const [first, second, third] = at as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(500); // first retry waits 500..1000 ms
    expect(second - first).toBeLessThanOrEqual(1000);
    expect(third - second).toBeGreaterThanOrEqual(1000); // second retry waits 1000..2000 ms
    expect(third - second).toBeLessThanOrEqual(2000);
    const err = settled as ToolsHttpError;
    expect(err).toBeInstanceOf(ToolsHttpError);
    expect(err).toMatchObject({ statusCode: 503, code: 'SHUTTING_DOWN', isRetryable: true, message: 'bye' });
  });

  it('retries a connection refused before sending, but never a POST whose connection broke after', async () => {
    const refused = scripted(networkError('ECONNREFUSED'), json(200, RESULT));
    const call = new HttpToolsInvoker('http://gateway.test', { fetch: refused.fetch }).invoke('exec_python', { code: '1' });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(call).resolves.toMatchObject({ text: 'ok' });
    expect(refused.calls).toHaveLength(2);

    for (const code of ['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']) {
      const reset = scripted(networkError(code), json(200, RESULT));
      const err = await after(60_000, new HttpToolsInvoker('http://gateway.test', { fetch: reset.fetch, retries: 5 }).invoke('exec_python', { code: '1' }));
      expect(err).toMatchObject({ code: 'CONNECTION_FAILED', isRetryable: false });
      expect(reset.calls).toHaveLength(1);
    }
  });

  it('treats happy-eyeballs failures as refused only when every address refused', async () => {
    const all = new TypeError('fetch failed', {
      cause: new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' }), Object.assign(new Error('b'), { code: 'ENETUNREACH' })]),
    });
    const some = new TypeError('fetch failed', {
      cause: new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' }), Object.assign(new Error('b'), { code: 'ECONNRESET' })]),
    });
    const first = scripted(all, json(200, RESULT));
    const ok = new HttpToolsInvoker('http://gateway.test', { fetch: first.fetch }).invoke('exec_python', { code: '1' });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(ok).resolves.toMatchObject({ text: 'ok' });
    const second = scripted(some, json(200, RESULT));
    expect(await after(60_000, new HttpToolsInvoker('http://gateway.test', { fetch: second.fetch }).invoke('exec_python', { code: '1' }))).toMatchObject({
      code: 'CONNECTION_FAILED',
      isRetryable: false,
    });
    expect(second.calls).toHaveLength(1);
  });

  it('retries GET /tools on any connection failure: listing runs nothing', async () => {
    const { fetch, calls } = scripted(networkError('ECONNRESET'), json(200, '[]'));
    const call = new HttpToolsInvoker('http://gateway.test', { fetch }).listTools();
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(call).resolves.toEqual([]);
    expect(calls).toHaveLength(2);
  });

  it('does not retry other refusals (4xx, 500)', async () => {
    for (const [status, code] of [
      [400, 'INVALID_ARGUMENTS'],
      [403, 'COMMAND_NOT_ALLOWED'],
      [500, 'INTERNAL_ERROR'],
    ] as const) {
      const { fetch, calls } = scripted(json(status, JSON.stringify({ statusCode: status, code, error: 'x', message: 'no' })), json(200, RESULT));
      const err = await after(60_000, new HttpToolsInvoker('http://gateway.test', { fetch }).invoke('exec_python', { code: '1' }));
      expect(err).toMatchObject({ statusCode: status, code, isRetryable: false });
      expect(calls).toHaveLength(1);
    }
  });

  it('gives up without waiting when the backoff would pass the deadline', async () => {
    const { fetch, calls } = scripted(json(429, QUEUE_FULL, { 'retry-after': '10' }), json(200, RESULT));
    const err = await after(1, new HttpToolsInvoker('http://gateway.test', { fetch, timeoutMs: 3_000 }).invoke('exec_python', { code: '1' }));
    expect(err).toMatchObject({ code: 'QUEUE_FULL', statusCode: 429, isRetryable: true });
    expect(calls).toHaveLength(1);
  });

  it('times out a call that gets no answer, aborting the request', async () => {
    let seen: AbortSignal | undefined;
    const fetch: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        seen = init.signal ?? undefined;
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const call = new HttpToolsInvoker('http://gateway.test', { fetch, timeoutMs: 2_000 }).invoke('exec_python', { code: '1' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await call).toMatchObject({ code: 'TIMEOUT', url: 'http://gateway.test/invoke', isRetryable: false });
    expect(seen?.aborted).toBe(true);
  });
});
