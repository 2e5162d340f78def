import type { InvokeResult } from '@mini-agent/protocol';
import type { HttpPolicy } from './http.js';
import { UpstreamError } from './http.js';
import { DEFAULT_RESEARCH_MAX_RESULT_CHARS, DEFAULT_RESEARCH_RETRIES, DEFAULT_RESEARCH_RETRY_DELAY_MS, DEFAULT_RESEARCH_TIMEOUT_S, MAX_UPSTREAM_RESPONSE_BYTES, type ResearchOptions } from './options.js';

/**
 * A research call that reached no answer, as a result the model reads (`ok: false`), like a
 * failed run: the upstream's status, why, and whether trying again later can help.
 */
export function failureResult(err: UpstreamError): InvokeResult {
  const data = {
    ok: false,
    reason: err.reason,
    upstream_status: err.status ?? null,
    retryable: err.retryable,
    attempts: err.attempts,
    message: err.message,
  };
  return { text: JSON.stringify({ ok: false, reason: err.reason, message: err.message }), data };
}

/** Runs `task`, turning an upstream failure into a result; anything else is a bug and is thrown. */
export async function orFailure(task: () => Promise<InvokeResult>): Promise<InvokeResult> {
  try {
    return await task();
  } catch (err) {
    if (err instanceof UpstreamError) return failureResult(err);
    throw err;
  }
}

/** The bounds of every upstream call, from the options and their defaults. */
export function httpPolicy(options: ResearchOptions): HttpPolicy & { maxResultChars: number } {
  return {
    timeoutMs: (options.timeoutS ?? DEFAULT_RESEARCH_TIMEOUT_S) * 1000,
    retries: options.retries ?? DEFAULT_RESEARCH_RETRIES,
    retryDelayMs: options.retryDelayMs ?? DEFAULT_RESEARCH_RETRY_DELAY_MS,
    maxResponseBytes: MAX_UPSTREAM_RESPONSE_BYTES,
    maxResultChars: options.maxResultChars ?? DEFAULT_RESEARCH_MAX_RESULT_CHARS,
  };
}

/** `base` joined with `path`, keeping any path prefix the base has (a proxy's `/v1`). */
export function endpoint(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return url;
}
