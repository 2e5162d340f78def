import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { perplexityTool } from '../../packages/tools/dist/index.js';
import { fakeUpstream, json, type FakeUpstream } from './fake-upstream.js';

const KEY = 'pplx-test-key-5f1e2d3c4b5a';

/** A response as Perplexity's chat completions API shapes it. */
function completion(content: string, extra: Record<string, unknown> = {}) {
  return {
    id: 'b7c1e2a4-0000-4000-8000-000000000001',
    model: 'sonar-pro',
    created: 1_763_900_000,
    object: 'chat.completion',
    usage: { prompt_tokens: 12, completion_tokens: 40, total_tokens: 52, search_context_size: 'low' },
    citations: ['https://nodejs.org/en/blog/release/v22.0.0', 'https://github.com/nodejs/node/releases'],
    search_results: [
      { title: 'Node.js 22 is now available!', url: 'https://nodejs.org/en/blog/release/v22.0.0', date: '2024-04-24' },
      { title: 'Releases · nodejs/node', url: 'https://github.com/nodejs/node/releases', date: null },
    ],
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
    ...extra,
  };
}

const ctx = { principal: 'tester' };

describe('research_perplexity against a fake Perplexity API', () => {
  let up: FakeUpstream;
  beforeAll(async () => {
    up = await fakeUpstream();
  });
  afterAll(() => up.close());

  const tool = (research: Record<string, number> = {}, base?: string) =>
    perplexityTool({ apiKey: KEY, baseUrl: base ?? up.url, model: 'sonar-pro' }, { retryDelayMs: 5, ...research });

  it('posts the query with the Bearer key and model, and returns the answer with the cited sources', async () => {
    up.respond(json(200, completion('Node.js 22 ships require(esm) behind a flag [1][2].')));
    const result = await tool().run({ query: 'What is new in Node.js 22?', max_tokens: 300 }, ctx);

    expect(up.requests).toHaveLength(1);
    const sent = up.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/chat/completions');
    expect(sent.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body).toMatchObject({ model: 'sonar-pro', max_tokens: 300 });
    const messages = (sent.body as { messages: { role: string; content: string }[] }).messages;
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'What is new in Node.js 22?' });

    expect(result.data).toEqual({
      ok: true,
      answer: 'Node.js 22 ships require(esm) behind a flag [1][2].',
      citations: [
        { n: 1, url: 'https://nodejs.org/en/blog/release/v22.0.0', title: 'Node.js 22 is now available!', date: '2024-04-24' },
        { n: 2, url: 'https://github.com/nodejs/node/releases', title: 'Releases · nodejs/node' },
      ],
      model: 'sonar-pro',
      truncated: false,
    });
    expect(result.text).toBe(
      'Node.js 22 ships require(esm) behind a flag [1][2].\n\nSources:\n' +
        '[1] Node.js 22 is now available! — https://nodejs.org/en/blog/release/v22.0.0\n' +
        '[2] Releases · nodejs/node — https://github.com/nodejs/node/releases',
    );
  });

  it('keeps a path prefix of the base URL (a proxy mounted under /v1)', async () => {
    up.respond(json(200, completion('ok')));
    await tool({}, `${up.url}/v1/`).run({ query: 'q' }, ctx);
    expect(up.requests[0]!.path).toBe('/v1/chat/completions');
  });

  it('takes search_results as the sources when citations is absent', async () => {
    up.respond(json(200, completion('Answer [1].', { citations: undefined })));
    const result = await tool().run({ query: 'q' }, ctx);
    expect((result.data as { citations: unknown[] }).citations).toEqual([
      { n: 1, url: 'https://nodejs.org/en/blog/release/v22.0.0', title: 'Node.js 22 is now available!', date: '2024-04-24' },
      { n: 2, url: 'https://github.com/nodejs/node/releases', title: 'Releases · nodejs/node' },
    ]);
  });

  it('reports a refused key (401) at once, without retrying and without echoing the key', async () => {
    up.respond(json(401, { error: { message: `Invalid API key ${KEY}`, type: 'invalid_api_key', code: 401 } }));
    const result = await tool().run({ query: 'q' }, ctx);
    expect(up.requests).toHaveLength(1);
    expect(result.data).toMatchObject({ ok: false, reason: 'unauthorized', upstream_status: 401, retryable: false, attempts: 1 });
    expect(result.text).toMatch(/refused the gateway's API key \(HTTP 401\)/);
    expect(JSON.stringify(result)).not.toContain(KEY);
    expect(JSON.stringify(result)).toContain('[redacted]');
  });

  it('retries 429 and 5xx, then answers', async () => {
    up.respond(json(429, { error: 'slow down' }, { 'retry-after': '0' }), json(503, 'unavailable'), json(200, completion('third time')));
    const result = await tool().run({ query: 'q' }, ctx);
    expect(up.requests).toHaveLength(3);
    expect(up.requests.every((r) => r.authorization === `Bearer ${KEY}`)).toBe(true);
    expect(result.data).toMatchObject({ ok: true, answer: 'third time' });
  });

  it.each([
    [429, 'rate_limited', /rate-limiting the gateway \(HTTP 429\); try again later/],
    [500, 'upstream_error', /failed \(HTTP 500\); try again later/],
  ])('gives up after the retries on %i with a clear, retryable result', async (status, reason, message) => {
    up.respond(json(status, { error: 'nope' }));
    const result = await tool({ retries: 2 }).run({ query: 'q' }, ctx);
    expect(up.requests).toHaveLength(3);
    expect(result.data).toMatchObject({ ok: false, reason, upstream_status: status, retryable: true, attempts: 3 });
    expect(result.text).toMatch(message);
  });

  it('does not wait for a Retry-After beyond its deadline', async () => {
    up.respond(json(429, {}, { 'retry-after': '120' }));
    const started = Date.now();
    const result = await tool({ timeoutS: 5 }).run({ query: 'q' }, ctx);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(up.requests).toHaveLength(1);
    expect(result.data).toMatchObject({ ok: false, reason: 'rate_limited' });
  });

  it('times out an upstream that does not answer', async () => {
    up.respond(() => {});
    const started = Date.now();
    const result = await tool({ timeoutS: 0.3 }).run({ query: 'q' }, ctx);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.data).toMatchObject({ ok: false, reason: 'timeout', retryable: true });
    expect(result.text).toMatch(/did not answer within 0\.3 s/);
  });

  it('stops when the caller goes away', async () => {
    up.respond(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await tool().run({ query: 'q' }, { ...ctx, signal: controller.signal });
    expect(result.data).toMatchObject({ ok: false, reason: 'cancelled' });
  });

  it('caps a long answer to the result size, keeping the sources', async () => {
    up.respond(json(200, completion('x'.repeat(200_000))));
    const result = await tool({ maxResultChars: 5000 }).run({ query: 'q' }, ctx);
    expect(result.text.length).toBeLessThanOrEqual(5000);
    expect(result.text).toMatch(/cut: result too long/);
    expect(result.text).toContain('[2] Releases · nodejs/node — https://github.com/nodejs/node/releases');
    expect(result.data).toMatchObject({ ok: true, truncated: true });
  });

  it('refuses an upstream body larger than it reads (4 MiB)', async () => {
    up.respond(json(200, completion('y'.repeat(5 * 1024 * 1024))));
    const result = await tool().run({ query: 'q' }, ctx);
    expect(result.data).toMatchObject({ ok: false, reason: 'invalid_response' });
    expect(result.text).toMatch(/more than 4194304 bytes/);
  });

  it('reports a body that is not a chat completion', async () => {
    up.respond(json(200, { object: 'error' }));
    const result = await tool().run({ query: 'q' }, ctx);
    expect(result.data).toMatchObject({ ok: false, reason: 'invalid_response' });
  });
});
