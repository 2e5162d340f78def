import { errors } from './errors.js';

/** Limits of the admission queue; `resolveConfig()` fills every field. */
export interface AdmissionOptions {
  /** Runs at once, over all principals. */
  maxConcurrency: number;
  /** Runs at once of any one principal. */
  maxConcurrencyPerPrincipal: number;
  /** Calls waiting for a slot, over all principals; past it `429 QUEUE_FULL`. */
  maxQueue: number;
  /** Longest wait for a slot, in milliseconds; then `429 QUEUE_TIMEOUT`. */
  queueTimeoutMs: number;
}

/** Why a call was not admitted; each is an error code the caller sees. */
export type RefusalReason = 'QUEUE_FULL' | 'QUEUE_TIMEOUT' | 'SHUTTING_DOWN' | 'CLIENT_CLOSED';

/** Gives a slot back; calling it twice is harmless. */
export type Release = () => void;

interface Waiter {
  principal: string;
  enqueuedAt: number;
  resolve(release: Release): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  signal: AbortSignal;
  onAbort(): void;
}

// Bounds of the Retry-After hint, in seconds: at least one, and never so long a client gives up.
const MIN_RETRY_AFTER_S = 1;
const MAX_RETRY_AFTER_S = 30;
// Weight of the newest run in the running mean of run durations that Retry-After is derived from.
const DURATION_EWMA_ALPHA = 0.2;

/**
 * Decides when a tool call may run. At most `maxConcurrency` runs at once and at most
 * `maxConcurrencyPerPrincipal` of one principal; the others wait in a bounded queue.
 *
 * Fairness: a freed slot goes round-robin to the principals with waiting calls (FIFO within a
 * principal), so a principal that queued a hundred calls gets one slot in turn like one that
 * queued one. When the queue is full, a newcomer whose principal holds fewer waiting calls than the
 * biggest holder pushes out that holder's newest call (answered `QUEUE_FULL`), so a flood cannot
 * take the whole queue from everyone else either.
 *
 * Every refusal happens before anything ran, so retrying it is safe.
 */
export class Admission {
  readonly options: Readonly<AdmissionOptions>;
  #running = 0;
  #runningBy = new Map<string, number>();
  // Insertion order is the round-robin order: a principal served goes to the back.
  #waiting = new Map<string, Waiter[]>();
  #queued = 0;
  #closed = false;
  #meanRunMs = 1000;
  /** Told of every refusal, for metrics. */
  onRefuse: ((reason: RefusalReason, principal: string) => void) | undefined;
  /** Told how long each admitted call waited, in seconds. */
  onAdmit: ((waitS: number, principal: string) => void) | undefined;

  constructor(options: AdmissionOptions) {
    for (const [key, min] of [
      ['maxConcurrency', 1],
      ['maxConcurrencyPerPrincipal', 1],
      ['maxQueue', 0],
      ['queueTimeoutMs', 0],
    ] as const) {
      const value = options[key];
      if (!Number.isFinite(value) || value < min) throw new TypeError(`Expected \`${key}\` to be a number >= ${min}, got \`${value}\``);
    }
    this.options = { ...options };
  }

  /** Runs in progress. */
  get running(): number {
    return this.#running;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.#queued;
  }

  /** Runs in progress of `principal`. */
  runningOf(principal: string): number {
    return this.#runningBy.get(principal) ?? 0;
  }

  /** Calls of `principal` waiting for a slot. */
  queuedOf(principal: string): number {
    return this.#waiting.get(principal)?.length ?? 0;
  }

