import type { FunctionTool, InvokeResult } from './schemas.js';

/** Per-call options shared by every {@link ToolInvoker}. */
export interface InvokeOptions {
  /** Cancels the call; a gateway kills the run when its client goes away. */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds. @default the invoker's own timeout */
  timeoutMs?: number;
  /** Runs in this session's persistent workspace instead of a fresh one. @default none */
  sessionId?: string;
}

/** Per-call options of {@link ToolInvoker.listTools}. */
export interface ListToolsOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * How an agent reaches tools: over HTTP (`HttpToolsInvoker`) or in-process (`LocalToolsInvoker`).
 * Both give the same tool list and the same `{text, data}` results.
 */
export interface ToolInvoker {
  /** The tools this caller may use, as OpenAI function tools sorted by name. */
  listTools(options?: ListToolsOptions): Promise<FunctionTool[]>;
  /** Runs one tool. `args` is a JSON string (as in an OpenAI `tool_call`) or an object. */
  invoke(name: string, args?: string | Record<string, unknown>, options?: InvokeOptions): Promise<InvokeResult>;
}
