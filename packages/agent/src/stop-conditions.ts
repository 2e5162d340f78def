import type { StoppedReason } from './events.js';

/** What a stop condition looks at, before every model call and every tool call. */
export interface LoopState {
  /** Model turns already taken. */
  iterations: number;
  maxIterations: number;
  /** The caller's signal (`options.signal`). */
  cancelSignal: AbortSignal | undefined;
  /** Fires when the wall-clock budget is spent. */
  deadlineSignal: AbortSignal;
}

/** Returns why the loop must stop now, or `undefined` to go on (vercel/ai's `StopCondition`). */
export type StopCondition = (state: LoopState) => StoppedReason | undefined;

export const isCancelled: StopCondition = ({ cancelSignal }) => (cancelSignal?.aborted ? 'cancelled' : undefined);

export const isPastDeadline: StopCondition = ({ deadlineSignal }) => (deadlineSignal.aborted ? 'budget' : undefined);

export const isIterationLimit: StopCondition = ({ iterations, maxIterations }) =>
  iterations >= maxIterations ? 'max_iterations' : undefined;

/** Checked before every model call, in this order: the caller's cancel wins over the deadline. */
export const BEFORE_LLM_CALL: readonly StopCondition[] = [isCancelled, isPastDeadline, isIterationLimit];

/** Checked before every tool call. */
export const BEFORE_TOOL_CALL: readonly StopCondition[] = [isCancelled, isPastDeadline];

/** The first condition that says stop. */
export function firstStop(conditions: readonly StopCondition[], state: LoopState): StoppedReason | undefined {
  for (const condition of conditions) {
    const reason = condition(state);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** Which of the two signals ended a call: the caller's cancel or the deadline. */
export function abortReason(state: LoopState): 'cancelled' | 'budget' | undefined {
  if (state.cancelSignal?.aborted) return 'cancelled';
  if (state.deadlineSignal.aborted) return 'budget';
  return undefined;
}
