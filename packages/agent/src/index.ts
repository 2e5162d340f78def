export { runAgent } from './run-agent.js';
/** The messages `runAgent` takes and returns: OpenAI chat messages. */
export type { ChatCompletionMessageParam as ChatMessage } from 'openai/resources/chat/completions';
export * from './options.js';
export type * from './events.js';
export { canonicalJson } from './canonical-json.js';
export { StagnationDetector, stagnationDirective, type Repetition } from './stagnation.js';
export { cutText, estimateTokens, messageChars, pruneContext, transcriptProblems, type PruneOutcome } from './context.js';
export { compactObservation, looksUnsure, repairDirective, researchDirective, UNSURE_PATTERNS, type ToolOutcome } from './repair.js';
export { createCompletion, errorStatus, isRetryable, retryDelayMs, serverDelayMs, toChatClient, type ChatClient, type RetryPolicy } from './llm.js';
export { BEFORE_LLM_CALL, BEFORE_TOOL_CALL, isCancelled, isIterationLimit, isPastDeadline, type LoopState, type StopCondition } from './stop-conditions.js';
export { openTranscript, readTranscript, replayTranscript, type ReplayOptions, type TranscriptWriter } from './transcript.js';
export { ABORT_TEXT } from './tool-calls.js';
