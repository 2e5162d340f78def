import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { validateChatRequest } from './validate.js';

/** A scripted answer: a completion, an HTTP error, or a raw body (for malformed answers). */
export type Step = ReplyStep | ErrorStep | RawStep;

/** Sent as is (JSON-encoded): what a non-conforming OpenAI-compatible server might answer. */
export interface RawStep {
  raw: unknown;
  /** @default 200 */
  rawStatus?: number;
  delayMs?: number;
}

export interface ReplyStep {
  content?: string | null;
  /** Sent as `tool_calls` when present (an empty list too). */
  toolCalls?: Array<{ name: string; arguments: string | Record<string, unknown>; id?: string }>;
  /** @default 'tool_calls' when toolCalls is non-empty, else 'stop' */
  finishReason?: 'stop' | 'tool_calls' | 'length' | 'content_filter';
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Waits this long before answering (the client may abort meanwhile). */
  delayMs?: number;
}

export interface ErrorStep {
  status: number;
  headers?: Record<string, string>;
  message?: string;
  delayMs?: number;
}

/** Answers a request: the next step is computed from what the agent sent. */
export type Script = (request: RecordedRequest, index: number) => Step | Promise<Step>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  /** Status the fake answered with. */
  status: number;
  /** Why a request was rejected with 400. */
  problem?: string;
  at: number;
}

export interface FakeLlm {
  /** What `new OpenAI({baseURL})` takes: `http://127.0.0.1:<port>/v1`. */
  baseURL: string;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  /** Chat completion requests that passed validation. */
  readonly chatRequests: RecordedRequest[];
  /** Requests rejected as the real API would reject them. */
  readonly rejected: RecordedRequest[];
  /** Appends steps to the queue. */
  push(...steps: Array<Step | Script>): void;
  close(): Promise<void>;
}

function errorBody(status: number, message: string, param: string | null = null): string {
  const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return JSON.stringify({ error: { message, type, param, code: null } });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function completion(step: ReplyStep, model: string, n: number): unknown {
  const calls = (step.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `call_${n}_${i}`,
    type: 'function',
    function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) },
  }));
  const usage = step.usage ?? { prompt_tokens: 10, completion_tokens: 5 };
  return {
    id: `chatcmpl-fake-${n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{
      index: 0,
      message: { role: 'assistant', content: step.content ?? null, refusal: null, ...(step.toolCalls !== undefined ? { tool_calls: calls } : {}) },
      finish_reason: step.finishReason ?? (calls.length > 0 ? 'tool_calls' : 'stop'),
      logprobs: null,
    }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/**
 * An OpenAI-compatible chat server on 127.0.0.1 for tests: real HTTP, a queue of scripted steps
 * (or functions of the request), every request recorded, and 400s where the real API says 400.
 */
export async function startFakeLlm(steps: Array<Step | Script> = []): Promise<FakeLlm> {
  const queue = [...steps];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let chatCount = 0;

  const send = (res: ServerResponse, rec: RecordedRequest, status: number, body: string, headers: Record<string, string> = {}): void => {
    rec.status = status;
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const rec: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: undefined, status: 0, at: Date.now() };
      requests.push(rec);
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/chat/completions') {
        return send(res, rec, 404, errorBody(404, `Invalid URL (${req.method} ${req.url})`));
      }
      try {
        rec.body = JSON.parse(raw);
      } catch {
        rec.problem = 'body is not JSON';
        return send(res, rec, 400, errorBody(400, 'We could not parse the JSON body of your request.'));
      }
      const problem = validateChatRequest(rec.body);
      if (problem !== undefined) {
        rec.problem = problem.message;
        return send(res, rec, 400, errorBody(400, problem.message, problem.param));
      }
      const index = chatCount++;
      const next = queue.shift();
      if (next === undefined) {
        rec.problem = 'script exhausted';
        return send(res, rec, 400, errorBody(400, `fake-llm: no scripted response left for request ${index}`));
      }
      const step = typeof next === 'function' ? await next(rec, index) : next;
      if (step.delayMs !== undefined) {
        const closed = new Promise<void>((resolve) => res.once('close', resolve));
        await Promise.race([new Promise((r) => setTimeout(r, step.delayMs)), closed]);
        if (res.destroyed || res.writableEnded) return;
      }
      if ('raw' in step) return send(res, rec, step.rawStatus ?? 200, JSON.stringify(step.raw));
      if ('status' in step) {
        return send(res, rec, step.status, errorBody(step.status, step.message ?? `scripted ${step.status}`), step.headers);
      }
      send(res, rec, 200, JSON.stringify(completion(step, String(rec.body.model), index)));
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(errorBody(500, `fake-llm crashed: ${String(err)}`));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get chatRequests() {
      return requests.filter((r) => r.path.startsWith('/v1/chat/completions') && r.problem === undefined);
    },
    get rejected() {
      return requests.filter((r) => r.problem !== undefined);
    },
    push: (...more) => void queue.push(...more),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

