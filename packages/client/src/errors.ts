import type { CallerErrorCode, ErrorCode } from '@mini-agent/protocol';

// A registered symbol is shared by every copy of the package a program ends up loading.
const MARKER = Symbol.for('@mini-agent/client.ToolsHttpError');

/** The gateway's code, one the client gives when no answer carried one, or `HTTP_<status>` for a foreign error body. */
export type ToolsHttpErrorCode = ErrorCode | CallerErrorCode | (string & {});

/** Fields of a {@link ToolsHttpError}. */
export interface ToolsHttpErrorInit {
  url: string;
  code: ToolsHttpErrorCode;
  message: string;
  /** HTTP status, when the gateway answered. */
  statusCode?: number | undefined;
  /** The body the gateway answered, as text, when there was one. */
  responseBody?: string | undefined;
  isRetryable?: boolean;
  cause?: unknown;
}

/**
 * A call that did not give a result: the gateway refused it (`code` is the gateway's, e.g.
 * `TOOL_NOT_FOUND`), or it never got a usable answer (`TIMEOUT`, `ABORTED`, `CONNECTION_FAILED`,
 * `INVALID_RESPONSE`). A tool run that started and failed is a result (`ok: false`), never this.
 */
export class ToolsHttpError extends Error {
  override readonly name = 'ToolsHttpError';
  private readonly [MARKER] = true;
  readonly url: string;
  readonly code: ToolsHttpErrorCode;
  readonly statusCode: number | undefined;
  readonly responseBody: string | undefined;
  /** True when the gateway certainly ran nothing, so the same call may be sent again. */
  readonly isRetryable: boolean;

  constructor(init: ToolsHttpErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.url = init.url;
    this.code = init.code;
    this.statusCode = init.statusCode;
    this.responseBody = init.responseBody;
    this.isRetryable = init.isRetryable ?? false;
  }

  /** True for a `ToolsHttpError` from any copy of this package (`instanceof` fails across duplicates). */
  static isInstance(value: unknown): value is ToolsHttpError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
