/**
 * The runs in flight, so shutdown can wait for them and then kill what is left. Once `closing`
 * is set, no new run is admitted.
 */
export class InFlight {
  #runs = new Map<AbortController, Promise<unknown>>();
  #closing = false;
  #drained: Promise<void> | undefined;

  get closing(): boolean {
    return this.#closing;
  }

  get size(): number {
    return this.#runs.size;
  }

  /** Runs `task` under `controller`, tracked until it settles. */
  async track<T>(controller: AbortController, task: () => Promise<T>): Promise<T> {
    const promise = task();
    this.#runs.set(controller, promise);
    try {
      return await promise;
    } finally {
      this.#runs.delete(controller);
    }
  }

  /** Stops admitting runs, lets those in flight finish for up to `graceMs`, then aborts the rest. */
  drain(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#drained ??= this.#drain(graceMs);
    return this.#drained;
  }

  async #drain(graceMs: number): Promise<void> {
    const settled = () => Promise.allSettled([...this.#runs.values()]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([settled(), deadline]);
    clearTimeout(timer);
    for (const controller of this.#runs.keys()) controller.abort(new Error('gateway shutting down'));
    await settled();
  }
}
