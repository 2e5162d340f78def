import type { FunctionTool } from '@mini-agent/protocol';
import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { pruneContext, transcriptProblems } from './context.js';
import type { AgentEvent, AgentResult, StoppedReason, Usage } from './events.js';
import { createCompletion, toChatClient } from './llm.js';
import { resolveSettings, type AgentOptions } from './options.js';
import { looksUnsure, repairDirective, researchDirective } from './repair.js';
import { StagnationDetector, stagnationDirective } from './stagnation.js';
import { abortReason, BEFORE_LLM_CALL, firstStop, type LoopState } from './stop-conditions.js';
import { normalizeToolCalls, runToolCalls } from './tool-calls.js';
import { openTranscript } from './transcript.js';

type EmitInput = AgentEvent extends infer E ? (E extends AgentEvent ? Omit<E, 'elapsedMs'> : never) : never;

/** `detail` of the guard_tripped event of a stop at the check before a model call (replay looks for it). */
export const BEFORE_MODEL_CALL_DETAIL = 'before a model call';

/** Hooks for replay: a deadline it controls instead of the wall clock. Not public API. */
export interface RunInternals {
  deadlineSignal?: AbortSignal;
  /** Called just before the guards are checked ahead of a model call, with the turns taken so far. */
  beforeModelCheck?(iterations: number): void;
}

/**
 * Runs the model → tool → observation → repair loop until the model answers or a guard stops it.
 * Never throws for what happens during the run (a failing model API ends it with `error`); throws
 * `TypeError` for unusable options or an invalid input transcript.
 */
export function runAgent(messages: readonly ChatCompletionMessageParam[], options: AgentOptions): Promise<AgentResult> {
  return runAgentWith(messages, options, {});
}