  /** Seconds a refused caller should wait: about the time the queue ahead of it takes to clear. */
  retryAfterS(): number {
    const ahead = this.#queued + 1;
    const s = Math.ceil((this.#meanRunMs * ahead) / this.options.maxConcurrency / 1000);
    return Math.min(MAX_RETRY_AFTER_S, Math.max(MIN_RETRY_AFTER_S, s));
  }

  /**
   * Waits for a slot for `principal`. Resolves with the function that gives it back.
   * @throws QueueFull, QueueTimeout, ShuttingDown, or ClientClosed (when `signal` aborts while waiting).
   */
  acquire(principal: string, signal: AbortSignal): Promise<Release> {
    if (this.#closed) return this.#refuse('SHUTTING_DOWN', principal);
    if (signal.aborted) return this.#refuse('CLIENT_CLOSED', principal);
    // Calls of this principal already waiting go first. Others' waiting calls do not block it: they
    // are waiting only because their principals are at their own limits (dispatch runs on every release).
    if (this.queuedOf(principal) === 0 && this.#canRun(principal)) return Promise.resolve(this.#start(principal, 0));

    if (this.#queued >= this.options.maxQueue) {
      const victim = this.#pushOutCandidate(principal);
      if (victim === undefined) return this.#refuse('QUEUE_FULL', principal);
      this.#drop(victim, this.#error('QUEUE_FULL'));
      this.onRefuse?.('QUEUE_FULL', victim.principal);
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        principal,
        enqueuedAt: performance.now(),
        resolve,
        reject,
        signal,
        timer: setTimeout(() => {
          this.#drop(waiter, this.#error('QUEUE_TIMEOUT'));
          this.onRefuse?.('QUEUE_TIMEOUT', principal);
        }, this.options.queueTimeoutMs),
        onAbort: () => {
          this.#drop(waiter, new errors.ClientClosed());
          this.onRefuse?.('CLIENT_CLOSED', principal);
        },
      };
      waiter.timer.unref();
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      let list = this.#waiting.get(principal);
      if (list === undefined) this.#waiting.set(principal, (list = []));
      list.push(waiter);
      this.#queued += 1;
    });
  }

  /** Refuses every waiting call and every later one with SHUTTING_DOWN; runs in progress go on. */
  close(): void {
    this.#closed = true;
    for (const list of [...this.#waiting.values()]) {
      for (const waiter of [...list]) {
        this.#drop(waiter, new errors.ShuttingDown());
        this.onRefuse?.('SHUTTING_DOWN', waiter.principal);
      }
    }
  }

  #canRun(principal: string): boolean {
    return this.#running < this.options.maxConcurrency && this.runningOf(principal) < this.options.maxConcurrencyPerPrincipal;
  }

  #start(principal: string, waitMs: number): Release {
    this.#running += 1;
    this.#runningBy.set(principal, this.runningOf(principal) + 1);
    this.onAdmit?.(waitMs / 1000, principal);
    const started = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running -= 1;
      const left = this.runningOf(principal) - 1;
      if (left === 0) this.#runningBy.delete(principal);
      else this.#runningBy.set(principal, left);
      const ms = performance.now() - started;
      this.#meanRunMs += DURATION_EWMA_ALPHA * (ms - this.#meanRunMs);
      this.#dispatch();
    };
  }

  /** Hands free slots to waiting calls, one principal at a time in round-robin order. */
  #dispatch(): void {
    while (this.#queued > 0 && this.#running < this.options.maxConcurrency) {
      let next: Waiter | undefined;
      for (const [principal, list] of this.#waiting) {
        if (this.runningOf(principal) < this.options.maxConcurrencyPerPrincipal) {
          next = list[0];
          break;
        }
      }
      // Every waiting principal is at its own limit: the free slot waits for one of them.
      if (next === undefined) return;
      this.#remove(next);
      // Served: to the back of the round, if it still has calls waiting.
      const rest = this.#waiting.get(next.principal);
      if (rest !== undefined) {
        this.#waiting.delete(next.principal);
        this.#waiting.set(next.principal, rest);
      }
      next.resolve(this.#start(next.principal, performance.now() - next.enqueuedAt));
    }
  }

  /** The newest waiting call of the principal holding the most queue, if it holds more than `principal`. */
  #pushOutCandidate(principal: string): Waiter | undefined {
    let biggest: Waiter[] | undefined;
    for (const list of this.#waiting.values()) {
      if (biggest === undefined || list.length > biggest.length) biggest = list;
    }
    if (biggest === undefined || biggest.length <= this.queuedOf(principal) + 1) return undefined;
    return biggest[biggest.length - 1];
  }

  #remove(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiter.signal.removeEventListener('abort', waiter.onAbort);
    const list = this.#waiting.get(waiter.principal);
    const index = list?.indexOf(waiter) ?? -1;
    if (list === undefined || index === -1) return;
    list.splice(index, 1);
    if (list.length === 0) this.#waiting.delete(waiter.principal);
    this.#queued -= 1;
  }

  #drop(waiter: Waiter, err: Error): void {
    this.#remove(waiter);
    waiter.reject(err);
    // A principal at its own limit may have been the only thing blocking others.
    this.#dispatch();
  }

  #error(reason: 'QUEUE_FULL' | 'QUEUE_TIMEOUT'): Error & { retryAfterS: number } {
    const err = reason === 'QUEUE_FULL'
      ? new errors.QueueFull(this.options.maxQueue)
      : new errors.QueueTimeout(this.options.queueTimeoutMs / 1000);
    return Object.assign(err, { retryAfterS: this.retryAfterS() });
  }

  #refuse(reason: RefusalReason, principal: string): Promise<never> {
    this.onRefuse?.(reason, principal);
    const err =
      reason === 'SHUTTING_DOWN' ? new errors.ShuttingDown() : reason === 'CLIENT_CLOSED' ? new errors.ClientClosed() : this.#error(reason);
    return Promise.reject(err);
  }
}
