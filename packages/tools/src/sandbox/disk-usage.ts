import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every entry costs at least this much, so a million empty files cannot exhaust inodes for free. */
export const MIN_ENTRY_BYTES = 1024;

/**
 * Bytes `dir` holds on disk (allocated blocks, symlinks never followed), counting each entry as at
 * least {@link MIN_ENTRY_BYTES}. Stops early once the count passes `stopAbove`, so checking a
 * workspace that is being flooded costs no more than the quota. Entries that vanish mid-walk are
 * skipped: the sandboxed code may be deleting files while we count.
 */
export async function diskUsage(dir: string, stopAbove = Number.POSITIVE_INFINITY): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0 && total <= stopAbove) {
    const current = pending.pop()!;
    let names: string[];
    try {
      names = await readdir(current);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(current, name);
      try {
        const st = await lstat(path);
        total += Math.max(st.blocks * 512, MIN_ENTRY_BYTES);
        if (st.isDirectory()) pending.push(path);
      } catch {
        // Removed while we walked.
      }
      if (total > stopAbove) break;
    }
  }
  return total;
}
