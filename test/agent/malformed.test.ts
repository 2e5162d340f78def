import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolInvoker } from '../../packages/protocol/dist/index.js';
import { runAgent, transcriptProblems, type AgentEvent } from '../../packages/agent/dist/index.js';
import { harness, lastToolResult, localTools } from './helpers.js';

const task = [{ role: 'user' as const, content: 'Do the thing.' }];
const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

/** A chat completion body as a non-conforming server might send it. */
const raw = (choices: unknown[]) => ({
  raw: { id: 'chatcmpl-raw', object: 'chat.completion', created: 0, model: 'fake-model', choices, usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
});
const assistant = (toolCalls: unknown[]) => ({ index: 0, message: { role: 'assistant', content: null, tool_calls: toolCalls }, finish_reason: 'tool_calls' });

// Compatible servers differ from the OpenAI API in small ways; none of them may make runAgent throw.
describe('non-conforming model answers end the run cleanly', () => {
  let tools: Awaited<ReturnType<typeof localTools>>;
  beforeAll(async () => {
    tools = await localTools();
  });
  afterAll(() => tools.close());

  it('a tool_call without `type` still runs as a function call', async () => {
    const h = await harness([
      raw([assistant([{ id: 'a1', function: { name: 'exec_shell', arguments: '{"cmd":"echo typeless"}' } }])]),
      (req) => ({ content: `got ${lastToolResult(req.body).stdout.trim()}` }),
    ]);
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(result).toMatchObject({ stoppedReason: 'success', finalAnswer: 'got typeless' });
      expect(h.fake.rejected).toEqual([]);
      expect(transcriptProblems(result.messages)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('a tool_call with neither `type` nor `function` is answered with an error observation', async () => {
    const h = await harness([
      raw([assistant([{ id: 'bad1' }, { id: 'ok1', type: 'function', function: { name: 'exec_shell', arguments: '{"cmd":"echo fine"}' } }])]),
      (req) => ({ content: `saw ${req.body.messages.filter((m: any) => m.role === 'tool').map((m: any) => m.content).join(' | ')}` }),
    ]);
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(result.stoppedReason).toBe('success');
      expect(result.finalAnswer).toContain('not a valid tool call');
      expect(result.finalAnswer).toContain('fine');
      expect(ofType(h.events, 'tool_start').map((e) => e.name)).toEqual(['exec_shell']);
      expect(ofType(h.events, 'guard_tripped')).toMatchObject([{ guard: 'invalid_tool_call', action: 'observation' }]);
      expect(h.fake.rejected).toEqual([]);
      expect(transcriptProblems(result.messages)).toEqual([]);
      expect(ofType(h.events, 'run_end')).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it.each([
    ['a choice without a message', [{ index: 0, finish_reason: 'stop' }], 'without a message'],
    ['a null choice', [null], 'without a message'],
    ['a message whose tool_calls is not a list', [{ index: 0, message: { role: 'assistant', content: null, tool_calls: 'x' }, finish_reason: 'tool_calls' }], 'tool_calls'],
  ])('%s ends the run with error and a run_end', async (_name, choices, message) => {
    const h = await harness([raw(choices)]);
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(result).toMatchObject({ stoppedReason: 'error', finalAnswer: null, iterations: 1, error: expect.stringContaining(message) });
      expect(ofType(h.events, 'run_end')).toHaveLength(1);
      expect(transcriptProblems(result.messages)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('an unexpected failure inside the loop ends with error and a valid transcript, not a rejection', async () => {
    // A third-party invoker that hands back a tool list the loop cannot read.
    const broken: ToolInvoker = {
      listTools: async () => [null as never],
      invoke: async () => ({ text: 'never', data: { ok: true } }),
    };
    const h = await harness([{ content: 'never asked' }]);
    try {
      const result = await runAgent(task, { ...h.options, tools: broken });
      expect(result).toMatchObject({ stoppedReason: 'error', error: expect.stringContaining('unexpected') });
      expect(h.events.map((e) => e.type)).toEqual(['run_start', 'run_end']);
      expect(transcriptProblems(result.messages)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('an onEvent callback that throws, or a transcript that cannot be written, does not end the run', async () => {
    const h = await harness([
      { toolCalls: [{ name: 'exec_shell', arguments: { cmd: 'echo still-running' } }] },
      { content: 'finished anyway' },
    ]);
    const seen: string[] = [];
    try {
      const result = await runAgent(task, {
        ...h.options,
        tools: tools.invoker,
        // /dev/full opens but every write fails with ENOSPC.
        transcript: '/dev/full',
        onEvent: (e) => {
          seen.push(e.type);
          throw new Error(`display bug at ${e.type}`);
        },
      });
      expect(result).toMatchObject({ stoppedReason: 'success', finalAnswer: 'finished anyway' });
      expect(seen).toEqual(['run_start', 'llm_request', 'llm_response', 'tool_start', 'tool_end', 'llm_request', 'llm_response', 'run_end']);
    } finally {
      await h.close();
    }
  });
});
