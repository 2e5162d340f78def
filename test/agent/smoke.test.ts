import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, transcriptProblems } from '../../packages/agent/dist/index.js';
import { harness, lastMessage, lastToolResult, localTools, ResearchInvoker } from './helpers.js';

// The reference's three smoke scenarios, through real HTTP and real subprocesses.
describe('smoke scenarios', () => {
  let tools: Awaited<ReturnType<typeof localTools>>;
  beforeAll(async () => {
    tools = await localTools();
  });
  afterAll(() => tools.close());

  it('echo round trip: a tool call, its result read back, a final answer', async () => {
    const h = await harness([
      { toolCalls: [{ name: 'exec_shell', arguments: { cmd: 'echo hello-from-tool' } }] },
      (req) => ({ content: `The tool said: ${lastToolResult(req.body).stdout.trim()}` }),
    ]);
    try {
      const result = await runAgent([{ role: 'user', content: 'Echo something.' }], { ...h.options, tools: tools.invoker });
      expect(result.stoppedReason).toBe('success');
      expect(result.finalAnswer).toBe('The tool said: hello-from-tool');
      expect(result.iterations).toBe(2);
      expect(result.usage).toEqual({ promptTokens: 20, completionTokens: 10, totalTokens: 30 });
      expect(h.fake.rejected).toEqual([]);
      // The tool list reached the model verbatim, with tool_choice.
      expect(h.fake.chatRequests[0]!.body.tools.map((t: any) => t.function.name)).toEqual(['exec_python', 'exec_shell']);
      expect(h.fake.chatRequests[0]!.body.temperature).toBe(0.2);
      expect(transcriptProblems(result.messages)).toEqual([]);
      expect(h.events.map((e) => e.type)).toEqual([
        'run_start', 'llm_request', 'llm_response', 'tool_start', 'tool_end', 'llm_request', 'llm_response', 'run_end',
      ]);
    } finally {
      await h.close();
    }
  });

  it('repair loop: exec_python fails, the observation and directive come back as a user message, the fix succeeds', async () => {
    const h = await harness([
      { toolCalls: [{ name: 'exec_python', arguments: { code: 'print(answer_value * 2)' } }] },
      (req) => {
        const last = lastMessage(req.body);
        // The repair directive is a user message quoting the traceback and the exit status.
        if (last.role !== 'user' || !last.content.includes('NameError') || !last.content.includes('rc=1')) {
          return { content: `no repair directive seen: ${last.role} ${last.content}` };
        }
        return { toolCalls: [{ name: 'exec_python', arguments: { code: 'answer_value = 21\nprint(answer_value * 2)' } }] };
      },
      (req) => ({ content: `Result: ${lastToolResult(req.body).stdout.trim()}` }),
    ]);
    try {
      const result = await runAgent([{ role: 'user', content: 'Compute 21*2 with Python.' }], { ...h.options, tools: tools.invoker });
      expect(result.finalAnswer).toBe('Result: 42');
      expect(result.stoppedReason).toBe('success');
      expect(result.iterations).toBe(3);
      const repairs = h.events.filter((e) => e.type === 'repair_injected');
      expect(repairs.map((e) => e.kind)).toEqual(['repair']);
      expect(h.fake.rejected).toEqual([]);
      expect(transcriptProblems(result.messages)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('research on unsure: an unsure answer is sent back with a research directive, the research tool answers', async () => {
    const research = new ResearchInvoker(tools.invoker);
    const h = await harness([
      { content: "I'm not sure what the zorblax constant is." },
      (req) => {
        const last = lastMessage(req.body);
        if (last.role !== 'user' || !last.content.includes('research_lookup')) return { content: 'no research directive' };
        return { toolCalls: [{ name: 'research_lookup', arguments: { query: 'zorblax constant' } }] };
      },
      (req) => ({ content: `Found it: ${String(req.body.messages.at(-1).content)}` }),
    ]);
    try {
      const result = await runAgent([{ role: 'user', content: 'What is the zorblax constant?' }], { ...h.options, tools: research });
      expect(result.stoppedReason).toBe('success');
      expect(result.finalAnswer).toBe('Found it: The zorblax constant is 1729.');
      expect(research.calls).toEqual(['zorblax constant']);
      expect(h.events.filter((e) => e.type === 'repair_injected').map((e) => e.kind)).toEqual(['unsure']);
      expect(h.fake.rejected).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('an unsure answer is final when no research tool exists', async () => {
    const h = await harness([{ content: "I'm not sure." }]);
    try {
      const result = await runAgent([{ role: 'user', content: 'Hm?' }], { ...h.options, tools: tools.invoker });
      expect(result).toMatchObject({ stoppedReason: 'success', finalAnswer: "I'm not sure.", iterations: 1 });
    } finally {
      await h.close();
    }
  });
});
