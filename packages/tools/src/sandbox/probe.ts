import { accessSync, constants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { BwrapSandbox, type BwrapTools } from './bwrap.js';
import { detectCgroups, type CgroupLayout } from './cgroup.js';
import type { SandboxLimits } from './types.js';

/** Where each launcher program is looked for; the gateway's PATH is not trusted for them. */
const SEARCH = ['/usr/bin', '/bin', '/usr/sbin', '/usr/local/bin'];

export interface BwrapProbeOptions {
  /** Host uid/gid the code runs as when the gateway is root. */
  uid: number;
  /** Extra read-only paths (interpreter prefixes outside /usr). */
  readOnly: readonly string[];
  /** Names the per-process cgroup directory. */
  cgroupName: string;
  /** Runs a tiny program in the candidate sandbox; resolves the program's stdout, or throws why not. */
  trial: (sandbox: BwrapSandbox) => Promise<void>;
}

export type BwrapProbe =
  | { ok: true; sandbox: BwrapSandbox; notes: string[] }
  | { ok: false; reason: string; fix: string };

const USERNS_FIX =
  'allow unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` (Debian), ' +
  '`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 24.04+), and in a container run with ' +
  '`--security-opt seccomp=docker/seccomp-bwrap.json --security-opt systempaths=unconfined --security-opt apparmor=unconfined` ' +
  '(see docker/README.md); or set MINI_AGENT_SANDBOX=none on loopback only';

function which(name: string): string | undefined {
  for (const dir of SEARCH) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Finds bubblewrap and its helpers, sets up cgroups, and proves the whole policy works by running
 * a program in it. Never throws: a failure comes back as the reason and the fix to tell the operator.
 */
export async function probeBwrap(options: BwrapProbeOptions): Promise<BwrapProbe> {
  const bwrap = which('bwrap');
  if (bwrap === undefined) return { ok: false, reason: 'bwrap is not installed', fix: 'install bubblewrap (`apt-get install bubblewrap`, `dnf install bubblewrap`)' };
  const prlimit = which('prlimit');
  const sh = which('sh');
  if (prlimit === undefined || sh === undefined) {
    return { ok: false, reason: 'prlimit or sh is missing', fix: 'install util-linux (prlimit) and a POSIX sh' };
  }
  const isRoot = process.getuid?.() === 0;
  const setpriv = isRoot ? which('setpriv') : undefined;
  if (isRoot && setpriv === undefined) {
    return { ok: false, reason: 'running as root but setpriv is missing, so code cannot be run as a non-root user', fix: 'install util-linux (setpriv)' };
  }
  let help = '';
  try {
    help = execFileSync(bwrap, ['--help'], { encoding: 'utf8', timeout: 5000 });
  } catch (err) {
    return { ok: false, reason: `\`${bwrap} --help\` failed: ${(err as Error).message.split('\n')[0]}`, fix: 'reinstall bubblewrap' };
  }
  const notes: string[] = [];
  const detected = await detectCgroups(options.cgroupName);
  let cgroups: CgroupLayout | undefined;
  if ('reason' in detected) {
    notes.push(`no per-call cgroup (${detected.reason}): memory is capped by RLIMIT_AS and processes by RLIMIT_NPROC of the sandbox uid`);
  } else {
    cgroups = detected;
  }
  const tools: BwrapTools = { bwrap, prlimit, sh, setpriv };
  const sandbox = new BwrapSandbox({
    tools,
    owner: isRoot ? { uid: options.uid, gid: options.uid } : undefined,
    cgroups,
    readOnly: options.readOnly,
    disableUserns: help.includes('--disable-userns'),
  });
  try {
    await options.trial(sandbox);
  } catch (err) {
    await sandbox.close();
    const reason = (err as Error).message;
    return { ok: false, reason, fix: trialFix(reason, isRoot ? options.uid : process.getuid?.()) };
  }
  return { ok: true, sandbox, notes };
}

/**
 * What to tell the operator when the startup trial failed with `reason`; `uid` is the one the
 * sandboxed code runs as.
 */
export function trialFix(reason: string, uid: number | undefined): string {
  const who = uid === undefined ? 'the gateway user' : `uid ${uid}`;
  if (/Can't find source path/i.test(reason)) {
    return `let ${who} traverse (o+x) every parent of the work directory and interpreter (MINI_AGENT_WORK_DIR, MINI_AGENT_PYTHON)`;
  }
  // EAGAIN from clone/fork: no process slot left, whatever bwrap was doing (even "Creating new
  // namespace failed"), so it goes before the user-namespace advice it would otherwise match.
  if (/Resource temporarily unavailable|EAGAIN/i.test(reason)) {
    return (
      `the process limit of ${who} is exhausted: RLIMIT_NPROC (\`ulimit -u\`) counts every process and thread ` +
      'of that uid on the host, the gateway\'s own threads included when it is not root; raise it ' +
      '(`ulimit -u`, `docker run --ulimit nproc=...`, systemd `LimitNPROC=`), run fewer processes as that uid, ' +
      'or give the gateway a writable pids cgroup so the limit is per call'
    );
  }
  const userns = /namespace|uid map|Operation not permitted|Permission denied/i.test(reason);
  return userns ? USERNS_FIX : 'run `bwrap --unshare-all --ro-bind /usr /usr -- /usr/bin/true` to see what fails';
}

/** Limits for the startup trial: small, so a broken setup fails fast. */
export const PROBE_LIMITS: SandboxLimits = {
  cpuSeconds: 5,
  memoryBytes: 256 * 1024 * 1024,
  // Without a pids cgroup this is RLIMIT_NPROC, which also counts every other process and thread
  // of the same uid on the host (the gateway's own threads when it is not root): keep headroom.
  maxProcesses: 512,
  fileSizeBytes: 1024 * 1024,
  openFiles: 64,
  diskBytes: 1024 * 1024,
  maxFiles: 64,
  tmpBytes: 1024 * 1024,
};
