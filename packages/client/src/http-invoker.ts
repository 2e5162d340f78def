import {
  EXEC_TOOLS,
  ErrorBody,
  ExecInvokeResult,
  InvokeResult,
  ToolList,
  type FunctionTool,
  type InvokeOptions,
  type ListToolsOptions,
  type ToolInvoker,
} from '@mini-agent/protocol';
import { BodyTooLargeError, excerpt, readBody } from './body.js';
import { ToolsHttpError } from './errors.js';
import { resolveOptions, type HttpToolsInvokerOptions, type ResolvedOptions } from './options.js';
import { backoffDelay, failedBeforeSend, isRetryableAnswer, networkErrorCode, parseRetryAfter } from './retry.js';
import { AnswerSchema } from './validate.js';

const USER_AGENT = 'mini-agent-client/0.1';
const invokeResultSchema = new AnswerSchema<InvokeResult>(InvokeResult);
const execResultSchema = new AnswerSchema<InvokeResult>(ExecInvokeResult);
const toolListSchema = new AnswerSchema<FunctionTool[]>(ToolList);
const errorBodySchema = new AnswerSchema<ErrorBody>(ErrorBody);

interface Request {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** True when sending it twice cannot run anything twice, so any connection failure may be retried. */
  idempotent: boolean;
}

interface Answer {
  response: Response;
  text: string;
  url: string;
}

/**
 * A {@link ToolInvoker} for any gateway speaking the mini-agent contract (`GET /tools`,
 * `POST /invoke`). Connections are kept alive and reused; the tool list is revalidated with its
 * ETag; results are checked against the protocol schemas; a call is retried only when the gateway
 * certainly ran nothing.
 *
 * @example
 * const tools = new HttpToolsInvoker('http://127.0.0.1:8787', { token: process.env.MINI_AGENT_TOKEN });
 * const { text } = await tools.invoke('exec_python', { code: 'print(6 * 7)' });
 */
export class HttpToolsInvoker implements ToolInvoker {
  readonly baseUrl: string;
  readonly #options: ResolvedOptions;
  #toolsCache: { etag: string; tools: FunctionTool[] } | undefined;

