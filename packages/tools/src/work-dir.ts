import { chmod, lstat, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh, unpredictable work directory in the OS temp dir, made `0711`: the sandbox user must
 * traverse it to reach its own workspace but may not list it. A fixed name such as
 * `mini-agent-<pid>` could be created first by another local user, who would then own it.
 */
export async function createWorkDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mini-agent-'));
  await chmod(dir, 0o711);
  return dir;
}

/**
 * Creates `path` (never its parents) with exactly `mode`, or checks the directory already there is
 * one only this process's user controls: not a symlink, owned by the effective uid, and not
 * writable by group or others. Anything else could let another local user read or plant files in
 * the workspaces below it.
 * @throws TypeError naming MINI_AGENT_WORK_DIR and what is wrong.
 */
export async function secureDir(path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, { mode });
    // mkdir's mode is filtered by the umask; chmod sets it exactly.
    await chmod(path, mode);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw refusal(path, 'its parent directory does not exist');
    if (code !== 'EEXIST') throw err;
  }
  const st = await lstat(path);
  const euid = process.geteuid?.();
  if (st.isSymbolicLink()) throw refusal(path, 'it is a symlink');
  if (!st.isDirectory()) throw refusal(path, 'it is not a directory');
  if (euid !== undefined && st.uid !== euid) throw refusal(path, `it is owned by uid ${st.uid}, not by this process's uid ${euid}`);
  if ((st.mode & 0o022) !== 0) throw refusal(path, `it is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
}

function refusal(path: string, why: string): TypeError {
  return new TypeError(
    `Refusing work directory ${path} (MINI_AGENT_WORK_DIR): ${why}. Point MINI_AGENT_WORK_DIR at a directory ` +
      'owned by the gateway user and writable only by it (mode 0711 or stricter), or at a path that does not exist yet',
  );
}
