import { describe, expect, it } from 'vitest';
import { cutText, messageChars, pruneContext, transcriptProblems } from '../dist/index.js';
import { prng } from './prng.js';

type Msg = Parameters<typeof pruneContext>[0][number];

/** A random but valid agent transcript: system, task, then turns of tool groups, directives, answers. */
function randomTranscript(random: () => number, turns: number): Msg[] {
  const text = (n: number) => 'x'.repeat(Math.floor(random() * n));
  const out: Msg[] = [{ role: 'system', content: 'SYS' }, { role: 'user', content: 'TASK' }];
  for (let t = 0; t < turns; t += 1) {
    const r = random();
    if (r < 0.6) {
      const n = 1 + Math.floor(random() * 4);
      const calls = Array.from({ length: n }, (_, i) => ({ id: `c${t}_${i}`, type: 'function' as const, function: { name: 'f', arguments: `{"a":"${text(200)}"}` } }));
      out.push({ role: 'assistant', content: random() < 0.3 ? text(100) : null, tool_calls: calls });
      for (const c of calls) out.push({ role: 'tool', tool_call_id: c.id, content: text(2_000) });
    } else if (r < 0.8) {
      out.push({ role: 'user', content: `directive ${text(500)}` });
    } else {
      out.push({ role: 'assistant', content: text(300) });
      out.push({ role: 'user', content: `more ${text(100)}` });
    }
  }
  return out;
}

describe('pruneContext invariants over long random runs', () => {
  it('never orphans, keeps system + first user + the latest tool group and what follows, fits when it can', () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const random = prng(seed);
      const messages = randomTranscript(random, 5 + Math.floor(random() * 60));
      expect(transcriptProblems(messages)).toEqual([]);
      const budget = 1_000 + Math.floor(random() * 30_000);
      const out = pruneContext(messages, budget);
      expect(transcriptProblems(out.messages), `seed ${seed}`).toEqual([]);
      expect(out.messages[0]).toEqual({ role: 'system', content: 'SYS' });
      expect(out.messages.find((m) => m.role === 'user')).toEqual({ role: 'user', content: 'TASK' });
      const latest = messages.findLastIndex((m) => m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0);
      if (latest >= 0) expect(out.messages.slice(-(messages.length - latest))).toEqual(messages.slice(latest));
      // Order is preserved: the result is a subsequence of the input.
      let j = 0;
      for (const m of out.messages) {
        while (j < messages.length && messages[j] !== m) j += 1;
        expect(j, `seed ${seed}: order`).toBeLessThan(messages.length);
      }
      const size = out.messages.reduce((a, m) => a + messageChars(m), 0);
      expect(size).toBe(out.afterChars);
      expect(out.overBudget).toBe(size > budget);
      expect(out.removed).toBe(messages.length - out.messages.length);
    }
  });

  it('removes nothing within budget, and the oldest removable groups first', () => {
    const messages = randomTranscript(prng(7), 30);
    expect(pruneContext(messages, 10_000_000)).toMatchObject({ removed: 0, overBudget: false });
    const out = pruneContext(messages, 20_000);
    const kept = new Set(out.messages);
    const firstKeptAfterTask = messages.findIndex((m, i) => i > 1 && kept.has(m));
    // Everything dropped lies before everything kept (apart from system and task).
    messages.forEach((m, i) => {
      if (!kept.has(m)) expect(i).toBeLessThan(firstKeptAfterTask);
    });
  });
});

describe('transcriptProblems', () => {
  it('finds orphan tool messages and unanswered tool_calls', () => {
    const call = { id: 'a', type: 'function' as const, function: { name: 'f', arguments: '{}' } };
    expect(transcriptProblems([{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'a', content: '' }])).toHaveLength(1);
    expect(transcriptProblems([{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: [call] }])).toEqual([
      'end: tool_calls left unanswered: a',
    ]);
    expect(transcriptProblems([
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: 'a', content: '' },
      { role: 'tool', tool_call_id: 'a', content: '' },
    ])).toHaveLength(1);
  });
});

describe('cutText', () => {
  it('keeps head and tail within the limit and names the cut', () => {
    const text = `HEAD${'m'.repeat(10_000)}TAIL`;
    const cut = cutText(text, 500);
    expect(cut.length).toBeLessThanOrEqual(500);
    expect(cut.startsWith('HEAD')).toBe(true);
    expect(cut.endsWith('TAIL')).toBe(true);
    expect(cut).toContain(`[${text.length - 500} of ${text.length} characters cut]`);
    expect(cutText('short', 500)).toBe('short');
  });
});
