import type OpenAI from 'openai';
import type { ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import type { ToolInvoker } from '@mini-agent/protocol';
import type { AgentEvent } from './events.js';
import type { ChatClient } from './llm.js';

/** Model turns before the run stops with `max_iterations` (the reference's default). */
export const DEFAULT_MAX_ITERATIONS = 8;
/** Wall-clock budget of a whole run, in milliseconds; it aborts a model or tool call in flight. */
export const DEFAULT_MAX_WALLCLOCK_MS = 60_000;
/** Tool calls run per model turn; the rest are answered as skipped. */
export const DEFAULT_MAX_TOOLS_PER_ITERATION = 4;
/** How many identical calls (or identical results) in a row count as stagnation. */
export const DEFAULT_STAGNATION_WINDOW = 3;
/** Tool calls of one turn run at once. */
export const DEFAULT_TOOL_CONCURRENCY = 1;
/** Sampling temperature sent to the model. */
export const DEFAULT_TEMPERATURE = 0.2;
/** Failed turns in a row after which research tools are suggested. */
export const DEFAULT_RESEARCH_AFTER_FAILURES = 2;
/** Research directives injected per run at most. */
export const DEFAULT_MAX_RESEARCH_HOPS = 2;
/** Tools whose name starts with this are research tools. */
export const DEFAULT_RESEARCH_TOOL_PREFIX = 'research_';
/** Context sent to the model, in characters of JSON. About 30k tokens. */
export const DEFAULT_MAX_CONTEXT_CHARS = 120_000;
/** One tool message at most, in characters; the middle is cut with a marker. */
export const DEFAULT_MAX_TOOL_OUTPUT_CHARS = 8_000;
/** Characters of stdout and of stderr quoted in a repair observation. */
export const DEFAULT_OBSERVATION_CHARS = 1_200;
/** Retries of a model call on 408/409/429/5xx and connection errors. */
export const DEFAULT_LLM_MAX_RETRIES = 3;
/** First backoff delay; it doubles per retry, with jitter. */
export const DEFAULT_LLM_RETRY_BASE_MS = 500;
/** Longest wait between two attempts, `retry-after` included. */
export const DEFAULT_LLM_RETRY_MAX_MS = 20_000;

/** Where the model lives: an `OpenAI` instance, or what it takes to build one. */
export type LlmOption = OpenAI | ChatClient | { baseURL: string; apiKey: string };

/** Options of {@link runAgent}. */
export interface AgentOptions {
  /** The model API: an `OpenAI` instance or `{baseURL, apiKey}` of any OpenAI-compatible server. */
  llm: LlmOption;
  /** Model name sent with every request. */
  model: string;
  /** Where tools come from. @default none: the model only talks */
  tools?: ToolInvoker;
  /** @default 0.2 */
  temperature?: number;
  /** `tool_choice` sent when tools exist. @default 'auto' */
  toolChoice?: ChatCompletionToolChoiceOption;
  /** Model turns at most. @default 8 */
  maxIterations?: number;
  /** Deadline of the whole run; it aborts the model or tool call in flight. @default 60000 */
  maxWallclockMs?: number;
  /** Tool calls run per turn; further calls get a "skipped" tool message. @default 4 */
  maxToolsPerIteration?: number;
  /** Identical (tool, canonical arguments) calls or identical results in a row that count as stagnation. @default 3 */
  stagnationWindow?: number;
  /** Only these tools are offered and run. @default every tool of `tools` */
  toolAllowlist?: readonly string[];
  /** Tool calls of one turn run at once; results keep the call order. @default 1 */
  toolConcurrency?: number;
  /** Inject an observation and a fix-it directive after a failed tool run. @default true */
  repair?: boolean;
  /** Failed turns in a row before research tools are suggested. @default 2 */
  researchAfterFailures?: number;
  /** Research directives per run at most. @default 2 */
  maxResearchHops?: number;
  /** Send an unsure-looking answer back with a research directive (when research tools exist). @default true */
  researchOnUnsure?: boolean;
  /** Name prefix of research tools. @default 'research_' */
  researchToolPrefix?: string;
  /** Context budget in characters of JSON. @default 120000 */
  maxContextChars?: number;
  /** Context budget in estimated tokens (characters / 4). @default none */
  maxContextTokens?: number;
  /** One tool message at most; the middle is cut with a marker. @default 8000 */
  maxToolOutputChars?: number;
  /** stdout/stderr characters quoted in a repair observation. @default 1200 */
  observationChars?: number;
  /** Model call retries (the SDK's own retries are off). @default 3 */
  llmMaxRetries?: number;
  /** @default 500 */
  llmRetryBaseMs?: number;
  /** Longest wait before a retry; a server asking for longer (`retry-after`) is not retried. @default 20000 */
  llmRetryMaxMs?: number;
  /** Session passed to every tool call, so files persist between calls. @default none */
  sessionId?: string;
  /** Aborting it stops the run with `cancelled`. */
  signal?: AbortSignal;
  /** Receives every {@link AgentEvent} as it happens. What it throws is ignored (a process warning, once). */
  onEvent?: (event: AgentEvent) => void;
  /**
   * Path of a JSONL transcript (one event per line), replayable with `replayTranscript()`. A write
   * that fails ends the transcript there (a process warning), not the run. @default none
   */
  transcript?: string;
}

/** The plain-data part of the options: recorded in a transcript and reused by replay. */
export interface ResolvedSettings {
  model: string;
  temperature: number;
  toolChoice: ChatCompletionToolChoiceOption;
  maxIterations: number;
  maxWallclockMs: number;
  maxToolsPerIteration: number;
  stagnationWindow: number;
  toolAllowlist: string[] | null;
  toolConcurrency: number;
  repair: boolean;
  researchAfterFailures: number;
  maxResearchHops: number;
  researchOnUnsure: boolean;
  researchToolPrefix: string;
  maxContextChars: number;
  maxContextTokens: number | null;
  maxToolOutputChars: number;
  observationChars: number;
  llmMaxRetries: number;
  llmRetryBaseMs: number;
  llmRetryMaxMs: number;
  sessionId: string | null;
}

function integer(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`Expected the \`${name}\` option to be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Applies the defaults and validates every option.
 * @throws TypeError naming the first unusable option.
 */
export function resolveSettings(options: AgentOptions): ResolvedSettings {
  if (typeof options.model !== 'string' || options.model === '') {
    throw new TypeError(`Expected the \`model\` option to be a non-empty string, got ${JSON.stringify(options.model)}`);
  }
  const temperature = options.temperature ?? DEFAULT_TEMPERATURE;
  if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 2)) {
    throw new TypeError(`Expected the \`temperature\` option to be a number in [0, 2], got ${JSON.stringify(temperature)}`);
  }
  if (options.toolAllowlist !== undefined && (!Array.isArray(options.toolAllowlist) || options.toolAllowlist.some((n) => typeof n !== 'string'))) {
    throw new TypeError('Expected the `toolAllowlist` option to be an array of tool names');
  }
  return {
    model: options.model,
    temperature,
    toolChoice: options.toolChoice ?? 'auto',
    maxIterations: integer('maxIterations', options.maxIterations, DEFAULT_MAX_ITERATIONS, 1),
    maxWallclockMs: integer('maxWallclockMs', options.maxWallclockMs, DEFAULT_MAX_WALLCLOCK_MS, 1),
    maxToolsPerIteration: integer('maxToolsPerIteration', options.maxToolsPerIteration, DEFAULT_MAX_TOOLS_PER_ITERATION, 1),
    stagnationWindow: integer('stagnationWindow', options.stagnationWindow, DEFAULT_STAGNATION_WINDOW, 2),
    toolAllowlist: options.toolAllowlist === undefined ? null : [...options.toolAllowlist],
    toolConcurrency: integer('toolConcurrency', options.toolConcurrency, DEFAULT_TOOL_CONCURRENCY, 1),
    repair: options.repair ?? true,
    researchAfterFailures: integer('researchAfterFailures', options.researchAfterFailures, DEFAULT_RESEARCH_AFTER_FAILURES, 1),
    maxResearchHops: integer('maxResearchHops', options.maxResearchHops, DEFAULT_MAX_RESEARCH_HOPS, 0),
    researchOnUnsure: options.researchOnUnsure ?? true,
    researchToolPrefix: options.researchToolPrefix ?? DEFAULT_RESEARCH_TOOL_PREFIX,
    maxContextChars: integer('maxContextChars', options.maxContextChars, DEFAULT_MAX_CONTEXT_CHARS, 1_000),
    maxContextTokens: options.maxContextTokens === undefined ? null : integer('maxContextTokens', options.maxContextTokens, 0, 250),
    maxToolOutputChars: integer('maxToolOutputChars', options.maxToolOutputChars, DEFAULT_MAX_TOOL_OUTPUT_CHARS, 200),
    observationChars: integer('observationChars', options.observationChars, DEFAULT_OBSERVATION_CHARS, 100),
    llmMaxRetries: integer('llmMaxRetries', options.llmMaxRetries, DEFAULT_LLM_MAX_RETRIES, 0),
    llmRetryBaseMs: integer('llmRetryBaseMs', options.llmRetryBaseMs, DEFAULT_LLM_RETRY_BASE_MS, 0),
    llmRetryMaxMs: integer('llmRetryMaxMs', options.llmRetryMaxMs, DEFAULT_LLM_RETRY_MAX_MS, 0),
    sessionId: options.sessionId ?? null,
  };
}
