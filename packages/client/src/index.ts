export { HttpToolsInvoker } from './http-invoker.js';
export { ToolsHttpError, type ToolsHttpErrorCode, type ToolsHttpErrorInit } from './errors.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_BASE_MS,
  DEFAULT_TIMEOUT_MS,
  MAX_BACKOFF_MS,
  type FetchLike,
  type HttpToolsInvokerOptions,
} from './options.js';
export { backoffDelay, parseRetryAfter } from './retry.js';
export type { FunctionTool, InvokeOptions, InvokeResult, ListToolsOptions, ToolInvoker } from '@mini-agent/protocol';
