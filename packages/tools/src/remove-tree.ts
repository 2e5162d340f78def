import { chmod, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Removes `path` and everything below it, like `rm -rf`. Sandboxed code running as the gateway's
 * own uid can leave directories it may not list or write (`chmod 0`), which `rm` cannot empty:
 * on EACCES or EPERM every directory of the tree is made `u+rwx` (our own files: no privilege
 * needed) and the removal is tried again. Symlinks are never followed.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTEMPTY') throw err;
    await unlockTree(path);
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function unlockTree(dir: string): Promise<void> {
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    try {
      await chmod(current, 0o700);
      for (const entry of await readdir(current, { withFileTypes: true })) {
        if (entry.isDirectory()) pending.push(join(current, entry.name));
      }
    } catch {
      // Gone meanwhile, or not ours: the second rm reports what still cannot be removed.
    }
  }
}
