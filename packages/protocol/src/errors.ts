/** Every error `code` the gateway answers with, and its HTTP status. */
export const ERROR_CODES = {
  INVALID_BODY: 400,
  INVALID_ARGUMENTS: 400,
  INVALID_SESSION: 400,
  UNAUTHORIZED: 401,
  TOOL_FORBIDDEN: 403,
  COMMAND_NOT_ALLOWED: 403,
  TOOL_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  SESSION_OVER_QUOTA: 409,
  PAYLOAD_TOO_LARGE: 413,
  QUEUE_FULL: 429,
  QUEUE_TIMEOUT: 429,
  RATE_LIMITED: 429,
  SHUTTING_DOWN: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes whose request certainly ran nothing, so repeating it is safe. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['QUEUE_FULL', 'QUEUE_TIMEOUT', 'RATE_LIMITED', 'SHUTTING_DOWN']);

/**
 * Codes an invoker gives a call that ended on the caller's side, with no gateway answer to carry a
 * code: both `HttpToolsInvoker` and `LocalToolsInvoker` use them, so callers handle one set.
 */
export const CALLER_ERROR_CODES = ['ABORTED', 'TIMEOUT', 'CONNECTION_FAILED', 'INVALID_RESPONSE', 'INVALID_REQUEST'] as const;
export type CallerErrorCode = (typeof CALLER_ERROR_CODES)[number];