export async function runAgentWith(
  input: readonly ChatCompletionMessageParam[],
  options: AgentOptions,
  internals: RunInternals,
): Promise<AgentResult> {
  const settings = resolveSettings(options);
  if (!Array.isArray(input) || input.length === 0) throw new TypeError('Expected `messages` to be a non-empty array');
  const problems = transcriptProblems(input);
  if (problems.length > 0) throw new TypeError(`Invalid messages: ${problems.join('; ')}`);
  const client = toChatClient(options.llm);
  const t0 = performance.now();
  const transcript = options.transcript === undefined ? undefined : openTranscript(options.transcript);
  let started = false;
  let ended = false;
  let transcriptOk = true;
  let onEventFailed = false;
  const emit = (event: EmitInput): void => {
    if (event.type === 'run_start') started = true;
    if (event.type === 'run_end') ended = true;
    const full = { ...event, elapsedMs: Math.round(performance.now() - t0) } as AgentEvent;
    // Observers must not change the run: a full disk or a display bug is reported once and ignored.
    if (transcript !== undefined && transcriptOk) {
      try {
        transcript.write(full);
      } catch (err) {
        transcriptOk = false;
        process.emitWarning(`the transcript could not be written, it stops here: ${(err as Error).message}`, 'MiniAgentWarning');
      }
    }
    try {
      options.onEvent?.(full);
    } catch (err) {
      if (!onEventFailed) process.emitWarning(`onEvent threw; its errors are ignored: ${(err as Error)?.message ?? String(err)}`, 'MiniAgentWarning');
      onEventFailed = true;
    }
  };

  const deadlineSignal = internals.deadlineSignal ?? AbortSignal.timeout(settings.maxWallclockMs);
  const deadlineAt = Date.now() + settings.maxWallclockMs;
  const signal = options.signal === undefined ? deadlineSignal : AbortSignal.any([options.signal, deadlineSignal]);
  const state: LoopState = { iterations: 0, maxIterations: settings.maxIterations, cancelSignal: options.signal, deadlineSignal };
  const history: ChatCompletionMessageParam[] = structuredClone([...input]);
  const usage: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

  const finish = (stoppedReason: StoppedReason, finalAnswer: string | null, error?: string): AgentResult => {
    const result: AgentResult = {
      finalAnswer, stoppedReason, iterations: state.iterations, messages: history, usage,
      durationMs: Math.round(performance.now() - t0), ...(error === undefined ? {} : { error }),
    };
    emit({ type: 'run_end', result });
    return result;
  };

  try {
    let tools: FunctionTool[] = [];
    if (options.tools !== undefined) {
      try {
        tools = await options.tools.listTools({ signal });
      } catch (err) {
        emit({ type: 'run_start', settings, messages: structuredClone(history), tools: [] });
        return finish(abortReason(state) ?? 'error', null, `listing tools failed: ${(err as Error).message}`);
      }
    }
    const known = new Set(tools.map((t) => t.function.name));
    const allowList = settings.toolAllowlist;
    const offered = allowList === null ? tools : tools.filter((t) => allowList.includes(t.function.name));
    const allowed = new Set(offered.map((t) => t.function.name));
    const researchTools = [...allowed].filter((n) => n.startsWith(settings.researchToolPrefix));
    emit({ type: 'run_start', settings, messages: structuredClone(history), tools });

    const stagnation = new StagnationDetector(settings.stagnationWindow);
    let stagnationWarned = false;
    let failuresInARow = 0;
    let researchHops = 0;
    const budgetChars = Math.min(settings.maxContextChars, settings.maxContextTokens === null ? Infinity : settings.maxContextTokens * 4);
    const directive = (kind: 'repair' | 'research' | 'stagnation' | 'unsure', content: string): void => {
      history.push({ role: 'user', content });
      emit({ type: 'repair_injected', iteration: state.iterations, kind, message: content });
    };

    for (;;) {
      internals.beforeModelCheck?.(state.iterations);
      const stop = firstStop(BEFORE_LLM_CALL, state);
      if (stop !== undefined) {
        const guard = stop === 'budget' ? 'deadline' : stop === 'cancelled' ? 'cancelled' : 'max_iterations';
        emit({ type: 'guard_tripped', iteration: state.iterations, guard, action: 'stop', detail: BEFORE_MODEL_CALL_DETAIL });
        return finish(stop, null);
      }
      state.iterations += 1;
      const iteration = state.iterations;

      const view = pruneContext(history, budgetChars);
      if (view.removed > 0 || view.overBudget) {
        emit({
          type: 'context_pruned', iteration, removedMessages: view.removed, beforeChars: view.beforeChars,
          afterChars: view.afterChars, overBudget: view.overBudget,
        });
      }
      const body: ChatCompletionCreateParamsNonStreaming = { model: settings.model, messages: view.messages, temperature: settings.temperature };
      if (offered.length > 0) {
        body.tools = offered;
        body.tool_choice = settings.toolChoice;
      }

      let completion;
      try {
        completion = await createCompletion(client, body, {
          signal,
          deadlineAt,
          policy: { maxRetries: settings.llmMaxRetries, baseDelayMs: settings.llmRetryBaseMs, maxDelayMs: settings.llmRetryMaxMs },
          onAttempt: (attempt) => emit({
            type: 'llm_request', iteration, attempt, messageCount: view.messages.length,
            contextChars: view.afterChars,
          }),
          onRetry: (info) => emit({ type: 'llm_retry', iteration, ...info }),
        });
      } catch (err) {
        const aborted = abortReason(state);
        if (aborted !== undefined) {
          emit({ type: 'guard_tripped', iteration, guard: aborted === 'budget' ? 'deadline' : 'cancelled', action: 'stop', detail: 'during a model call' });
          return finish(aborted, null);
        }
        return finish('error', null, `model call failed: ${(err as Error).message}`);
      }

      const { response } = completion;
      const u = response.usage;
      const turnUsage: Usage = { promptTokens: u?.prompt_tokens ?? 0, completionTokens: u?.completion_tokens ?? 0, totalTokens: u?.total_tokens ?? 0 };
      usage.promptTokens += turnUsage.promptTokens;
      usage.completionTokens += turnUsage.completionTokens;
      usage.totalTokens += turnUsage.totalTokens;
      const choice = response.choices?.[0];
      const finishReason = String(choice?.finish_reason ?? 'unknown');
      emit({ type: 'llm_response', iteration, attempt: completion.attempt, latencyMs: completion.latencyMs, finishReason, usage: turnUsage, response });
      if (choice === undefined) return finish('error', null, 'the model returned no choices');
      // Compatible servers are not always conforming: what cannot be read ends the run, never throws.
      const message: unknown = choice === null ? undefined : choice.message;
      if (typeof message !== 'object' || message === null) return finish('error', null, 'the model returned a choice without a message');
      const { content: rawContent, tool_calls: rawCalls } = message as { content?: unknown; tool_calls?: unknown };
      const content = typeof rawContent === 'string' ? rawContent : null;
      if (rawCalls !== undefined && rawCalls !== null && !Array.isArray(rawCalls)) {
        return finish('error', null, 'the model returned `tool_calls` that is not a list');
      }
      const { calls, invalid } = finishReason === 'tool_calls' ? normalizeToolCalls(rawCalls ?? [], iteration) : { calls: [], invalid: undefined };
      if (calls.length === 0) {
        // Tool calls under any other finish reason are dropped: they may be cut off, and must not run.
        history.push({ role: 'assistant', content: content ?? '' });
        if (finishReason === 'length') return finish('budget', content, 'the model hit its output token limit');
        if (finishReason === 'content_filter') return finish('error', content, 'the answer was withheld by a content filter');
        const dropped = finishReason === 'tool_calls' ? 0 : Array.isArray(rawCalls) ? rawCalls.length : 0;
        if (dropped > 0 && (content ?? '').trim() === '') {
          // Some servers (vLLM, Ollama) put calls under `stop`; running them is unsafe, calling it an answer is wrong.
          return finish('error', null, `the model sent ${dropped} tool call(s) under finish_reason \`${finishReason}\` and no answer; tools run only for \`tool_calls\``);
        }
        if (
          settings.repair && settings.researchOnUnsure && researchTools.length > 0 &&
          researchHops < settings.maxResearchHops && looksUnsure(content)
        ) {
          researchHops += 1;
          directive('unsure', researchDirective(researchTools, 'unsure'));
          continue;
        }
        return finish('success', content);
      }

      const assistant: ChatCompletionAssistantMessageParam = { role: 'assistant', content, tool_calls: calls };
      history.push(assistant);
      const batch = await runToolCalls(calls, {
        invoker: options.tools, known, allowed, settings, state, signal, iteration, stagnation, stagnationWarned,
        emit, ...(invalid === undefined ? {} : { invalid }),
      });
      for (const o of batch.outcomes) history.push({ role: 'tool', tool_call_id: o.callId, content: o.content });
      if (batch.stop !== undefined) return finish(batch.stop, null);

      for (const o of batch.outcomes) if (o.skipped === undefined) stagnation.record(o.name, o.arguments, o.ok ? undefined : o.content);
      const repetition = stagnation.check();
      if (repetition !== undefined && stagnationWarned) {
        emit({ type: 'guard_tripped', iteration, guard: 'stagnation', action: 'stop', detail: `${repetition.kind} repeated ${repetition.count} times after a warning` });
        return finish('stagnation', null);
      }
      stagnationWarned = repetition !== undefined;
      if (repetition !== undefined) {
        emit({ type: 'guard_tripped', iteration, guard: 'stagnation', action: 'directive', detail: `${repetition.kind} repeated ${repetition.count} times` });
        directive('stagnation', stagnationDirective(repetition));
      }

      const failures = batch.outcomes.filter((o) => !o.ok && o.skipped === undefined);
      failuresInARow = failures.length > 0 ? failuresInARow + 1 : 0;
      if (failures.length > 0 && settings.repair) {
        const research = failuresInARow >= settings.researchAfterFailures && researchTools.length > 0 && researchHops < settings.maxResearchHops;
        const text = repairDirective(failures, settings.observationChars);
        if (research) {
          researchHops += 1;
          directive('research', `${text}\n\n${researchDirective(researchTools, 'failures')}`);
        } else {
          directive('repair', text);
        }
      }
    }
  } catch (err) {
    // A bug here, or in an invoker or a model answer nobody foresaw: the run still ends with a
    // result, a run_end and a history a model API accepts.
    if (ended) throw err;
    answerOpenCalls(history);
    if (!started) emit({ type: 'run_start', settings, messages: structuredClone([...input]), tools: [] });
    return finish('error', null, `unexpected failure: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    try {
      transcript?.close();
    } catch {
      // Nothing left to lose: every line was written synchronously or already reported.
    }
  }
}

/** Answers the tool_calls of the last assistant message that have no tool message yet. */
function answerOpenCalls(history: ChatCompletionMessageParam[]): void {
  const at = history.findLastIndex((m) => m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0);
  if (at === -1) return;
  const assistant = history[at] as ChatCompletionAssistantMessageParam;
  const answered = new Set(history.slice(at + 1).flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : [])));
  for (const call of assistant.tool_calls ?? []) {
    if (!answered.has(call.id)) {
      history.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ ok: false, error: 'not run: the run ended with an unexpected failure' }) });
    }
  }
}

