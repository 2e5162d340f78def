import type { FunctionTool, InvokeResult } from '@mini-agent/protocol';
import type { ChatCompletion, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResolvedSettings } from './options.js';

/** Why a run ended. */
export type StoppedReason = 'success' | 'max_iterations' | 'budget' | 'stagnation' | 'error' | 'cancelled';

/** Token counts summed over every model response of a run. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** What {@link runAgent} returns. `messages` is always a transcript a model API accepts. */
export interface AgentResult {
  finalAnswer: string | null;
  stoppedReason: StoppedReason;
  /** Model turns taken. */
  iterations: number;
  messages: ChatCompletionMessageParam[];
  usage: Usage;
  durationMs: number;
  /** Set when `stoppedReason` is `error` (and for `content_filter`). */
  error?: string;
}

/** The guards that can trip. */
export type GuardName =
  | 'max_iterations'
  | 'deadline'
  | 'cancelled'
  | 'stagnation'
  | 'max_tools_per_iteration'
  | 'tool_allowlist'
  | 'unknown_tool'
  | 'invalid_arguments'
  | 'invalid_tool_call';

interface Base {
  /** Milliseconds since the run started. */
  elapsedMs: number;
}

export interface RunStartEvent extends Base {
  type: 'run_start';
  settings: ResolvedSettings;
  messages: ChatCompletionMessageParam[];
  tools: FunctionTool[];
}
export interface LlmRequestEvent extends Base {
  type: 'llm_request';
  iteration: number;
  attempt: number;
  messageCount: number;
  contextChars: number;
}
export interface LlmRetryEvent extends Base {
  type: 'llm_retry';
  iteration: number;
  attempt: number;
  status: number | null;
  error: string;
  delayMs: number;
}
export interface LlmResponseEvent extends Base {
  type: 'llm_response';
  iteration: number;
  attempt: number;
  latencyMs: number;
  finishReason: string;
  usage: Usage;
  response: ChatCompletion;
}
export interface ToolStartEvent extends Base {
  type: 'tool_start';
  iteration: number;
  callId: string;
  name: string;
  arguments: string;
}
export interface ToolEndEvent extends Base {
  type: 'tool_end';
  iteration: number;
  callId: string;
  name: string;
  /** False for a failed run, a refused call, a skipped call. */
  ok: boolean;
  /** Whether the invoker was called (false for skipped or refused calls). */
  invoked: boolean;
  durationMs: number;
  /** The tool message the model reads. */
  content: string;
  result?: InvokeResult;
  error?: { code: string; message: string };
  /** Set when the call never ran: which guard answered it. */
  skipped?: GuardName;
  /** Set when the deadline or cancellation aborted the call in flight. */
  aborted?: 'deadline' | 'cancelled';
}
export interface GuardTrippedEvent extends Base {
  type: 'guard_tripped';
  iteration: number;
  guard: GuardName;
  action: 'stop' | 'skip' | 'directive' | 'observation';
  detail: string;
}
export interface RepairInjectedEvent extends Base {
  type: 'repair_injected';
  iteration: number;
  kind: 'repair' | 'research' | 'stagnation' | 'unsure';
  message: string;
}
export interface ContextPrunedEvent extends Base {
  type: 'context_pruned';
  iteration: number;
  removedMessages: number;
  beforeChars: number;
  afterChars: number;
  overBudget: boolean;
}
export interface RunEndEvent extends Base {
  type: 'run_end';
  result: AgentResult;
}

/** Everything `onEvent` receives, and every line of a JSONL transcript. */
export type AgentEvent =
  | RunStartEvent
  | LlmRequestEvent
  | LlmRetryEvent
  | LlmResponseEvent
  | ToolStartEvent
  | ToolEndEvent
  | GuardTrippedEvent
  | RepairInjectedEvent
  | ContextPrunedEvent
  | RunEndEvent;
