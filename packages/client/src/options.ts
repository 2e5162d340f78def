/** Whole-call limit of `listTools` and `invoke`, retries included: above the gateway's largest `timeout_s` (60 s). */
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Further attempts after the first, made only when the gateway certainly ran nothing. */
export const DEFAULT_RETRIES = 2;
/** First backoff step; each retry doubles it, with jitter. */
export const DEFAULT_RETRY_BASE_MS = 250;
/** Longest backoff between two attempts when the gateway sends no `Retry-After`. */
export const MAX_BACKOFF_MS = 8_000;
/** Largest response body read; a gateway answering more is refused (exec output is capped far below). */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** The `fetch` the client calls: the global one, or any with its signature (undici's, a test's). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options of {@link HttpToolsInvoker}. */
export interface HttpToolsInvokerOptions {
  /** Bearer token sent as `Authorization: Bearer <token>`. @default none (a loopback gateway without tokens) */
  token?: string;
  /** Extra headers sent with every request (they cannot replace `authorization`, `content-type` or `x-session-id`). @default {} */
  headers?: Record<string, string>;
  /**
   * Milliseconds one `listTools`/`invoke` may take, retries and backoff included; then the request is
   * cancelled (and the gateway kills the run). A call's own `timeoutMs` replaces it.
   * @default DEFAULT_TIMEOUT_MS (120000)
   */
  timeoutMs?: number;
  /**
   * Further attempts when the gateway certainly ran nothing: `429`/`503` (after `Retry-After`) and
   * connection failures before the request was sent. An invocation that may have run is never re-sent.
   * @default DEFAULT_RETRIES (2)
   */
  retries?: number;
  /** First backoff step in milliseconds (doubled per retry, jittered, at most {@link MAX_BACKOFF_MS}). @default DEFAULT_RETRY_BASE_MS (250) */
  retryBaseMs?: number;
  /** Session whose persistent workspace calls run in (`X-Session-Id`); a call's own `sessionId` replaces it. @default none: a fresh workspace per call */
  sessionId?: string;
  /** Largest response body accepted, in bytes. @default DEFAULT_MAX_RESPONSE_BYTES (8 MiB) */
  maxResponseBytes?: number;
  /**
   * The fetch implementation. Node's global fetch keeps connections alive and reuses them; pass
   * `(url, init) => undiciFetch(url, { ...init, dispatcher })` to use your own undici dispatcher.
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
}

/** The options, validated, with defaults applied. */
export interface ResolvedOptions {
  token: string | undefined;
  headers: Record<string, string>;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  sessionId: string | undefined;
  maxResponseBytes: number;
  fetch: FetchLike;
}

const RESERVED_HEADERS = new Set(['authorization', 'content-type', 'x-session-id', 'content-length', 'host']);

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`Expected the \`${name}\` option to be an integer >= ${min}, got \`${String(value)}\``);
  }
  return value;
}

/**
 * Validates the options and applies defaults.
 * @throws TypeError naming the option and what it expected.
 */
export function resolveOptions(options: HttpToolsInvokerOptions): ResolvedOptions {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new TypeError(`Expected the \`headers\` option not to set \`${name}\`: use the \`token\`/\`sessionId\` options`);
    }
    if (typeof value !== 'string') throw new TypeError(`Expected header \`${name}\` to be a string, got ${typeof value}`);
    headers[name.toLowerCase()] = value;
  }
  if (options.token !== undefined && (typeof options.token !== 'string' || !/^\S+$/.test(options.token))) {
    throw new TypeError('Expected the `token` option to be a non-empty string without spaces');
  }
  const fetchImpl = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchImpl !== 'function') throw new TypeError('No `fetch` available: pass the `fetch` option (Node >= 20 has one)');
  return {
    token: options.token,
    headers,
    timeoutMs: integer('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1),
    retries: integer('retries', options.retries, DEFAULT_RETRIES, 0),
    retryBaseMs: integer('retryBaseMs', options.retryBaseMs, DEFAULT_RETRY_BASE_MS, 0),
    sessionId: options.sessionId,
    maxResponseBytes: integer('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 1024),
    fetch: fetchImpl,
  };
}
