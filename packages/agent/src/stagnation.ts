import { canonicalJson } from './canonical-json.js';

/** What repeated: the same call, or the same result from different calls. */
export type Repetition = { kind: 'arguments' | 'result'; tool: string; count: number };

/**
 * Watches tool calls across turns. The reference hashed tool names only, so three different
 * `exec_python` programs in a row looked stuck; here a call is (tool, canonical arguments) and a
 * result is (tool, result text) of a failed call.
 */
export class StagnationDetector {
  readonly #window: number;
  readonly #calls: string[] = [];
  readonly #results: string[] = [];
  readonly #tools: string[] = [];

  constructor(window: number) {
    this.#window = window;
  }

  /** The key a call is compared by. */
  static callKey(tool: string, args: string): string {
    return `${tool}\u0000${canonicalJson(args)}`;
  }

  /** True when running this call (after `pending` keys of the same turn) would make the last `window` calls identical. */
  wouldRepeat(tool: string, args: string, pending: readonly string[] = []): boolean {
    const key = StagnationDetector.callKey(tool, args);
    const tail = [...this.#calls, ...pending].slice(-(this.#window - 1));
    return tail.length === this.#window - 1 && tail.every((k) => k === key);
  }

  /**
   * Records one answered call. `failedResult` is the result text of a failed call, `undefined`
   * for a success: distinct successful calls often return the same text (a file write prints
   * nothing), so only failures count towards the same-result rule.
   */
  record(tool: string, args: string, failedResult: string | undefined): void {
    this.#calls.push(StagnationDetector.callKey(tool, args));
    this.#results.push(failedResult === undefined ? `\u0001ok\u0000${this.#results.length}` : `${tool}\u0000${failedResult}`);
    this.#tools.push(tool);
  }

  /** The repetition the last `window` calls show, if any. */
  check(): Repetition | undefined {
    if (this.#calls.length < this.#window) return undefined;
    const same = (list: string[]): boolean => list.slice(-this.#window).every((k) => k === list.at(-1));
    const tool = this.#tools.at(-1) ?? '';
    if (same(this.#calls)) return { kind: 'arguments', tool, count: this.#window };
    if (same(this.#results)) return { kind: 'result', tool, count: this.#window };
    return undefined;
  }
}

/** The directive that names the repetition, sent once before the run is stopped for it. */
export function stagnationDirective(rep: Repetition): string {
  const what = rep.kind === 'arguments'
    ? `You called \`${rep.tool}\` with the same arguments ${rep.count} times in a row`
    : `The last ${rep.count} tool calls failed with the same result`;
  return `${what}; repeating it will not change the outcome. Try a different approach, or give your final answer now. If this repeats again the run stops.`;
}
