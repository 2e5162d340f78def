import type { ToolInvoker } from '@mini-agent/protocol';
import type { ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import { cutText } from './context.js';
import type { AgentEvent, GuardName, StoppedReason } from './events.js';
import type { ResolvedSettings } from './options.js';
import type { ToolOutcome } from './repair.js';
import { scopedSignal } from './scoped-signal.js';
import { StagnationDetector } from './stagnation.js';
import { abortReason, BEFORE_TOOL_CALL, firstStop, type LoopState } from './stop-conditions.js';

type EmitInput = AgentEvent extends infer E ? (E extends AgentEvent ? Omit<E, 'elapsedMs'> : never) : never;

/** What a turn's tool calls need from the loop. */
export interface BatchContext {
  invoker: ToolInvoker | undefined;
  /** Tools of the invoker, before the allowlist. */
  known: ReadonlySet<string>;
  /** Tools the model was offered. */
  allowed: ReadonlySet<string>;
  settings: ResolvedSettings;
  state: LoopState;
  /** Cancel and deadline together: handed to every invoke. */
  signal: AbortSignal;
  iteration: number;
  stagnation: StagnationDetector;
  /** A stagnation directive was already sent: the next repetition stops the run. */
  stagnationWarned: boolean;
  /** Calls the model sent in an unusable shape, by id: what is wrong with each. */
  invalid?: ReadonlyMap<string, string>;
  emit(event: EmitInput): void;
}

/** The answered calls in call order, and why the run must stop (if it must). */
export interface BatchResult {
  outcomes: ToolOutcome[];
  stop?: StoppedReason;
}

/** What a model reads for a call that did not produce a result. */
export const ABORT_TEXT = {
  budget: 'stopped: the run ran out of time before this call finished',
  cancelled: 'stopped: the run was cancelled before this call finished',
} as const;

/** Tool calls as the loop runs them and as the history keeps them, and the ones that are unusable. */
export interface NormalizedCalls {
  calls: ChatCompletionMessageToolCall[];
  /** Call id → what is wrong with it; each is answered with an error observation, never run. */
  invalid: Map<string, string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Brings the `tool_calls` of a model answer into the shape the API expects back. Compatible
 * servers repeat or omit ids, omit `type`, or send arguments as an object; a call that names no
 * function at all is kept (so the history stays valid) under a placeholder name and answered with
 * an error. Each tool message must answer exactly one id, so ids are made unique.
 */
export function normalizeToolCalls(raw: readonly unknown[], iteration: number): NormalizedCalls {
  const seen = new Set<string>();
  const invalid = new Map<string, string>();
  const calls = raw.map((c, i): ChatCompletionMessageToolCall => {
    const given = isRecord(c) ? c.id : undefined;
    const id = typeof given === 'string' && given !== '' && !seen.has(given) ? given : `call_${iteration}_${i}`;
    seen.add(id);
    if (isRecord(c) && c.type === 'custom' && isRecord(c.custom) && typeof c.custom.name === 'string') {
      return { ...(c as unknown as ChatCompletionMessageToolCall), id };
    }
    const fn = isRecord(c) ? c.function : undefined;
    if (isRecord(c) && (c.type === undefined || c.type === 'function') && isRecord(fn) && typeof fn.name === 'string' && fn.name !== '') {
      if (typeof fn.arguments === 'string') return { id, type: 'function', function: { name: fn.name, arguments: fn.arguments } };
      if (isRecord(fn.arguments)) return { id, type: 'function', function: { name: fn.name, arguments: JSON.stringify(fn.arguments) } };
      invalid.set(id, `the call of \`${fn.name}\` has no arguments string; send the arguments as a JSON object string`);
      return { id, type: 'function', function: { name: fn.name, arguments: '' } };
    }
    invalid.set(id, 'not a valid tool call: expected {"type":"function","function":{"name":...,"arguments":"<JSON object>"}}');
    return { id, type: 'function', function: { name: 'invalid_tool_call', arguments: '' } };
  });
  return { calls, invalid };
}

function errorContent(message: string): string {
  return JSON.stringify({ ok: false, error: message });
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  // An invoker that ignores its signal must not hold the run past its deadline.
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/**
 * Answers every tool_call of one turn with exactly one outcome, in call order, running at most
 * `toolConcurrency` at once. The guards are checked again before each call starts.
 */
export async function runToolCalls(calls: readonly ChatCompletionMessageToolCall[], ctx: BatchContext): Promise<BatchResult> {
  const outcomes: ToolOutcome[] = new Array(calls.length);
  let stop: StoppedReason | undefined;
  const pendingKeys: string[] = [];
  let next = 0;

  const guard = (guard: GuardName, action: 'stop' | 'skip' | 'observation', detail: string): void =>
    ctx.emit({ type: 'guard_tripped', iteration: ctx.iteration, guard, action, detail });

  const answer = (i: number, outcome: ToolOutcome, extra: Partial<Extract<AgentEvent, { type: 'tool_end' }>> = {}): void => {
    outcomes[i] = outcome;
    ctx.emit({
      type: 'tool_end', iteration: ctx.iteration, callId: outcome.callId, name: outcome.name, ok: outcome.ok,
      invoked: false, durationMs: 0, content: outcome.content, ...extra,
    });
  };

  const one = async (i: number): Promise<void> => {
    const call = calls[i]!;
    const name = call.type === 'custom' ? call.custom.name : call.function.name;
    const args = call.type === 'custom' ? call.custom.input : call.function.arguments;
    const base = { callId: call.id, name, arguments: args };
    const refuse = (guardName: GuardName, message: string, skipped: boolean): void => {
      const content = errorContent(message);
      answer(i, { ...base, content, ok: false, error: { code: guardName, message }, ...(skipped ? { skipped: guardName } : {}) },
        skipped ? { skipped: guardName } : { error: { code: guardName, message } });
    };

    const halted = stop === 'budget' || stop === 'cancelled' ? stop : firstStop(BEFORE_TOOL_CALL, ctx.state);
    if (halted === 'budget' || halted === 'cancelled') {
      if (stop === undefined) guard(halted === 'budget' ? 'deadline' : 'cancelled', 'stop', 'before a tool call');
      stop = halted;
      return refuse(halted === 'budget' ? 'deadline' : 'cancelled', ABORT_TEXT[halted], true);
    }
    if (stop === 'stagnation') return refuse('stagnation', 'skipped: the run stopped for repeating the same call', true);
    if (i >= ctx.settings.maxToolsPerIteration) {
      if (i === ctx.settings.maxToolsPerIteration) guard('max_tools_per_iteration', 'skip', `${calls.length - i} of ${calls.length} calls skipped`);
      return refuse('max_tools_per_iteration',
        `skipped: at most ${ctx.settings.maxToolsPerIteration} tool calls run per turn; make this call again in the next turn if it is still needed`, true);
    }
    const invalid = ctx.invalid?.get(call.id);
    if (invalid !== undefined) {
      guard('invalid_tool_call', 'observation', invalid);
      return refuse('invalid_tool_call', invalid, false);
    }
    if (call.type !== 'function' || !ctx.known.has(name) || ctx.invoker === undefined) {
      guard('unknown_tool', 'observation', name);
      return refuse('unknown_tool', `tool \`${name}\` does not exist; available tools: ${[...ctx.allowed].join(', ') || 'none'}`, false);
    }
    if (!ctx.allowed.has(name)) {
      guard('tool_allowlist', 'observation', name);
      return refuse('tool_allowlist', `tool \`${name}\` is not allowed in this run; allowed tools: ${[...ctx.allowed].join(', ') || 'none'}`, false);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(args);
    } catch (err) {
      guard('invalid_arguments', 'observation', name);
      return refuse('invalid_arguments', `arguments of \`${name}\` are not valid JSON (${(err as Error).message}); send a JSON object matching the tool's parameters`, false);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      guard('invalid_arguments', 'observation', name);
      return refuse('invalid_arguments', `arguments of \`${name}\` must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`, false);
    }
    const key = StagnationDetector.callKey(name, args);
    const repeats = ctx.stagnationWarned && ctx.stagnation.wouldRepeat(name, args, pendingKeys);
    pendingKeys.push(key);
    if (repeats) {
      guard('stagnation', 'stop', `\`${name}\` called again with the same arguments after a warning`);
      stop = 'stagnation';
      return refuse('stagnation', 'skipped: the run stopped for repeating the same call', true);
    }

    ctx.emit({ type: 'tool_start', iteration: ctx.iteration, callId: call.id, name, arguments: args });
    const started = performance.now();
    const durationMs = (): number => Math.round(performance.now() - started);
    const scoped = scopedSignal(ctx.signal);
    try {
      const options = { signal: scoped.signal, ...(ctx.settings.sessionId === null ? {} : { sessionId: ctx.settings.sessionId }) };
      const result = await raceAbort(Promise.resolve(ctx.invoker.invoke(name, parsed as Record<string, unknown>, options)), ctx.signal);
      const ok = result.data.ok !== false;
      const content = cutText(result.text, ctx.settings.maxToolOutputChars);
      outcomes[i] = { ...base, content, ok, data: result.data };
      ctx.emit({ type: 'tool_end', iteration: ctx.iteration, callId: call.id, name, ok, invoked: true, durationMs: durationMs(), content, result });
    } catch (err) {
      const aborted = abortReason(ctx.state);
      if (aborted !== undefined) {
        if (stop === undefined) guard(aborted === 'budget' ? 'deadline' : 'cancelled', 'stop', `during \`${name}\``);
        stop = aborted;
        const content = errorContent(ABORT_TEXT[aborted]);
        outcomes[i] = { ...base, content, ok: false, skipped: aborted === 'budget' ? 'deadline' : 'cancelled' };
        ctx.emit({
          type: 'tool_end', iteration: ctx.iteration, callId: call.id, name, ok: false, invoked: true, durationMs: durationMs(),
          content, aborted: aborted === 'budget' ? 'deadline' : 'cancelled',
        });
        return;
      }
      const error = { code: String((err as { code?: unknown }).code ?? (err as Error).name ?? 'Error'), message: String((err as Error).message ?? err) };
      const content = errorContent(`${error.code}: ${cutText(error.message, ctx.settings.maxToolOutputChars)}`);
      outcomes[i] = { ...base, content, ok: false, error };
      ctx.emit({ type: 'tool_end', iteration: ctx.iteration, callId: call.id, name, ok: false, invoked: true, durationMs: durationMs(), content, error });
    } finally {
      scoped.dispose();
    }
  };

  const worker = async (): Promise<void> => {
    while (next < calls.length) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(ctx.settings.toolConcurrency, calls.length) }, worker));
  return { outcomes, ...(stop === undefined ? {} : { stop }) };
}