  /**
   * @param baseUrl The gateway, e.g. `http://127.0.0.1:8787` (a path prefix is kept: `https://host/tools-gw/`).
   * @throws TypeError when `baseUrl` is not an http(s) URL or an option is unusable.
   */
  constructor(baseUrl: string | URL, options: HttpToolsInvokerOptions = {}) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new TypeError(`Expected \`baseUrl\` to be an http(s) URL, got \`${String(baseUrl)}\``);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`Expected \`baseUrl\` to be an http(s) URL, got \`${url.protocol}\``);
    }
    if (url.username !== '' || url.password !== '') {
      throw new TypeError('Expected `baseUrl` without credentials: pass the `token` option');
    }
    url.search = '';
    url.hash = '';
    // Relative paths resolve under the base only when it ends with a slash.
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    this.baseUrl = url.href;
    this.#options = resolveOptions(options);
  }

  /** The caller's tools, sorted by name. Revalidated on every call; a `304` answer reuses the cached list. */
  async listTools(options: ListToolsOptions = {}): Promise<FunctionTool[]> {
    const cached = this.#toolsCache;
    const answer = await this.#send(
      { method: 'GET', path: 'tools', headers: cached ? { 'if-none-match': cached.etag } : {}, idempotent: true },
      options,
    );
    if (answer.response.status === 304 && cached !== undefined) return structuredClone(cached.tools);
    const tools = parseAnswer(answer, toolListSchema);
    const etag = answer.response.headers.get('etag');
    this.#toolsCache = etag === null ? undefined : { etag, tools: structuredClone(tools) };
    return tools;
  }

  /**
   * Runs one tool. A run that started and failed is a result with `data.ok === false`.
   * @param args A JSON string (as an OpenAI `tool_call` carries it) or an object; absent means `{}`.
   * @throws ToolsHttpError when the gateway refused the call or gave no usable answer.
   */
  async invoke(name: string, args?: string | Record<string, unknown>, options: InvokeOptions = {}): Promise<InvokeResult> {
    if (typeof name !== 'string' || name === '') throw new TypeError('Expected the tool `name` to be a non-empty string');
    const sessionId = options.sessionId ?? this.#options.sessionId;
    const answer = await this.#send(
      {
        method: 'POST',
        path: 'invoke',
        headers: sessionId === undefined ? {} : { 'x-session-id': sessionId },
        body: JSON.stringify(args === undefined ? { name } : { name, arguments: args }),
        idempotent: false,
      },
      options,
    );
    // An exec tool's data is checked field by field: an agent reads rc and stdout from it.
    return parseAnswer(answer, EXEC_TOOLS.has(name) ? execResultSchema : invokeResultSchema);
  }

  /** Sends `req`, retrying only what ran nothing, within one deadline for all attempts. */
  async #send(req: Request, call: ListToolsOptions): Promise<Answer> {
    const url = new URL(req.path, this.baseUrl).href;
    const timeoutMs = call.timeoutMs ?? this.#options.timeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError(`Expected \`timeoutMs\` to be a positive number, got \`${String(timeoutMs)}\``);
    }
    const headers = this.#headers(req, url);
    const deadline = Date.now() + timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    const onAbort = () => controller.abort(call.signal?.reason);
    if (call.signal?.aborted) onAbort();
    else call.signal?.addEventListener('abort', onAbort, { once: true });
    const cancelled = (cause: unknown) =>
      call.signal?.aborted
        ? new ToolsHttpError({ url, code: 'ABORTED', message: `${req.method} ${url} was aborted`, cause: call.signal.reason ?? cause })
        : new ToolsHttpError({ url, code: 'TIMEOUT', message: `${req.method} ${url} timed out after ${timeoutMs} ms`, cause });
    try {
      for (let attempt = 0; ; attempt++) {
        if (controller.signal.aborted) throw cancelled(controller.signal.reason);
        let failure: ToolsHttpError;
        let retryAfterMs: number | undefined;
        try {
          const response = await this.#options.fetch(url, {
            method: req.method,
            headers,
            body: req.body,
            signal: controller.signal,
            // A redirected POST would be re-sent elsewhere; a gateway URL is configured, not discovered.
            redirect: 'manual',
          });
          const text = await readBody(response, this.#options.maxResponseBytes);
          // undici puts the socket back in its pool on a later turn: yielding one lets the caller's
          // next request reuse it rather than open a second connection.
          await new Promise((resolve) => setImmediate(resolve));
          if (response.status < 300 || response.status === 304) return { response, text, url };
          failure = errorFromAnswer(url, response, text, req.idempotent);
          retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        } catch (err) {
          if (controller.signal.aborted) throw cancelled(err);
          if (err instanceof ToolsHttpError) throw err;
          if (err instanceof BodyTooLargeError) {
            throw new ToolsHttpError({ url, code: 'INVALID_RESPONSE', message: `gateway at ${url}: ${err.message}`, cause: err });
          }
          const beforeSend = failedBeforeSend(err);
          failure = new ToolsHttpError({
            url,
            code: 'CONNECTION_FAILED',
            message: beforeSend
              ? `cannot reach the gateway at ${url} (${networkErrorCode(err)})`
              : `connection to the gateway at ${url} failed (${networkErrorCode(err) ?? (err as Error).message})` +
                (req.idempotent ? '' : '; the call may have run, so it was not retried'),
            // A GET runs nothing, so it may always be repeated.
            isRetryable: beforeSend || req.idempotent,
            cause: err,
          });
        }
        if (!failure.isRetryable || attempt >= this.#options.retries) throw failure;
        const delay = retryAfterMs ?? backoffDelay(attempt + 1, this.#options.retryBaseMs);
        // Waiting past the deadline would only turn a clear refusal into a timeout.
        if (Date.now() + delay >= deadline) throw failure;
        await sleep(delay, controller.signal).catch((err: unknown) => {
          throw cancelled(err);
        });
      }
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
    }
  }

  #headers(req: Request, url: string): Headers {
    try {
      const headers = new Headers({ ...this.#options.headers, ...req.headers, accept: 'application/json', 'user-agent': USER_AGENT });
      if (req.body !== undefined) headers.set('content-type', 'application/json');
      if (this.#options.token !== undefined) headers.set('authorization', `Bearer ${this.#options.token}`);
      return headers;
    } catch (err) {
      throw new ToolsHttpError({ url, code: 'INVALID_REQUEST', message: `cannot build the request: ${(err as Error).message}`, cause: err });
    }
  }
}

/** The error an HTTP error answer stands for: the gateway's code and message when its body has them. */
function errorFromAnswer(url: string, response: Response, text: string, idempotent: boolean): ToolsHttpError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const status = response.status;
  if (errorBodySchema.is(body)) {
    return new ToolsHttpError({
      url,
      statusCode: status,
      code: body.code,
      message: body.message,
      responseBody: text,
      isRetryable: isRetryableAnswer(status, body.code, idempotent),
    });
  }
  // Not the gateway's error body: a proxy's page, a redirect, or something else in front of it.
  const location = response.headers.get('location');
  const what = status >= 300 && status < 400 ? `redirected to ${location ?? '(no location)'}` : `answered ${status}`;
  return new ToolsHttpError({
    url,
    statusCode: status,
    code: `HTTP_${status}`,
    message: `gateway at ${url} ${what}${text === '' ? '' : `: ${excerpt(text)}`}`,
    responseBody: text,
    isRetryable: isRetryableAnswer(status, undefined, idempotent),
  });
}

/** The body of a success answer, parsed and checked; anything else is an `INVALID_RESPONSE` naming what was wrong. */
function parseAnswer<T>({ response, text, url }: Answer, schema: AnswerSchema<T>): T {
  const invalid = (problem: string, cause?: unknown) =>
    new ToolsHttpError({
      url,
      statusCode: response.status,
      code: 'INVALID_RESPONSE',
      message: `gateway at ${url} answered ${response.status} with ${problem}`,
      responseBody: text,
      cause,
    });
  if (response.status !== 200) throw invalid(`an unexpected status${text === '' ? '' : `: ${excerpt(text)}`}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`a body that is not JSON: ${text === '' ? '(empty)' : excerpt(text)}`, err);
  }
  const problem = schema.problem(value);
  if (problem !== undefined) throw invalid(`a body that does not match the protocol: ${problem}`);
  return value as T;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
