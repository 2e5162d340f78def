import { setTimeout as sleep } from 'node:timers/promises';

/** Why an upstream call gave no usable answer. */
export type UpstreamFailure =
  | 'unauthorized'
  | 'rate_limited'
  | 'upstream_error'
  | 'bad_request'
  | 'timeout'
  | 'network'
  | 'invalid_response'
  | 'cancelled';

const RETRYABLE: ReadonlySet<UpstreamFailure> = new Set(['rate_limited', 'upstream_error', 'network']);

/** An upstream API call that failed; its message is safe to show a model (no key, no headers). */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly service: string;
  readonly reason: UpstreamFailure;
  /** The upstream's HTTP status, when it answered. */
  readonly status: number | undefined;
  /** How many requests were sent. */
  attempts = 1;

  constructor(service: string, reason: UpstreamFailure, message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.service = service;
    this.reason = reason;
    this.status = status;
  }

  /** Whether asking again later may succeed. */
  get retryable(): boolean {
    return RETRYABLE.has(this.reason) || this.reason === 'timeout';
  }
}

/** How one upstream call is bounded. */
export interface HttpPolicy {
  /** Deadline of the whole call, retries and pauses included. */
  timeoutMs: number;
  /** Further attempts after a 429, a 5xx or a network error. */
  retries: number;
  /** First pause before a retry; doubled each time unless the upstream sends `Retry-After`. */
  retryDelayMs: number;
  /** Largest response body read; a larger one is an `invalid_response`. */
  maxResponseBytes: number;
}

export interface UpstreamRequest {
  /** Names the upstream in messages, e.g. `Perplexity`. */
  service: string;
  url: URL;
  method: 'GET' | 'POST';
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string | undefined;
  /** Sent as JSON. */
  body?: unknown;
}

const ERROR_EXCERPT_BYTES = 512;

/**
 * Sends `req` and returns the parsed JSON body. Retries 429, 5xx and network errors with
 * exponential backoff (or the upstream's `Retry-After`) while the deadline allows.
 * @throws UpstreamError with a message meant for the model: what failed and whether to retry.
 */
export async function requestJson(req: UpstreamRequest, policy: HttpPolicy, signal?: AbortSignal): Promise<unknown> {
  const started = Date.now();
  const deadline = AbortSignal.timeout(policy.timeoutMs);
  const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (req.apiKey !== undefined) headers.authorization = `Bearer ${req.apiKey}`;
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  const ended = () =>
    signal?.aborted
      ? new UpstreamError(req.service, 'cancelled', `${req.service} request cancelled`)
      : new UpstreamError(req.service, 'timeout', `${req.service} did not answer within ${policy.timeoutMs / 1000} s`);

  for (let attempt = 1; ; attempt++) {
    let failure: UpstreamError;
    let retryAfterMs: number | undefined;
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: combined,
      });
      if (res.ok) {
        const text = await readText(res, policy.maxResponseBytes, false);
        if (text === undefined) {
          throw new UpstreamError(req.service, 'invalid_response', `${req.service} answered with more than ${policy.maxResponseBytes} bytes`, res.status);
        }
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new UpstreamError(req.service, 'invalid_response', `${req.service} answered HTTP ${res.status} with a body that is not JSON`, res.status);
        }
      }
      const excerpt = redact((await readText(res, ERROR_EXCERPT_BYTES, true)) ?? '', req.apiKey);
      failure = statusFailure(req.service, res.status, excerpt);
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    } catch (err) {
      if (err instanceof UpstreamError) throw Object.assign(err, { attempts: attempt });
      if (combined.aborted) throw Object.assign(ended(), { attempts: attempt });
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      failure = new UpstreamError(
        req.service,
        'network',
        `could not reach ${req.service} at ${req.url.origin} (${cause?.code ?? cause?.message ?? (err as Error).message})`,
        undefined,
        { cause: err },
      );
    }
    failure.attempts = attempt;
    if (!RETRYABLE.has(failure.reason) || attempt > policy.retries) throw failure;
    const delay = retryAfterMs ?? policy.retryDelayMs * 2 ** (attempt - 1);
    // A pause that would outlast the deadline cannot lead to an answer: report the failure now.
    if (Date.now() - started + delay >= policy.timeoutMs) throw failure;
    try {
      await sleep(delay, undefined, { signal: combined });
    } catch {
      throw Object.assign(ended(), { attempts: attempt });
    }
  }
}

function statusFailure(service: string, status: number, excerpt: string): UpstreamError {
  const detail = excerpt === '' ? '' : `: ${excerpt}`;
  if (status === 401 || status === 403) {
    return new UpstreamError(service, 'unauthorized', `${service} refused the gateway's API key (HTTP ${status}); the operator must fix it${detail}`, status);
  }
  if (status === 429) {
    return new UpstreamError(service, 'rate_limited', `${service} is rate-limiting the gateway (HTTP 429); try again later${detail}`, status);
  }
  if (status >= 500) {
    return new UpstreamError(service, 'upstream_error', `${service} failed (HTTP ${status}); try again later${detail}`, status);
  }
  return new UpstreamError(service, 'bad_request', `${service} rejected the request (HTTP ${status})${detail}`, status);
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The body as text, reading at most `limit` bytes: beyond it, undefined, or the cut text when
 * `truncate` (error excerpts). Never buffers more than the limit.
 */
async function readText(res: Response, limit: number, truncate: boolean): Promise<string | undefined> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      chunks.push(value);
      if (size > limit) {
        if (!truncate) return undefined;
        break;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const text = Buffer.concat(chunks).subarray(0, limit).toString('utf8');
  return truncate ? text.replace(/\s+/g, ' ').trim() : text;
}

/** Upstream error bodies sometimes echo the request; the key must not travel on to a model. */
function redact(text: string, secret: string | undefined): string {
  return secret === undefined || secret === '' ? text : text.replaceAll(secret, '[redacted]');
}

/** Cuts `text` to `max` characters, saying so. */
export function clip(text: string, max: number): { text: string; clipped: boolean } {
  if (text.length <= max) return { text, clipped: false };
  const marker = '\n[… cut: result too long]';
  return { text: text.slice(0, Math.max(0, max - marker.length)) + marker, clipped: true };
}
