import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { FunctionTool, InvokeOptions, InvokeResult, ToolInvoker } from '@mini-agent/protocol';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { AgentEvent, AgentResult, GuardTrippedEvent, LlmResponseEvent, RunEndEvent, RunStartEvent, ToolEndEvent, ToolStartEvent } from './events.js';
import type { ChatClient } from './llm.js';
import type { AgentOptions } from './options.js';
import { canonicalJson } from './canonical-json.js';
import { BEFORE_MODEL_CALL_DETAIL, runAgentWith } from './run-agent.js';

/** A JSONL transcript being written: one event per line, flushed as it happens. */
export interface TranscriptWriter {
  write(event: AgentEvent): void;
  close(): void;
}

/** Opens (truncates) `path`; each line is written synchronously so a crash keeps what happened. */
export function openTranscript(path: string): TranscriptWriter {
  const fd = openSync(path, 'w', 0o600);
  let open = true;
  return {
    write(event) {
      if (open) writeSync(fd, `${JSON.stringify(event)}\n`);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** The events of a JSONL transcript (a path or its text). */
export function readTranscript(source: string | { text: string }): AgentEvent[] {
  const text = typeof source === 'string' ? readFileSync(source, 'utf8') : source.text;
  return text.split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l) as AgentEvent;
    } catch (err) {
      throw new TypeError(`transcript line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
  });
}

function abortError(): Error {
  return Object.assign(new Error('replay: the recorded run was stopped here'), { name: 'AbortError' });
}

/** Options of {@link replayTranscript}. */
export interface ReplayOptions {
  onEvent?: AgentOptions['onEvent'];
  /** Write the replay's own transcript here. @default none */
  transcript?: string;
}

/**
 * Runs a recorded run again with no network: the model's answers and the tools' results come
 * from the transcript, the loop (guards, repair, pruning) runs for real. A run that was stopped
 * by its deadline or by cancellation stops at the same point. Returns the replay's result, equal
 * to the recorded one except for `durationMs`.
 * @throws TypeError when the transcript has no `run_start`.
 * @throws Error (`replay diverged: …`) when the replayed run calls a tool or arguments the recording did not.
 */
export async function replayTranscript(source: string | { text: string } | AgentEvent[], options: ReplayOptions = {}): Promise<AgentResult> {
  const events = Array.isArray(source) ? source : readTranscript(source);
  const start = events.find((e): e is RunStartEvent => e.type === 'run_start');
  if (start === undefined) throw new TypeError('transcript has no run_start event');
  const end = events.find((e): e is RunEndEvent => e.type === 'run_end');
  const responses: ChatCompletion[] = events.filter((e): e is LlmResponseEvent => e.type === 'llm_response').map((e) => e.response);
  const invocations = pairInvocations(events);

  const cancel = new AbortController();
  const deadline = new AbortController();
  // Where the recording stops early, the replay is stopped the same way at the same point.
  const stopHere = (): Error => {
    if (end?.result.stoppedReason === 'cancelled') cancel.abort(abortError());
    else if (end?.result.stoppedReason === 'budget') deadline.abort(abortError());
    else if (end?.result.stoppedReason === 'error' && end.result.error !== undefined) {
      // The run re-adds its prefix ("model call failed: "), so the replay ends with the same text.
      return new Error(end.result.error.replace(/^(model call failed|listing tools failed): /, ''));
    }
    return abortError();
  };
  // A run cancelled (or out of time) between a tool turn and the next model call: stop at that check.
  const stoppedBeforeModel = events.find((e): e is GuardTrippedEvent =>
    e.type === 'guard_tripped' && e.action === 'stop' && e.detail === BEFORE_MODEL_CALL_DETAIL && (e.guard === 'cancelled' || e.guard === 'deadline'));
  const beforeModelCheck = (iterations: number): void => {
    if (stoppedBeforeModel === undefined || iterations !== stoppedBeforeModel.iteration) return;
    (stoppedBeforeModel.guard === 'cancelled' ? cancel : deadline).abort(abortError());
  };
  const listingFailed = start.tools.length === 0 && end?.result.stoppedReason !== undefined &&
    end.result.error?.startsWith('listing tools failed: ') === true;

  // A replay that asks for something else than the recording is not the same run: it fails.
  let divergence: Error | undefined;
  const diverge = (message: string): Error => {
    divergence ??= new Error(`replay diverged: ${message}`);
    cancel.abort(divergence);
    return divergence;
  };

  const llm: ChatClient = {
    chat: {
      completions: {
        create: async () => {
          const next = responses.shift();
          if (next === undefined) throw stopHere();
          return next;
        },
      },
    },
  };
  const tools: ToolInvoker = {
    listTools: async (): Promise<FunctionTool[]> => {
      if (listingFailed) throw stopHere();
      return start.tools;
    },
    invoke: async (name: string, args?: unknown, _options?: InvokeOptions): Promise<InvokeResult> => {
      const next = invocations.shift();
      if (next !== undefined && (next.start.name !== name || canonicalJson(args ?? {}) !== canonicalJson(next.start.arguments))) {
        throw diverge(`call ${next.start.callId} of turn ${next.start.iteration} was \`${next.start.name}\` ${next.start.arguments} in the recording, ` +
          `\`${name}\` ${JSON.stringify(args ?? {})} in the replay`);
      }
      if (next === undefined || next.end === undefined || next.end.aborted !== undefined) throw stopHere();
      if (next.end.result !== undefined) return next.end.result;
      throw Object.assign(new Error(next.end.error?.message ?? 'replayed error'), { code: next.end.error?.code ?? 'Error' });
    },
  };
  const s = start.settings;
  const result = await runAgentWith(start.messages, {
    llm,
    tools,
    model: s.model,
    temperature: s.temperature,
    toolChoice: s.toolChoice,
    maxIterations: s.maxIterations,
    maxWallclockMs: s.maxWallclockMs,
    maxToolsPerIteration: s.maxToolsPerIteration,
    stagnationWindow: s.stagnationWindow,
    ...(s.toolAllowlist === null ? {} : { toolAllowlist: s.toolAllowlist }),
    toolConcurrency: s.toolConcurrency,
    repair: s.repair,
    researchAfterFailures: s.researchAfterFailures,
    maxResearchHops: s.maxResearchHops,
    researchOnUnsure: s.researchOnUnsure,
    researchToolPrefix: s.researchToolPrefix,
    maxContextChars: s.maxContextChars,
    ...(s.maxContextTokens === null ? {} : { maxContextTokens: s.maxContextTokens }),
    maxToolOutputChars: s.maxToolOutputChars,
    observationChars: s.observationChars,
    llmMaxRetries: s.llmMaxRetries,
    llmRetryBaseMs: s.llmRetryBaseMs,
    llmRetryMaxMs: s.llmRetryMaxMs,
    ...(s.sessionId === null ? {} : { sessionId: s.sessionId }),
    signal: cancel.signal,
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    ...(options.transcript === undefined ? {} : { transcript: options.transcript }),
  }, { deadlineSignal: deadline.signal, beforeModelCheck });
  if (divergence !== undefined) throw divergence;
  return result;
}

/**
 * Each `tool_start` with the `tool_end` that finished it, in event order. Ids alone do not pair
 * them: some servers send the same tool_call id in every turn.
 */
function pairInvocations(events: readonly AgentEvent[]): Array<{ start: ToolStartEvent; end: ToolEndEvent | undefined }> {
  const pairs: Array<{ start: ToolStartEvent; end: ToolEndEvent | undefined }> = [];
  const open = new Map<string, Array<{ start: ToolStartEvent; end: ToolEndEvent | undefined }>>();
  for (const e of events) {
    if (e.type === 'tool_start') {
      const pair = { start: e, end: undefined };
      pairs.push(pair);
      open.set(e.callId, [...(open.get(e.callId) ?? []), pair]);
    } else if (e.type === 'tool_end' && e.invoked) {
      const pair = open.get(e.callId)?.shift();
      if (pair !== undefined) pair.end = e;
    }
  }
  return pairs;
}
