import { runProcess } from './process.js';
import type { RunOutcome, RunSpec, Sandbox } from './types.js';

/**
 * No isolation: the child runs as the gateway's user, sees the host's files and network, and only
 * its process group is killed when the call ends. For development on loopback only.
 */
export class NoSandbox implements Sandbox {
  readonly kind = 'none' as const;

  workspacePath(hostWorkspace: string): string {
    return hostWorkspace;
  }

  run(spec: RunSpec): Promise<RunOutcome> {
    const [file, ...args] = spec.argv;
    if (file === undefined) throw new TypeError('Expected a non-empty argv');
    return runProcess({
      file,
      args,
      cwd: spec.workspace,
      env: spec.env,
      stdin: spec.stdin,
      timeoutMs: spec.timeoutMs,
      maxOutputBytes: spec.maxOutputBytes,
      signal: spec.signal,
    });
  }
}
