import type { FunctionTool, InvokeOptions, InvokeResult, ListToolsOptions, ToolInvoker } from '@mini-agent/protocol';
import { SESSION_ID_PATTERN } from '@mini-agent/protocol';
import type { ToolsOptions } from './config.js';
import { ToolError } from './errors.js';
import { createToolRuntime, type ToolRuntime } from './runtime.js';

/** Options of {@link LocalToolsInvoker}: the tools' own options plus who the calls run as. */
export interface LocalToolsInvokerOptions extends ToolsOptions {
  /** Principal the calls run as (sessions are per principal). @default 'local' */
  principal?: string;
  /** Session used when a call names none. @default none: a fresh workspace per call */
  sessionId?: string;
}

/**
 * The gateway's tools in-process, behind the same {@link ToolInvoker} interface as
 * `HttpToolsInvoker`: the same sandbox, the same validation, the same `{text, data}` results.
 * Refusals throw {@link ToolError} with the code the gateway would answer.
 */
export class LocalToolsInvoker implements ToolInvoker {
  readonly #options: LocalToolsInvokerOptions;
  #runtime: Promise<ToolRuntime> | undefined;

  constructor(options: LocalToolsInvokerOptions = {}) {
    this.#options = options;
  }

  #ready(): Promise<ToolRuntime> {
    this.#runtime ??= createToolRuntime(this.#options);
    return this.#runtime;
  }

  async listTools(_options?: ListToolsOptions): Promise<FunctionTool[]> {
    return (await this.#ready()).registry.list();
  }

  async invoke(name: string, args?: string | Record<string, unknown>, options: InvokeOptions = {}): Promise<InvokeResult> {
    const sessionId = options.sessionId ?? this.#options.sessionId;
    if (sessionId !== undefined && !SESSION_ID_PATTERN.test(sessionId)) {
      throw new ToolError('INVALID_SESSION', 'sessionId must match [A-Za-z0-9_-]{1,64}');
    }
    const runtime = await this.#ready();
    const signals = [options.signal, options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs)];
    const present = signals.filter((s): s is AbortSignal => s !== undefined);
    return runtime.registry.invoke(name, args, {
      principal: this.#options.principal ?? 'local',
      sessionId,
      signal: present.length === 0 ? undefined : AbortSignal.any(present),
    });
  }

  /** Removes this invoker's workspaces. */
  async close(): Promise<void> {
    if (this.#runtime !== undefined) await (await this.#runtime).close();
  }
}
