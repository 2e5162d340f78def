import { cutText } from './context.js';

/** One answered tool call, as repair and stagnation see it. */
export interface ToolOutcome {
  callId: string;
  name: string;
  arguments: string;
  /** The tool message content the model reads. */
  content: string;
  /** False for a failed run (`data.ok === false`), a refused call, or a skipped one. */
  ok: boolean;
  /** Structured result (`data`) when the tool ran. */
  data?: Record<string, unknown>;
  error?: { code: string; message: string };
  skipped?: string;
}

/**
 * A compact view of a failed call: the tool, its exit status and the head and tail of its
 * output within `budget` characters per stream, so a long traceback cannot crowd out the task.
 */
export function compactObservation(outcome: ToolOutcome, budget: number): string {
  const lines = [`- \`${outcome.name}\` failed`];
  if (outcome.error !== undefined) {
    lines[0] += `: ${outcome.error.code}: ${cutText(outcome.error.message, budget)}`;
    return lines.join('\n');
  }
  const data = outcome.data ?? {};
  const status: string[] = [];
  if (data.rc !== undefined) status.push(`rc=${String(data.rc)}`);
  if (data.signal) status.push(`signal=${String(data.signal)}`);
  if (data.timed_out === true) status.push('timed out');
  if (data.truncated === true) status.push('output truncated');
  if (status.length > 0) lines[0] += ` (${status.join(', ')})`;
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = data[stream];
    if (typeof text === 'string' && text.trim() !== '') lines.push(`  ${stream}:\n${indent(cutText(text.trimEnd(), budget))}`);
  }
  if (lines.length === 1 && outcome.data === undefined) lines.push(`  result: ${cutText(outcome.content, budget)}`);
  return lines.join('\n');
}

function indent(text: string): string {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}

/** The `user` message sent after a turn with failed calls: what failed, and to fix the approach. */
export function repairDirective(failures: readonly ToolOutcome[], budget: number): string {
  return [
    'The last tool call failed. Observation:',
    ...failures.map((f) => compactObservation(f, budget)),
    'Read the error, fix the cause (not the symptom) and try again with a corrected call. Do not repeat the same call unchanged.',
  ].join('\n');
}

/** The `user` message that points the model at its research tools. */
export function researchDirective(tools: readonly string[], why: 'failures' | 'unsure'): string {
  const reason = why === 'failures'
    ? 'Your attempts keep failing.'
    : 'Your answer sounds unsure.';
  return `${reason} Use the research tools (${tools.map((t) => `\`${t}\``).join(', ')}) to look up what you need, then continue with what you learn.`;
}

/** Phrases of an answer that is guessing rather than knowing. */
export const UNSURE_PATTERNS: readonly RegExp[] = [
  /\b(?:i['’]?m|i am) (?:not (?:sure|certain)|unsure|uncertain)\b/i,
  /\bnot (?:entirely |completely |totally )?(?:sure|certain)\b/i,
  /\bi (?:don['’]?t|do not) know\b/i,
  /\b(?:cannot|can['’]?t|unable to) (?:determine|verify|confirm)\b/i,
  /\bi (?:would|might) need to (?:check|look (?:it )?up|verify)\b/i,
];

/** Whether a final answer looks unsure (the reference's research-on-unsure trigger). */
export function looksUnsure(text: string | null | undefined): boolean {
  return typeof text === 'string' && UNSURE_PATTERNS.some((p) => p.test(text));
}
