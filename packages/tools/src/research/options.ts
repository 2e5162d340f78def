/** Perplexity's API; `PPLX_API_BASE` points elsewhere (a proxy, a test double). */
export const DEFAULT_PPLX_API_BASE = 'https://api.perplexity.ai';
/** The cheapest Sonar model with web search; `PPLX_MODEL` picks another (`sonar-pro`…). */
export const DEFAULT_PPLX_MODEL = 'sonar';
/** Context7's own API; `C7_API_BASE` points elsewhere. */
export const DEFAULT_C7_API_BASE = 'https://context7.com';
/** A research call, retries included, never takes longer than this. */
export const DEFAULT_RESEARCH_TIMEOUT_S = 30;
/** Further attempts after a 429, a 5xx or a network error. */
export const DEFAULT_RESEARCH_RETRIES = 2;
/** First pause before a retry; it doubles each time (a `Retry-After` header wins). */
export const DEFAULT_RESEARCH_RETRY_DELAY_MS = 500;
/** Characters of `text` a research result may hold; the model's context is the scarce thing. */
export const DEFAULT_RESEARCH_MAX_RESULT_CHARS = 24_000;
/** Bytes of an upstream response body that are read at all. */
export const MAX_UPSTREAM_RESPONSE_BYTES = 4 * 1024 * 1024;

/** `research_perplexity`: registered when an API key is given. */
export interface PerplexityOptions {
  /** Sent as `Authorization: Bearer …`; never logged. */
  apiKey: string;
  /** @default DEFAULT_PPLX_API_BASE */
  baseUrl?: string;
  /** @default DEFAULT_PPLX_MODEL */
  model?: string;
}

/** `research_context7_docs`: registered when this object is given (with a key, a base, or both). */
export interface Context7Options {
  /** Sent as `Authorization: Bearer …` when set; never logged. @default none (anonymous, lower rate limits) */
  apiKey?: string;
  /** @default DEFAULT_C7_API_BASE */
  baseUrl?: string;
}

/** Which research tools exist and how they reach their upstreams. Absent: no research tools. */
export interface ResearchOptions {
  /** @default none: `research_perplexity` is not registered */
  perplexity?: PerplexityOptions;
  /** @default none: `research_context7_docs` is not registered */
  context7?: Context7Options;
  /** Deadline of one call, retries included. @default DEFAULT_RESEARCH_TIMEOUT_S */
  timeoutS?: number;
  /** @default DEFAULT_RESEARCH_RETRIES */
  retries?: number;
  /** @default DEFAULT_RESEARCH_RETRY_DELAY_MS */
  retryDelayMs?: number;
  /** @default DEFAULT_RESEARCH_MAX_RESULT_CHARS */
  maxResultChars?: number;
}
