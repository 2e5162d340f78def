import type { FunctionTool, InvokeOptions, InvokeResult, ListToolsOptions, ToolInvoker } from '@mini-agent/protocol';
import { SESSION_ID_PATTERN } from '@mini-agent/protocol';
import type { ToolsOptions } from './config.js';
import { ToolError } from './errors.js';
import { createToolRuntime, type ToolRuntime } from './runtime.js';

/**
 * Options of {@link LocalToolsInvoker}: the tools' own options (`sandbox` defaults to `'auto'`, as
 * in the gateway) plus who the calls run as.
 */
export interface LocalToolsInvokerOptions extends ToolsOptions {
  /** Principal the calls run as (sessions are per principal). @default 'local' */
  principal?: string;
  /** Session used when a call names none. @default none: a fresh workspace per call */
  sessionId?: string;
  /** Milliseconds a call may take before its run is killed; a call's own `timeoutMs` replaces it. @default none: only the tool's own `timeout_s` applies */
  timeoutMs?: number;
}

/**
 * A call cancelled by its caller (`ABORTED`) or its `timeoutMs` (`TIMEOUT`). The run was killed and
 * its partial result dropped, as `HttpToolsInvoker` does; both name these codes the same way.
 */
export class InvocationCancelledError extends Error {
  override readonly name = 'InvocationCancelledError';
  readonly code: 'ABORTED' | 'TIMEOUT';
  /** Nothing can be said about what ran, as with a cancelled HTTP call. */
  readonly isRetryable = false;

  constructor(code: 'ABORTED' | 'TIMEOUT', message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * The gateway's tools in-process, behind the same {@link ToolInvoker} interface as
 * `HttpToolsInvoker`: the same sandbox, the same validation, the same `{text, data}` results.
 * Refusals throw {@link ToolError} with the code the gateway would answer; a cancelled call throws
 * {@link InvocationCancelledError} (`ABORTED`/`TIMEOUT`), the codes the HTTP client uses.
 */
export class LocalToolsInvoker implements ToolInvoker {
  readonly #options: LocalToolsInvokerOptions;
  #runtime: Promise<ToolRuntime> | undefined;

  constructor(options: LocalToolsInvokerOptions = {}) {
    if (options.timeoutMs !== undefined) positive(options.timeoutMs);
    this.#options = options;
  }

  #ready(): Promise<ToolRuntime> {
    // The gateway's default: isolate with bubblewrap when it can run here, so local and remote calls match.
    this.#runtime ??= createToolRuntime({ ...this.#options, sandbox: this.#options.sandbox ?? 'auto' });
    return this.#runtime;
  }

  async listTools(_options?: ListToolsOptions): Promise<FunctionTool[]> {
    // Copies, as a client would get: a caller editing its list must not change the registry's.
    return structuredClone((await this.#ready()).registry.list());
  }

  async invoke(name: string, args?: string | Record<string, unknown>, options: InvokeOptions = {}): Promise<InvokeResult> {
    const sessionId = options.sessionId ?? this.#options.sessionId;
    if (sessionId !== undefined && !SESSION_ID_PATTERN.test(sessionId)) {
      throw new ToolError('INVALID_SESSION', 'X-Session-Id must match [A-Za-z0-9_-]{1,64}');
    }
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    if (timeoutMs !== undefined) positive(timeoutMs);
    const runtime = await this.#ready();
    const controller = new AbortController();
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    const onAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const cancelled = () =>
      options.signal?.aborted
        ? new InvocationCancelledError('ABORTED', `${name} was aborted`, { cause: options.signal.reason })
        : new InvocationCancelledError('TIMEOUT', `${name} timed out after ${String(timeoutMs)} ms`, { cause: controller.signal.reason });
    try {
      if (controller.signal.aborted) throw cancelled();
      const result = await runtime.registry.invoke(name, args, {
        principal: this.#options.principal ?? 'local',
        sessionId,
        signal: controller.signal,
      });
      // The run was killed part-way: its result is not an answer, as over HTTP where it never arrives.
      if (controller.signal.aborted) throw cancelled();
      return result;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Removes this invoker's workspaces. */
  async close(): Promise<void> {
    if (this.#runtime !== undefined) await (await this.#runtime).close();
  }
}

function positive(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`Expected \`timeoutMs\` to be a positive number, got \`${String(timeoutMs)}\``);
  }
}
