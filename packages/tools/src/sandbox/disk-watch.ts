import { statfs } from 'node:fs/promises';
import { measureUsage } from './disk-usage.js';
import type { SandboxLimits } from './types.js';

/** A full walk of the workspace at least this often, whatever the file system says. */
const WALK_INTERVAL_MS = 100;
/**
 * How often the free space of the workspace's file system is read (one cheap `statfs`). When it
 * fell by more than the workspace's headroom since the last walk began, the next walk starts at
 * once instead of waiting out {@link WALK_INTERVAL_MS}: a fast writer is caught within a walk.
 */
const STATFS_INTERVAL_MS = 10;

/**
 * Watches a running call's workspace against its disk limits and calls `onOver` once with why,
 * when a walk finds it over. Only one walk runs at a time; a walk is bounded by `maxFiles`.
 * Other writers on the same file system only make walks more frequent, never kill a call.
 * @returns stops the watch.
 */
export function watchWorkspace(workspace: string, limits: SandboxLimits, onOver: (why: string) => void): () => void {
  let stopped = false;
  let busy = false;
  // The first tick walks: it sets the free-space reference the cheap checks compare against.
  let lastWalk = Number.NEGATIVE_INFINITY;
  // Free bytes when the last walk began, and how many more the workspace could take then.
  let freeAtWalk: number | undefined;
  let headroom = limits.diskBytes;

  const free = async (): Promise<number | undefined> => {
    try {
      const st = await statfs(workspace);
      return st.bfree * st.bsize;
    } catch {
      return undefined;
    }
  };

  const walk = async (freeNow: number | undefined) => {
    lastWalk = performance.now();
    freeAtWalk = freeNow ?? (await free());
    const usage = await measureUsage(workspace, { maxBytes: limits.diskBytes, maxEntries: limits.maxFiles });
    headroom = limits.diskBytes - usage.bytes;
    if (usage.over === undefined || stopped) return;
    stopped = true;
    onOver(
      usage.over === 'entries'
        ? `the workspace holds more than ${limits.maxFiles} files, its file-count limit`
        : usage.over === 'unreadable'
          ? 'the workspace has a directory the gateway cannot read, so its disk use cannot be measured'
          : `the workspace grew past its ${limits.diskBytes}-byte disk limit`,
    );
  };

  const tick = async () => {
    if (performance.now() - lastWalk >= WALK_INTERVAL_MS) return walk(undefined);
    const now = await free();
    if (now !== undefined && freeAtWalk !== undefined && freeAtWalk - now > headroom) return walk(now);
  };

  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = true;
    void tick().finally(() => {
      busy = false;
    });
  }, STATFS_INTERVAL_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
