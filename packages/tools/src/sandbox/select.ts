import { chown, mkdtemp, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PythonInterpreter } from '../python.js';
import { removeTree } from '../remove-tree.js';
import { secureDir } from '../work-dir.js';
import type { SandboxChoice } from '../config.js';
import { extraReadOnly } from './bwrap-args.js';
import { NoSandbox } from './none.js';
import { PROBE_LIMITS, probeBwrap } from './probe.js';
import type { Sandbox } from './types.js';

export interface SelectSandboxOptions {
  python: PythonInterpreter;
  /** The runtime's work directory; the startup trial runs in a directory under it. */
  workDir: string;
  /** Host uid sandboxed code runs as when the gateway is root. */
  uid: number;
  /** Told why `auto` fell back to `none`, and about weaker enforcement. */
  warn: (message: string) => void;
}

/**
 * The backend for `choice`: `bwrap` must work or this throws the reason and the fix; `auto` takes
 * bwrap when it works and otherwise `none`, warning loudly; `none` is taken as asked.
 * @throws TypeError when `bwrap` was asked for and cannot run here.
 */
let runtimes = 0;

export async function selectSandbox(choice: SandboxChoice, options: SelectSandboxOptions): Promise<Sandbox> {
  if (choice === 'none') return new NoSandbox();
  if (choice !== 'auto' && choice !== 'bwrap') {
    throw new TypeError(`Expected the sandbox to be one of auto, bwrap, none, got \`${String(choice)}\``);
  }
  const probe = await probeBwrap({
    uid: options.uid,
    readOnly: extraReadOnly([...options.python.prefixes, dirname(options.python.executable)]),
    // One group per runtime: closing one runtime must not pull the cgroup from under another.
    cgroupName: `mini-agent-${process.pid}-${++runtimes}`,
    trial: (sandbox) => trial(sandbox, options),
  });
  if (probe.ok) {
    for (const note of probe.notes) options.warn(`sandbox: ${note}`);
    return probe.sandbox;
  }
  if (choice === 'bwrap') {
    throw new TypeError(`MINI_AGENT_SANDBOX=bwrap, but bubblewrap cannot run here: ${probe.reason}. Fix: ${probe.fix}`);
  }
  options.warn(
    `SANDBOX IS OFF: bubblewrap cannot run here (${probe.reason}), so tool code runs unisolated as this user. ` +
      `Fix: ${probe.fix}.`,
  );
  return new NoSandbox();
}

/** Runs the interpreter in the candidate sandbox and checks it wrote its workspace. */
async function trial(sandbox: Sandbox, options: SelectSandboxOptions): Promise<void> {
  await secureDir(options.workDir, 0o711);
  const dir = await mkdtemp(join(options.workDir, 'probe-'));
  try {
    if (sandbox.owner !== undefined) await chown(dir, sandbox.owner.uid, sandbox.owner.gid);
    const outcome = await sandbox.run({
      argv: [options.python.executable, '-E', '-s', '-c', "open('probe','w').write('ok');print('ok')"],
      workspace: dir,
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
      timeoutMs: 10_000,
      maxOutputBytes: 4096,
      limits: PROBE_LIMITS,
    });
    const written = await readFile(join(dir, 'probe'), 'utf8').catch(() => '');
    if (outcome.rc !== 0 || outcome.stdout.trim() !== 'ok' || written !== 'ok') {
      const said = (outcome.stderr.trim() || outcome.stdout.trim()).split('\n').slice(0, 3).join(' / ');
      throw new Error(`a trial run failed (rc ${String(outcome.rc)}${outcome.signal ? `, ${outcome.signal}` : ''}): ${said || 'no output'}`);
    }
  } finally {
    await removeTree(dir);
  }
}
