import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every entry costs at least this much, so a million empty files cannot exhaust inodes for free. */
export const MIN_ENTRY_BYTES = 1024;

/** lstat calls in flight at once: enough to keep libuv's thread pool busy, few enough to stay fair. */
const LSTAT_BATCH = 64;

/** What a workspace may hold. */
export interface UsageLimits {
  /** Bytes (each entry counted as at least {@link MIN_ENTRY_BYTES}). */
  maxBytes: number;
  /** Files, directories and links, all counted. */
  maxEntries: number;
}

/** What a walk found; `over` names the first limit passed, after which the walk stopped. */
export interface Usage {
  bytes: number;
  entries: number;
  /** `unreadable`: a directory the gateway may not list, so nothing in it can be counted. */
  over?: 'bytes' | 'entries' | 'unreadable' | undefined;
}

/**
 * Measures `dir` (allocated blocks, symlinks never followed), stopping as soon as a limit is passed:
 * checking a workspace that is being flooded costs no more than its limits. Entries are counted
 * from each directory listing before any of them is stat'ed, so one huge directory is refused
 * without a stat per file. Entries that vanish mid-walk are skipped: the sandboxed code may be
 * deleting files while we count. A directory the gateway may not list (code running as the
 * gateway's uid can `chmod 0300` its own) counts as over: what it holds cannot be measured.
 */
export async function measureUsage(dir: string, limits: UsageLimits): Promise<Usage> {
  let bytes = 0;
  let entries = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    let names: string[];
    try {
      names = await readdir(current);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return { bytes, entries, over: 'unreadable' };
      continue;
    }
    entries += names.length;
    if (entries > limits.maxEntries) return { bytes, entries, over: 'entries' };
    for (let i = 0; i < names.length; i += LSTAT_BATCH) {
      const paths = names.slice(i, i + LSTAT_BATCH).map((name) => join(current, name));
      const stats = await Promise.all(paths.map((path) => lstat(path).catch(() => undefined)));
      stats.forEach((st, j) => {
        if (st === undefined) return;
        bytes += Math.max(st.blocks * 512, MIN_ENTRY_BYTES);
        if (st.isDirectory()) pending.push(paths[j]!);
      });
      if (bytes > limits.maxBytes) return { bytes, entries, over: 'bytes' };
    }
  }
  return { bytes, entries };
}

/** Bytes `dir` holds, as {@link measureUsage} counts them; stops early once past `stopAbove`. */
export async function diskUsage(dir: string, stopAbove = Number.POSITIVE_INFINITY): Promise<number> {
  return (await measureUsage(dir, { maxBytes: stopAbove, maxEntries: Number.POSITIVE_INFINITY })).bytes;
}
