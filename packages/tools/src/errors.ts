import { ERROR_CODES, type ErrorCode } from '@mini-agent/protocol';

/**
 * A call the tools refused before anything ran (bad arguments, command not allowed, unknown tool).
 * The gateway answers it with `statusCode` and `code`; a run that started and failed is never one.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.statusCode = ERROR_CODES[code];
  }
}
