import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { scopedSignal } from './scoped-signal.js';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';

/** The one method of an `OpenAI` client the agent calls. Replay supplies its own. */
export interface ChatClient {
  chat: {
    completions: {
      create(
        body: ChatCompletionCreateParamsNonStreaming,
        options?: { signal?: AbortSignal; maxRetries?: number },
      ): PromiseLike<ChatCompletion>;
    };
  };
}

/** An `OpenAI` instance, a {@link ChatClient}, or `{baseURL, apiKey}` to build one with. */
export function toChatClient(llm: OpenAI | ChatClient | { baseURL: string; apiKey: string }): ChatClient {
  if (llm instanceof OpenAI || typeof (llm as ChatClient).chat?.completions?.create === 'function') return llm as ChatClient;
  const { baseURL, apiKey } = llm as { baseURL: string; apiKey: string };
  if (typeof baseURL !== 'string' || typeof apiKey !== 'string') {
    throw new TypeError('Expected the `llm` option to be an OpenAI instance or {baseURL, apiKey} strings');
  }
  // Retries are ours (each one an event, bounded by the deadline), so the SDK's are off.
  return new OpenAI({ baseURL, apiKey, maxRetries: 0 });
}

/** Backoff settings of {@link createCompletion}. */
export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** HTTP status of an SDK error, `null` for connection errors and anything else. */
export function errorStatus(err: unknown): number | null {
  return err instanceof OpenAI.APIError && typeof err.status === 'number' ? err.status : null;
}

/** 408, 409, 429, 5xx and connection errors are worth another attempt; an abort never is. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof OpenAI.APIUserAbortError) return false;
  if (err instanceof OpenAI.APIConnectionError) return true;
  const status = errorStatus(err);
  return status === 408 || status === 409 || status === 429 || (status !== null && status >= 500);
}

/** The wait the server asked for with `retry-after-ms` or `retry-after` (seconds or an HTTP date), if any. */
export function serverDelayMs(err: unknown, now = Date.now()): number | undefined {
  const headers = err instanceof OpenAI.APIError ? err.headers : undefined;
  const ms = Number(headers?.get('retry-after-ms'));
  if (headers?.get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const after = headers?.get('retry-after');
  if (after) {
    const seconds = Number(after);
    const delay = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(after) - now;
    if (Number.isFinite(delay) && delay >= 0) return delay;
  }
  return undefined;
}

/**
 * The wait before retry number `attempt` (1-based): the server's `retry-after-ms` or `retry-after`
 * when present, else exponential backoff with full jitter at most `maxDelayMs`. `null` when the
 * server asks for more than `maxDelayMs`: retrying sooner than it allows only earns another refusal.
 */
export function retryDelayMs(err: unknown, attempt: number, policy: RetryPolicy, now = Date.now(), random = Math.random): number | null {
  const asked = serverDelayMs(err, now);
  if (asked !== undefined) return asked > policy.maxDelayMs ? null : asked;
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Hooks and limits of one {@link createCompletion}. */
export interface CompletionCall {
  signal: AbortSignal;
  /** `Date.now()` value after which no retry starts. */
  deadlineAt: number;
  policy: RetryPolicy;
  onAttempt(attempt: number): void;
  onRetry(info: { attempt: number; status: number | null; error: string; delayMs: number }): void;
}

/** A completion and the attempt and latency that produced it. */
export interface Completion {
  response: ChatCompletion;
  attempt: number;
  latencyMs: number;
}

/**
 * One chat completion with retries. Each attempt carries the run's signal, so the deadline
 * aborts a slow response; a retry whose wait would end past the deadline is not attempted.
 */
export async function createCompletion(client: ChatClient, body: ChatCompletionCreateParamsNonStreaming, call: CompletionCall): Promise<Completion> {
  for (let attempt = 1; ; attempt += 1) {
    call.onAttempt(attempt);
    const started = performance.now();
    const scoped = scopedSignal(call.signal);
    try {
      const response = await client.chat.completions.create(body, { signal: scoped.signal, maxRetries: 0 });
      return { response, attempt, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      if (call.signal.aborted || attempt > call.policy.maxRetries || !isRetryable(err)) throw err;
      const delayMs = retryDelayMs(err, attempt, call.policy);
      if (delayMs === null) {
        throw new Error(`${(err as Error).message} (the server asked to wait ${serverDelayMs(err)} ms, more than llmRetryMaxMs ${call.policy.maxDelayMs} ms)`, { cause: err });
      }
      if (Date.now() + delayMs >= call.deadlineAt) throw err;
      call.onRetry({ attempt, status: errorStatus(err), error: (err as Error).message, delayMs });
      await sleep(delayMs, undefined, { signal: call.signal });
    } finally {
      scoped.dispose();
    }
  }
}
