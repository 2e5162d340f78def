import { RETRYABLE_CODES } from '@mini-agent/protocol';
import { MAX_BACKOFF_MS } from './options.js';

/** Statuses whose answer says nothing ran: admission refused (429) or the gateway not taking work (503). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * Connect-phase failures: the socket never opened, so no byte of the request left this process.
 * A reset or a close after connecting is not here: the gateway may have started the run.
 */
const PRE_SEND_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The system error code behind a failed fetch (`TypeError('fetch failed', {cause})`), if any. */
export function networkErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // Happy-eyeballs connects to several addresses and reports all their failures together.
    const inner = (current as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      const codes = inner.map(networkErrorCode);
      return codes.every((c) => c !== undefined && PRE_SEND_CODES.has(c)) ? codes[0] : codes.find((c) => c === undefined || !PRE_SEND_CODES.has(c)) ?? 'UNKNOWN';
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when a fetch failed before the request was sent, so re-sending cannot run anything twice. */
export function failedBeforeSend(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && PRE_SEND_CODES.has(code);
}

/**
 * True for an answer that says the gateway ran nothing. With the gateway's error body its `code`
 * decides; a bare 503 may come from a proxy that already forwarded the request (an upstream reset),
 * so only a request that runs nothing (`idempotent`) repeats it.
 */
export function isRetryableAnswer(statusCode: number, code: string | undefined, idempotent = false): boolean {
  if (code !== undefined) return RETRYABLE_CODES.has(code);
  return statusCode === 429 || (idempotent && RETRYABLE_STATUSES.has(statusCode));
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date. Undefined when absent or unusable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only an HTTP-date (it names a weekday and month); Date.parse would also take "-1" as a year.
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Backoff before retry number `attempt` (1 for the first retry): exponential from `baseMs`, capped,
 * with "equal jitter" (half fixed, half random) so many clients refused at once do not return at once.
 */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
