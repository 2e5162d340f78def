import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, transcriptProblems, type AgentEvent } from '../../packages/agent/dist/index.js';
import type { ReplyStep } from '../fake-llm/server.js';
import { prng } from '../../packages/agent/test/prng.js';
import { harness, localTools } from './helpers.js';

describe('context pruning over long runs', () => {
  let tools: Awaited<ReturnType<typeof localTools>>;
  beforeAll(async () => {
    tools = await localTools();
  });
  afterAll(() => tools.close());

  it.each([11, 23])('seed %i: every request fits, keeps system + task + the latest tool group, and the API accepts it', async (seed) => {
    const random = prng(seed);
    const turns = 24;
    const violations: string[] = [];
    let lastCalls: string[] = [];
    let n = 0;
    const step = (req: { body: any }, index: number): ReplyStep => {
      const msgs: any[] = req.body.messages;
      const chars = msgs.reduce((a, m) => a + JSON.stringify(m).length, 0);
      if (msgs[0]?.content !== 'SYSTEM PROMPT') violations.push(`${index}: system message lost`);
      if (msgs.filter((m) => m.role === 'user')[0]?.content !== 'THE TASK') violations.push(`${index}: first user message lost`);
      if (lastCalls.length > 0) {
        const group = msgs.findLastIndex((m) => m.role === 'assistant' && m.tool_calls?.length > 0);
        const ids = (msgs[group]?.tool_calls ?? []).map((c: any) => c.id);
        if (JSON.stringify(ids) !== JSON.stringify(lastCalls)) violations.push(`${index}: latest tool group missing`);
        const answered = msgs.slice(group + 1, group + 1 + ids.length).map((m) => m.tool_call_id);
        if (JSON.stringify(answered) !== JSON.stringify(ids)) violations.push(`${index}: latest tool results not whole`);
      }
      if (chars > 9_000 && index > 0) violations.push(`${index}: ${chars} chars sent`);
      if (index === turns - 1) return { content: 'done' };
      const count = 1 + Math.floor(random() * 3);
      const calls = Array.from({ length: count }, () => {
        n += 1;
        // Now and then a failing call, so repair directives sit between the groups too.
        return random() < 0.2
          ? { name: 'exec_python', arguments: { code: `raise ValueError("boom ${n}")` } }
          : { name: 'exec_shell', arguments: { cmd: `seq ${n} ${n + 150 + Math.floor(random() * 400)}` } };
      });
      lastCalls = calls.map((_, i) => `call_${index}_${i}`);
      return { toolCalls: calls };
    };
    const h = await harness(Array.from({ length: turns }, () => step));
    try {
      const result = await runAgent(
        [{ role: 'system', content: 'SYSTEM PROMPT' }, { role: 'user', content: 'THE TASK' }],
        { ...h.options, tools: tools.invoker, maxIterations: turns, maxContextChars: 9_000, maxToolOutputChars: 1_500 },
      );
      expect(violations).toEqual([]);
      expect(h.fake.rejected).toEqual([]);
      expect(result).toMatchObject({ stoppedReason: 'success', finalAnswer: 'done', iterations: turns });
      const pruned = h.events.filter((e): e is Extract<AgentEvent, { type: 'context_pruned' }> => e.type === 'context_pruned');
      expect(pruned.length).toBeGreaterThan(10);
      expect(pruned.every((e) => e.afterChars <= 9_000 && !e.overBudget)).toBe(true);
      // The result keeps the whole history: pruning shapes what is sent, not what happened.
      expect(result.messages.length).toBeGreaterThan(h.fake.chatRequests.at(-1)!.body.messages.length);
      expect(transcriptProblems(result.messages)).toEqual([]);
      // Oversized outputs were cut with a marker.
      expect(result.messages.some((m) => m.role === 'tool' && String(m.content).includes('characters cut]'))).toBe(true);
    } finally {
      await h.close();
    }
  });
});
