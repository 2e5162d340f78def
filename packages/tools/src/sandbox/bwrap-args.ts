import { lstatSync, readlinkSync } from 'node:fs';

/** Where the workspace appears inside the sandbox: the child's cwd and HOME. */
export const SANDBOX_WORKSPACE = '/workspace';

/** The system the sandbox sees read-only: the interpreter and the allowlisted commands live here. */
export const SYSTEM_DIRS = ['/usr'] as const;
/** Top-level names that are symlinks into /usr on merged-/usr systems, bound as-is otherwise. */
export const SYSTEM_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;
/**
 * The only files of `/etc` shown: what the dynamic loader, locale and time functions read.
 * No passwd, group, hosts, resolv.conf or anything holding credentials.
 */
export const ETC_FILES = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/localtime', '/etc/alternatives'] as const;

/** How one call is sandboxed; everything but `readOnly` and `argv` is fixed by policy. */
export interface BwrapPolicy {
  /** Host directory bound read-write at {@link SANDBOX_WORKSPACE}. */
  workspace: string;
  /** Extra host paths bound read-only at the same path (an interpreter prefix outside /usr). */
  readOnly: readonly string[];
  env: Readonly<Record<string, string>>;
  tmpBytes: number;
  /** bwrap ≥ 0.8 can forbid creating user namespaces inside (no nested sandbox escapes). */
  disableUserns: boolean;
  argv: readonly string[];
}

/** How a top-level path looks on this host: a symlink to recreate, a directory to bind, or nothing. */
export type HostEntry = { kind: 'link'; target: string } | { kind: 'dir' } | { kind: 'absent' };

export function hostEntry(path: string): HostEntry {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return { kind: 'link', target: readlinkSync(path) };
    return { kind: 'dir' };
  } catch {
    return { kind: 'absent' };
  }
}

/**
 * The bwrap arguments for one call: every namespace unshared (network included), a new session
 * so the code cannot push keystrokes into a terminal (TIOCSTI), no capabilities, an environment
 * of exactly `env`, and a file system of read-only system dirs, a private /proc, /dev and /tmp,
 * and the workspace; everything else read-only. Nothing else of the host exists inside.
 */
export function bwrapArgs(policy: BwrapPolicy, inspect: (path: string) => HostEntry = hostEntry): string[] {
  const args = ['--unshare-all', '--unshare-user'];
  if (policy.disableUserns) args.push('--disable-userns');
  args.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname', 'sandbox', '--clearenv');
  for (const [key, value] of Object.entries(policy.env)) args.push('--setenv', key, value);
  for (const dir of SYSTEM_DIRS) args.push('--ro-bind', dir, dir);
  for (const path of SYSTEM_LINKS) {
    const entry = inspect(path);
    if (entry.kind === 'link') args.push('--symlink', entry.target, path);
    else if (entry.kind === 'dir') args.push('--ro-bind', path, path);
  }
  for (const path of ETC_FILES) args.push('--ro-bind-try', path, path);
  for (const path of policy.readOnly) args.push('--ro-bind', path, path);
  args.push(
    '--proc', '/proc',
    '--dev', '/dev',
    '--size', String(policy.tmpBytes), '--tmpfs', '/dev/shm',
    '--size', String(policy.tmpBytes), '--tmpfs', '/tmp',
    '--bind', policy.workspace, SANDBOX_WORKSPACE,
    // The root and /dev are bwrap's own tmpfs: writable unless remounted, so files could be
    // planted outside the workspace (in memory, but outside every quota).
    '--remount-ro', '/dev',
    '--remount-ro', '/',
    '--chdir', SANDBOX_WORKSPACE,
    '--',
    ...policy.argv,
  );
  return args;
}

/** Paths outside what is bound anyway that `paths` need (an interpreter under /opt, say). */
export function extraReadOnly(paths: readonly string[]): string[] {
  const covered = (p: string) => [...SYSTEM_DIRS, ...SYSTEM_LINKS].some((d) => p === d || p.startsWith(`${d}/`));
  const wanted = [...new Set(paths)].filter((p) => p.startsWith('/') && !covered(p)).sort();
  // A path inside another wanted path is bound with it.
  return wanted.filter((p) => !wanted.some((q) => q !== p && p.startsWith(`${q}/`)));
}
