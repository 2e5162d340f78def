/**
 * A child of `parent` for one call, detached again by `dispose()`. Libraries add abort listeners
 * to the signal they are given and do not always remove them; a run makes many calls, so each
 * gets its own signal and the run's signal keeps one listener at a time.
 */
export function scopedSignal(parent: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const onAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose: () => parent.removeEventListener('abort', onAbort) };
}
