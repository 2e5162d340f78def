import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

type Message = ChatCompletionMessageParam;

/** Size of a message as the API sees it: its JSON. */
export function messageChars(message: Message): number {
  return JSON.stringify(message).length;
}

/** A rough token estimate: 4 characters of JSON per token. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** Keeps the head and the tail of `text` within `max` characters, with a marker naming the cut. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `\n…[${text.length - max} of ${text.length} characters cut]…\n`;
  const room = Math.max(0, max - marker.length);
  const head = Math.ceil(room / 2);
  return `${text.slice(0, head)}${marker}${text.slice(text.length - (room - head))}`;
}

function toolCallIds(message: Message): string[] {
  return message.role === 'assistant' ? (message.tool_calls ?? []).map((c) => c.id) : [];
}

/**
 * Structural problems a model API rejects: a tool message that answers no tool_call of the
 * assistant message before it, a tool_call left unanswered. Empty when the transcript is valid.
 */
export function transcriptProblems(messages: readonly Message[]): string[] {
  const problems: string[] = [];
  let open: Set<string> | undefined;
  messages.forEach((m, i) => {
    if (m.role === 'tool') {
      if (open === undefined || !open.delete(m.tool_call_id)) {
        problems.push(`message ${i}: tool message \`${m.tool_call_id}\` answers no tool_call of the preceding assistant message`);
      }
      return;
    }
    if (open !== undefined && open.size > 0) problems.push(`message ${i}: tool_calls left unanswered: ${[...open].join(', ')}`);
    const ids = toolCallIds(m);
    open = ids.length > 0 ? new Set(ids) : m.role === 'assistant' ? new Set() : undefined;
  });
  if (open !== undefined && open.size > 0) problems.push(`end: tool_calls left unanswered: ${[...open].join(', ')}`);
  return problems;
}

interface Group {
  start: number;
  end: number;
  keep: boolean;
  drop: boolean;
}

/** Splits into units removed whole: an assistant with tool_calls plus its tool messages, or one message. */
function groups(messages: readonly Message[]): Group[] {
  const out: Group[] = [];
  for (let i = 0; i < messages.length; ) {
    let end = i + 1;
    if (toolCallIds(messages[i]!).length > 0) while (end < messages.length && messages[end]!.role === 'tool') end += 1;
    out.push({ start: i, end, keep: false, drop: false });
    i = end;
  }
  return out;
}

/** What {@link pruneContext} did. */
export interface PruneOutcome {
  messages: Message[];
  removed: number;
  beforeChars: number;
  afterChars: number;
  /** Still over budget after removing everything that may go. */
  overBudget: boolean;
}

/**
 * Fits `messages` into `maxChars` by removing the oldest removable groups. Kept always: every
 * system/developer message, the first user message, the latest assistant-with-tool_calls with
 * all its tool results, and everything after it (the directives the model has not answered yet).
 * Groups go whole, so no tool message loses its tool_call and no tool_call its answer.
 */
export function pruneContext(messages: readonly Message[], maxChars: number): PruneOutcome {
  const sizes = messages.map(messageChars);
  const beforeChars = sizes.reduce((a, b) => a + b, 0);
  if (beforeChars <= maxChars) return { messages: [...messages], removed: 0, beforeChars, afterChars: beforeChars, overBudget: false };
  const all = groups(messages);
  const firstUser = messages.findIndex((m) => m.role === 'user');
  let latestTools = -1;
  all.forEach((g, i) => {
    if (g.end - g.start > 1 || toolCallIds(messages[g.start]!).length > 0) latestTools = i;
  });
  const keepFrom = latestTools >= 0 ? latestTools : all.length - 1;
  all.forEach((g, i) => {
    const role = messages[g.start]!.role;
    g.keep = i >= keepFrom || role === 'system' || role === 'developer' || g.start === firstUser;
  });
  let total = beforeChars;
  let removed = 0;
  for (const g of all) {
    if (total <= maxChars) break;
    if (g.keep) continue;
    g.drop = true;
    for (let i = g.start; i < g.end; i += 1) total -= sizes[i]!;
    removed += g.end - g.start;
  }
  const kept = all.filter((g) => !g.drop).flatMap((g) => messages.slice(g.start, g.end));
  return { messages: kept, removed, beforeChars, afterChars: total, overBudget: total > maxChars };
}
