import type { TSchema } from 'typebox';
import type { InvokeResult } from '@mini-agent/protocol';

/** What a tool knows of the call it serves. */
export interface ToolCallContext {
  /** Who called: the principal named by the bearer token, or `anonymous`. */
  principal: string;
  /** The caller's session, when it sent one; its workspace persists across calls. */
  sessionId?: string | undefined;
  /** Aborts the run: the client went away or the gateway is closing. */
  signal?: AbortSignal | undefined;
  /** Told the byte counts of a run's output, for audit logs and metrics. */
  onOutcome?: ((outcome: { stdoutBytes: number; stderrBytes: number }) => void) | undefined;
}

/** One tool: its OpenAI function description and how it runs. */
export interface ToolDefinition<Args = Record<string, unknown>> {
  name: string;
  description: string;
  /** JSON Schema of the arguments object (TypeBox). Arguments are validated against it before `run`. */
  parameters: TSchema;
  run(args: Args, ctx: ToolCallContext): Promise<InvokeResult>;
}
