import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { isRetryable, looksUnsure, resolveSettings, retryDelayMs } from '../dist/index.js';

const policy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 20_000 };
const apiError = (status: number, headers: Record<string, string> = {}) =>
  OpenAI.APIError.generate(status, { error: { message: 'x' } }, 'x', new Headers(headers));

describe('retry policy', () => {
  it('retries 408/409/429/5xx and connection errors, never an abort or a 400', () => {
    for (const s of [408, 409, 429, 500, 502, 503]) expect(isRetryable(apiError(s)), String(s)).toBe(true);
    for (const s of [400, 401, 403, 404, 422]) expect(isRetryable(apiError(s)), String(s)).toBe(false);
    expect(isRetryable(new OpenAI.APIConnectionError({ message: 'reset' }))).toBe(true);
    expect(isRetryable(new OpenAI.APIUserAbortError())).toBe(false);
  });

  it('honours retry-after-ms, retry-after seconds and dates, capped; else jittered exponential backoff', () => {
    expect(retryDelayMs(apiError(429, { 'retry-after-ms': '250' }), 1, policy)).toBe(250);
    expect(retryDelayMs(apiError(429, { 'retry-after': '3' }), 1, policy)).toBe(3_000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryDelayMs(apiError(503, { 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }), 1, policy, now)).toBe(5_000);
    // A server asking for more than the cap is not retried early: null means give up.
    expect(retryDelayMs(apiError(429, { 'retry-after': '3600' }), 1, policy)).toBeNull();
    expect(retryDelayMs(apiError(429, { 'retry-after-ms': '20001' }), 1, policy)).toBeNull();
    expect(retryDelayMs(apiError(429, { 'retry-after': '20' }), 1, policy)).toBe(20_000);
    expect(retryDelayMs(apiError(500), 1, policy, now, () => 0)).toBe(250);
    expect(retryDelayMs(apiError(500), 3, policy, now, () => 1)).toBe(2_000);
    expect(retryDelayMs(apiError(500), 20, policy, now, () => 1)).toBe(20_000);
  });
});

describe('looksUnsure', () => {
  it.each(["I'm not sure.", 'I am uncertain about this', "I don't know", 'I cannot determine the value', 'not entirely sure'])('%s', (t) =>
    expect(looksUnsure(t)).toBe(true));
  it.each(['The answer is 42.', 'Sure, here it is.', 'I know the answer: 7', null])('%s is not unsure', (t) => expect(looksUnsure(t)).toBe(false));
});

describe('resolveSettings', () => {
  it('applies the documented defaults', () => {
    expect(resolveSettings({ llm: { baseURL: 'http://x', apiKey: 'k' }, model: 'm' })).toMatchObject({
      maxIterations: 8, maxWallclockMs: 60_000, maxToolsPerIteration: 4, stagnationWindow: 3, toolConcurrency: 1,
      temperature: 0.2, repair: true, researchOnUnsure: true, maxResearchHops: 2, researchAfterFailures: 2, toolAllowlist: null,
    });
  });
  it('names the option it refuses', () => {
    const base = { llm: { baseURL: 'http://x', apiKey: 'k' }, model: 'm' };
    expect(() => resolveSettings({ ...base, maxIterations: 0 })).toThrow('Expected the `maxIterations` option to be an integer >= 1, got 0');
    expect(() => resolveSettings({ ...base, model: '' })).toThrow('`model`');
    expect(() => resolveSettings({ ...base, toolConcurrency: 1.5 })).toThrow('`toolConcurrency`');
    expect(() => resolveSettings({ ...base, temperature: 5 })).toThrow('`temperature`');
  });
});
