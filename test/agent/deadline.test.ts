import OpenAI from '../../packages/agent/node_modules/openai/index.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, transcriptProblems, type AgentEvent } from '../../packages/agent/dist/index.js';
import { validateChatRequest } from '../fake-llm/validate.js';
import { harness, localTools } from './helpers.js';

const task = [{ role: 'user' as const, content: 'Work slowly.' }];
const sleepCall = { toolCalls: [{ name: 'exec_python', arguments: { code: 'import time\ntime.sleep(20)\nprint("woke")', timeout_s: 30 } }] };

/** A transcript the real API would accept as the start of the next request. */
function acceptable(messages: unknown[]): void {
  expect(transcriptProblems(messages as never)).toEqual([]);
  expect(validateChatRequest({ model: 'm', messages })).toBeUndefined();
}

describe('deadline and cancellation reach inside calls in flight', () => {
  let tools: Awaited<ReturnType<typeof localTools>>;
  beforeAll(async () => {
    tools = await localTools();
  });
  afterAll(() => tools.close());

  it('the wall-clock deadline aborts a slow model response', async () => {
    const h = await harness([{ content: 'too late', delayMs: 10_000 }]);
    try {
      const result = await runAgent(task, { ...h.options, maxWallclockMs: 700 });
      expect(result.stoppedReason).toBe('budget');
      expect(result.durationMs).toBeGreaterThanOrEqual(690);
      expect(result.durationMs).toBeLessThan(1_500);
      expect(h.events.filter((e) => e.type === 'guard_tripped')).toMatchObject([{ guard: 'deadline', detail: 'during a model call' }]);
      acceptable(result.messages);
    } finally {
      await h.close();
    }
  });

  it('the wall-clock deadline aborts a slow tool (exec_python time.sleep) and still answers its tool_call', async () => {
    const h = await harness([sleepCall]);
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker, maxWallclockMs: 1_200 });
      expect(result.stoppedReason).toBe('budget');
      expect(result.durationMs).toBeLessThan(2_500);
      const end = h.events.find((e): e is Extract<AgentEvent, { type: 'tool_end' }> => e.type === 'tool_end')!;
      expect(end).toMatchObject({ aborted: 'deadline', ok: false, invoked: true });
      expect(String(result.messages.at(-1)!.content)).toContain('ran out of time');
      acceptable(result.messages);
    } finally {
      await h.close();
    }
  });

  it('options.signal cancels a model call in flight: cancelled, valid transcript', async () => {
    const h = await harness([{ content: 'never', delayMs: 10_000 }]);
    try {
      const result = await runAgent(task, { ...h.options, signal: AbortSignal.timeout(300) });
      expect(result).toMatchObject({ stoppedReason: 'cancelled', finalAnswer: null, iterations: 1 });
      expect(result.durationMs).toBeLessThan(1_500);
      acceptable(result.messages);
    } finally {
      await h.close();
    }
  });

  it('options.signal cancels a running tool; every tool_call of the turn is still answered', async () => {
    const h = await harness([{ toolCalls: [...sleepCall.toolCalls, { name: 'exec_shell', arguments: { cmd: 'echo later' } }] }]);
    try {
      const controller = new AbortController();
      const onEvent = (e: AgentEvent): void => {
        h.options.onEvent!(e);
        if (e.type === 'tool_start') setTimeout(() => controller.abort(), 200);
      };
      const result = await runAgent(task, { ...h.options, onEvent, tools: tools.invoker, signal: controller.signal });
      expect(result.stoppedReason).toBe('cancelled');
      expect(result.durationMs).toBeLessThan(2_000);
      const toolMessages = result.messages.filter((m) => m.role === 'tool');
      expect(toolMessages).toHaveLength(2);
      expect(toolMessages.map((m) => JSON.parse(String(m.content)).error)).toEqual([
        'stopped: the run was cancelled before this call finished',
        'stopped: the run was cancelled before this call finished',
      ]);
      expect(h.events.filter((e) => e.type === 'tool_start')).toHaveLength(1);
      acceptable(result.messages);
    } finally {
      await h.close();
    }
  });

  it('a signal aborted before the start stops before any model call', async () => {
    const h = await harness([]);
    try {
      const result = await runAgent(task, { ...h.options, signal: AbortSignal.abort() });
      expect(result).toMatchObject({ stoppedReason: 'cancelled', iterations: 0 });
      expect(h.fake.requests).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});

describe('model call retries', () => {
  it('429 with retry-after: waits what the server asked, each retry an event, then succeeds', async () => {
    const h = await harness([{ status: 429, headers: { 'retry-after': '1' } }, { content: 'after the wait' }]);
    try {
      const result = await runAgent(task, h.options);
      expect(result).toMatchObject({ stoppedReason: 'success', finalAnswer: 'after the wait', iterations: 1 });
      const [first, second] = h.fake.requests;
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(990);
      expect(h.events.filter((e) => e.type === 'llm_retry')).toMatchObject([{ attempt: 1, status: 429, delayMs: 1000 }]);
      expect(h.events.filter((e) => e.type === 'llm_request').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2]);
      expect(h.events.find((e) => e.type === 'llm_response')).toMatchObject({ attempt: 2 });
    } finally {
      await h.close();
    }
  });

  it('a retry-after above llmRetryMaxMs is not retried early: the run ends with error at once', async () => {
    const h = await harness([{ status: 429, headers: { 'retry-after': '1' } }, { content: 'too early' }]);
    try {
      const result = await runAgent(task, { ...h.options, llmRetryMaxMs: 200 });
      expect(result).toMatchObject({ stoppedReason: 'error', error: expect.stringContaining('asked to wait 1000 ms') });
      expect(h.fake.requests).toHaveLength(1);
      expect(h.events.filter((e) => e.type === 'llm_retry')).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('500 and 503 are retried (retry-after-ms honoured); a 400 is not', async () => {
    const h = await harness([
      { status: 500, headers: { 'retry-after-ms': '50' } },
      { status: 503, headers: { 'retry-after-ms': '50' } },
      { content: 'ok' },
      { status: 400, message: 'bad request' },
    ]);
    try {
      expect(await runAgent(task, h.options)).toMatchObject({ stoppedReason: 'success', finalAnswer: 'ok' });
      const failed = await runAgent(task, h.options);
      expect(failed).toMatchObject({ stoppedReason: 'error', error: expect.stringContaining('bad request') });
      expect(h.fake.requests).toHaveLength(4);
    } finally {
      await h.close();
    }
  });

  it('an OpenAI instance works too, and its own retries stay off: every retry is ours and an event', async () => {
    const h = await harness([{ status: 500, headers: { 'retry-after-ms': '10' } }, { status: 500, headers: { 'retry-after-ms': '10' } }, { content: 'ok' }]);
    try {
      const llm = new OpenAI({ baseURL: h.fake.baseURL, apiKey: 'sk-test', maxRetries: 5 });
      const result = await runAgent(task, { ...h.options, llm, llmMaxRetries: 1 });
      expect(result).toMatchObject({ stoppedReason: 'error' });
      expect(h.fake.requests).toHaveLength(2);
      expect(h.events.filter((e) => e.type === 'llm_retry')).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it('gives up after llmMaxRetries, and never waits past the deadline', async () => {
    const h = await harness([
      { status: 503, headers: { 'retry-after-ms': '10' } },
      { status: 503, headers: { 'retry-after-ms': '10' } },
      { status: 429, headers: { 'retry-after': '10' } },
    ]);
    try {
      const exhausted = await runAgent(task, { ...h.options, llmMaxRetries: 1 });
      expect(exhausted).toMatchObject({ stoppedReason: 'error', error: expect.stringContaining('503') });
      const started = performance.now();
      const late = await runAgent(task, { ...h.options, maxWallclockMs: 5_000 });
      expect(late.stoppedReason).toBe('error');
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(h.fake.requests).toHaveLength(3);
    } finally {
      await h.close();
    }
  });
});
