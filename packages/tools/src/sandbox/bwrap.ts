import { constants } from 'node:os';
import { runProcess } from './process.js';
import { bwrapArgs, SANDBOX_WORKSPACE } from './bwrap-args.js';
import { createCallCgroup, removeLayout, type CallCgroup, type CgroupLayout } from './cgroup.js';
import { watchWorkspace } from './disk-watch.js';
import { prlimitArgs } from './limits.js';
import type { RunOutcome, RunSpec, Sandbox } from './types.js';

/**
 * Joins the cgroups named by the first `$1` arguments, then execs the rest. A fixed script: no
 * argument is ever interpreted by the shell. Exit 125 tells a failed join from the code's own rc.
 */
const JOIN_CGROUPS = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo 0 > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';

/** Host programs the launcher chain uses, resolved by the probe. */
export interface BwrapTools {
  bwrap: string;
  prlimit: string;
  /** Present when the gateway is root and drops to {@link BwrapSandboxOptions.owner} before bwrap. */
  setpriv?: string | undefined;
  sh: string;
}

export interface BwrapSandboxOptions {
  tools: BwrapTools;
  /** Host uid/gid the code runs as; undefined: the gateway's own (when it is not root). */
  owner?: { uid: number; gid: number } | undefined;
  /** Cgroups for per-call memory and process limits; undefined: rlimits only. */
  cgroups?: CgroupLayout | undefined;
  /** Extra read-only host paths (interpreter prefixes outside /usr). */
  readOnly?: readonly string[];
  disableUserns: boolean;
}

/**
 * Runs each call in bubblewrap: own user, PID, IPC, UTS, network and mount namespaces; a read-only
 * system; the workspace at `/workspace`; rlimits set by `prlimit`; memory and process count capped
 * by a per-call cgroup. Killing bwrap kills the sandbox's PID 1 (`--die-with-parent`), and the
 * kernel then kills every process of the namespace, `setsid` and double-forked ones included;
 * the cgroup is emptied and removed before the call returns.
 */
export class BwrapSandbox implements Sandbox {
  readonly kind = 'bwrap' as const;
  readonly owner: { uid: number; gid: number } | undefined;
  readonly #options: BwrapSandboxOptions;

  constructor(options: BwrapSandboxOptions) {
    this.#options = options;
    this.owner = options.owner;
  }

  workspacePath(): string {
    return SANDBOX_WORKSPACE;
  }

  /** The full host argv for `spec`, from the launcher to the sandboxed program. */
  argv(spec: RunSpec, cgroup: CallCgroup | undefined): string[] {
    const { tools, owner } = this.#options;
    const layout = this.#options.cgroups;
    const chain: string[] = [];
    if (cgroup !== undefined && cgroup.procsFiles.length > 0) {
      chain.push(tools.sh, '-c', JOIN_CGROUPS, 'mini-agent-join', String(cgroup.procsFiles.length), ...cgroup.procsFiles);
    }
    chain.push(
      tools.prlimit,
      ...prlimitArgs(spec.limits, { addressSpace: layout?.memory === undefined, processes: layout?.pids === undefined }),
      '--',
    );
    if (owner !== undefined && tools.setpriv !== undefined) {
      chain.push(tools.setpriv, `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--no-new-privs', '--');
    }
    chain.push(
      tools.bwrap,
      ...bwrapArgs({
        workspace: spec.workspace,
        readOnly: this.#options.readOnly ?? [],
        env: spec.env,
        tmpBytes: spec.limits.tmpBytes,
        disableUserns: this.#options.disableUserns,
        argv: spec.argv,
      }),
    );
    return chain;
  }

  async run(spec: RunSpec): Promise<RunOutcome> {
    if (spec.argv.length === 0) throw new TypeError('Expected a non-empty argv');
    const layout = this.#options.cgroups;
    const cgroup = layout === undefined ? undefined : await createCallCgroup(layout, spec.limits);
    const watchdog = new AbortController();
    let killedFor: string | undefined;
    const stopWatch = watchWorkspace(spec.workspace, spec.limits, (why) => {
      killedFor = why;
      watchdog.abort();
    });
    try {
      const [file, ...args] = this.argv(spec, cgroup);
      const outcome = await runProcess({
        file: file!,
        args,
        cwd: '/',
        env: {},
        stdin: spec.stdin,
        timeoutMs: spec.timeoutMs,
        maxOutputBytes: spec.maxOutputBytes,
        signal: spec.signal === undefined ? watchdog.signal : AbortSignal.any([spec.signal, watchdog.signal]),
      });
      if (killedFor === undefined && cgroup !== undefined && (await cgroup.oomKills()) > 0) {
        killedFor = `memory use passed its ${spec.limits.memoryBytes}-byte limit`;
      }
      return this.#shape(outcome, spec, killedFor);
    } finally {
      stopWatch();
      await cgroup?.dispose();
    }
  }

  #shape(outcome: RunOutcome, spec: RunSpec, killedFor: string | undefined): RunOutcome {
    let { rc, signal, stderr } = outcome;
    // bwrap reports a program killed by signal N as exit 128+N; show it as the signal, as `none` does.
    if (rc !== null && rc > 128 && rc <= 128 + 64) {
      const name = Object.entries(constants.signals).find(([, n]) => n === rc! - 128)?.[0];
      if (name !== undefined) {
        signal = name;
        rc = null;
      }
    }
    if (killedFor !== undefined) stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}[sandbox] killed: ${killedFor}\n`;
    return {
      ...outcome,
      rc,
      signal,
      stderr,
      aborted: spec.signal?.aborted ?? false,
      ...(killedFor === undefined ? {} : { killedFor }),
    };
  }

  async close(): Promise<void> {
    if (this.#options.cgroups !== undefined) await removeLayout(this.#options.cgroups);
  }
}
