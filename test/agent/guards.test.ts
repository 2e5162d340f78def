import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, transcriptProblems, type AgentEvent } from '../../packages/agent/dist/index.js';
import { harness, lastMessage, localTools } from './helpers.js';

const task = [{ role: 'system' as const, content: 'You are terse.' }, { role: 'user' as const, content: 'Do the thing.' }];
const py = (code: string) => ({ name: 'exec_python', arguments: { code } });
const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

describe('guards, through the fake model API and real tools', () => {
  let tools: Awaited<ReturnType<typeof localTools>>;
  beforeAll(async () => {
    tools = await localTools();
  });
  afterAll(() => tools.close());

  it('maxIterations stops a run that never answers; different calls of one tool are not stagnation', async () => {
    const h = await harness([0, 1, 2, 3, 4].map((i) => () => ({ toolCalls: [py(`print(${i} * 10)`)] })));
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker, maxIterations: 3 });
      expect(result.stoppedReason).toBe('max_iterations');
      expect(result.iterations).toBe(3);
      expect(h.fake.chatRequests).toHaveLength(3);
      expect(ofType(h.events, 'tool_end').map((e) => e.ok)).toEqual([true, true, true]);
      expect(ofType(h.events, 'guard_tripped').map((e) => e.guard)).toEqual(['max_iterations']);
      expect(transcriptProblems(result.messages)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('maxToolsPerIteration: calls past the limit do not run but still get a tool message', async () => {
    const calls = [1, 2, 3, 4, 5, 6].map((i) => py(`print(${i})`));
    const h = await harness([{ toolCalls: calls }, { content: 'done' }]);
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(result.stoppedReason).toBe('success');
      expect(ofType(h.events, 'tool_start')).toHaveLength(4);
      const toolMessages = h.fake.chatRequests[1]!.body.messages.filter((m: any) => m.role === 'tool');
      expect(toolMessages).toHaveLength(6);
      expect(toolMessages.slice(4).map((m: any) => JSON.parse(m.content).error)).toEqual([
        expect.stringContaining('skipped: at most 4 tool calls'), expect.stringContaining('skipped: at most 4 tool calls'),
      ]);
      expect(toolMessages.slice(0, 4).map((m: any) => JSON.parse(m.content).stdout)).toEqual(['1\n', '2\n', '3\n', '4\n']);
      expect(ofType(h.events, 'guard_tripped')).toMatchObject([{ guard: 'max_tools_per_iteration', action: 'skip' }]);
      expect(h.fake.rejected).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('toolAllowlist: only allowed tools are offered, a call to another one is refused without running', async () => {
    const h = await harness([
      { toolCalls: [{ name: 'exec_shell', arguments: { cmd: 'echo should-not-run' } }] },
      (req) => ({ content: lastMessage(req.body).content }),
    ]);
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker, toolAllowlist: ['exec_python'] });
      expect(h.fake.chatRequests[0]!.body.tools.map((t: any) => t.function.name)).toEqual(['exec_python']);
      expect(ofType(h.events, 'tool_start')).toHaveLength(0);
      expect(ofType(h.events, 'guard_tripped')).toMatchObject([{ guard: 'tool_allowlist', detail: 'exec_shell' }]);
      const toolMessage = result.messages.find((m) => m.role === 'tool')!;
      expect(String(toolMessage.content)).toContain('`exec_shell` is not allowed in this run; allowed tools: exec_python');
      // The refusal is also a failure the model is told to repair.
      expect(result.finalAnswer).toContain('exec_shell');
    } finally {
      await h.close();
    }
  });

  it('an unknown tool gets an error observation naming the available tools', async () => {
    const h = await harness([{ toolCalls: [{ name: 'rm_rf', arguments: {} }] }, { content: 'ok' }]);
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker });
      const content = String(result.messages.find((m) => m.role === 'tool')!.content);
      expect(content).toContain('tool `rm_rf` does not exist; available tools: exec_python, exec_shell');
      expect(h.fake.rejected).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('toolConcurrency runs calls at once and appends results in call order', async () => {
    const sleeps = [0.6, 0.1, 0.3];
    const h = await harness([
      { toolCalls: sleeps.map((s, i) => py(`import time; time.sleep(${s}); print("call-${i}")`)) },
      { content: 'done' },
    ]);
    try {
      const started = performance.now();
      const result = await runAgent(task, { ...h.options, tools: tools.invoker, toolConcurrency: 3 });
      const elapsed = performance.now() - started;
      expect(result.stoppedReason).toBe('success');
      const toolMessages = result.messages.filter((m) => m.role === 'tool');
      expect(toolMessages.map((m) => JSON.parse(String(m.content)).stdout)).toEqual(['call-0\n', 'call-1\n', 'call-2\n']);
      // Finishing order differs from call order: the proof they overlapped.
      expect(ofType(h.events, 'tool_end').map((e) => e.callId)).toEqual(['call_0_1', 'call_0_2', 'call_0_0']);
      expect(elapsed).toBeLessThan(1000 + 400);
    } finally {
      await h.close();
    }
  });

  it('stagnation on (tool, canonical arguments): a directive naming the repetition first, then a stop', async () => {
    // Same call with its keys in a different order each time: canonical JSON makes them equal.
    const variants = ['{"code":"print(7)","timeout_s":5}', '{"timeout_s":5,"code":"print(7)"}', '{ "code": "print(7)", "timeout_s": 5 }'];
    const h = await harness([0, 1, 2, 3, 4].map((i) => () => ({ toolCalls: [{ name: 'exec_python', arguments: variants[i % 3]! }] })));
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(result.stoppedReason).toBe('stagnation');
      expect(result.iterations).toBe(4);
      // The fourth identical call never ran.
      expect(ofType(h.events, 'tool_start')).toHaveLength(3);
      expect(ofType(h.events, 'guard_tripped').map((e) => [e.guard, e.action])).toEqual([['stagnation', 'directive'], ['stagnation', 'stop']]);
      const directive = lastMessage(h.fake.chatRequests[3]!.body);
      expect(directive).toMatchObject({ role: 'user' });
      expect(directive.content).toContain('You called `exec_python` with the same arguments 3 times in a row');
      expect(transcriptProblems(result.messages)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('stagnation on the same failed result from different calls', async () => {
    const codes = ['raise SystemExit(3)', 'import sys; sys.exit(3)', 'exit(3)', 'import os; os._exit(3)', 'quit(3)'];
    const h = await harness(codes.map((c) => () => ({ toolCalls: [py(c)] })));
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(result.stoppedReason).toBe('stagnation');
      expect(ofType(h.events, 'tool_start')).toHaveLength(4);
      const userTexts = h.fake.chatRequests[3]!.body.messages.filter((m: any) => m.role === 'user').map((m: any) => m.content);
      expect(userTexts).toContainEqual(expect.stringContaining('The last 3 tool calls failed with the same result'));
    } finally {
      await h.close();
    }
  });

  it('distinct successful calls with the same (empty) result are not stagnation', async () => {
    const writes = ['a', 'b', 'c', 'd'].map((f, i) => py(`open("${f}.txt", "w").write("${i}")`));
    const h = await harness([...writes.map((w) => ({ toolCalls: [w] })), { content: 'four files written' }]);
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(ofType(h.events, 'tool_end').map((e) => [e.ok, e.content])).toEqual(
        writes.map(() => [true, expect.stringContaining('"stdout":""')]),
      );
      expect(ofType(h.events, 'guard_tripped')).toEqual([]);
      expect(result).toMatchObject({ stoppedReason: 'success', finalAnswer: 'four files written', iterations: 5 });
    } finally {
      await h.close();
    }
  });

  it('malformed JSON arguments become an error observation, never {}; nothing runs', async () => {
    const h = await harness([
      { toolCalls: [{ name: 'exec_python', arguments: '{"code": "print(1)"' }] },
      { content: 'gave up' },
    ]);
    try {
      const result = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(ofType(h.events, 'tool_start')).toHaveLength(0);
      const tool = JSON.parse(String(result.messages.find((m) => m.role === 'tool')!.content));
      expect(tool).toMatchObject({ ok: false, error: expect.stringContaining('arguments of `exec_python` are not valid JSON') });
      expect(ofType(h.events, 'repair_injected').map((e) => e.kind)).toEqual(['repair']);
      expect(h.fake.rejected).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('runs tools only for finish_reason tool_calls: length and content_filter never run them; an empty list is an answer', async () => {
    const h = await harness([
      { content: 'partial', toolCalls: [py('print("nope")')], finishReason: 'length' },
      { content: null, toolCalls: [py('print("nope")')], finishReason: 'content_filter' },
      { content: 'final', toolCalls: [], finishReason: 'tool_calls' },
    ]);
    try {
      const length = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(length).toMatchObject({ stoppedReason: 'budget', finalAnswer: 'partial', iterations: 1 });
      const filtered = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(filtered).toMatchObject({ stoppedReason: 'error', error: expect.stringContaining('content filter') });
      const empty = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(empty).toMatchObject({ stoppedReason: 'success', finalAnswer: 'final' });
      expect(ofType(h.events, 'tool_start')).toHaveLength(0);
      for (const r of [length, filtered, empty]) expect(transcriptProblems(r.messages)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('tool calls under finish_reason stop never run; with no text besides them the run ends with error, not success', async () => {
    const h = await harness([
      { content: null, toolCalls: [py('print("nope")')], finishReason: 'stop' },
      { content: 'the answer', toolCalls: [py('print("nope")')], finishReason: 'stop' },
    ]);
    try {
      const empty = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(empty).toMatchObject({ stoppedReason: 'error', finalAnswer: null, error: expect.stringContaining('finish_reason `stop`') });
      const answered = await runAgent(task, { ...h.options, tools: tools.invoker });
      expect(answered).toMatchObject({ stoppedReason: 'success', finalAnswer: 'the answer' });
      expect(ofType(h.events, 'tool_start')).toHaveLength(0);
      for (const r of [empty, answered]) expect(transcriptProblems(r.messages)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('after repeated failures a research directive follows, at most maxResearchHops times', async () => {
    const { ResearchInvoker } = await import('./helpers.js');
    const research = new ResearchInvoker(tools.invoker);
    const h = await harness([0, 1, 2, 3, 4, 5].map((i) => () => ({ toolCalls: [py(`raise SystemExit(${i + 1})`)] })));
    try {
      const result = await runAgent(task, { ...h.options, tools: research, maxIterations: 6 });
      expect(result.stoppedReason).toBe('max_iterations');
      const kinds = ofType(h.events, 'repair_injected').map((e) => e.kind);
      expect(kinds).toEqual(['repair', 'research', 'research', 'repair', 'repair', 'repair']);
      expect(lastMessage(h.fake.chatRequests[2]!.body).content).toContain('Use the research tools (`research_lookup`)');
    } finally {
      await h.close();
    }
  });
});
