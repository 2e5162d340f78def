import { spawn } from 'node:child_process';
import { OutputCapture } from './output.js';
import type { RunOutcome } from './types.js';

export interface ProcessSpec {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  stdin?: string | undefined;
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
}

// Process groups still running, killed if the gateway exits while a call is in flight.
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid);
});

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Streams still open this long after the child exited are cut: a stray holder must not stall the call. */
const STREAM_GRACE_MS = 200;

/**
 * Spawns `file` as the leader of a new process group and waits for it. On timeout, abort or exit
 * the whole group is killed with SIGKILL, so nothing the call started in its group lives on.
 * Output is captured head-and-tail within `maxOutputBytes` per stream.
 */
export function runProcess(spec: ProcessSpec): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    if (spec.signal?.aborted) {
      resolve(emptyOutcome({ aborted: true }));
      return;
    }
    const started = performance.now();
    const child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    const stdout = new OutputCapture(spec.maxOutputBytes);
    const stderr = new OutputCapture(spec.maxOutputBytes);
    let timedOut = false;
    let aborted = false;
    let exit: { rc: number | null; signal: string | null; durationMs: number } | undefined;
    let settled = false;
    const pgid = child.pid;
    if (pgid !== undefined) liveGroups.add(pgid);

    const kill = () => {
      if (pgid !== undefined) killGroup(pgid);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, spec.timeoutMs);
    const onAbort = () => {
      aborted = true;
      kill();
    };
    spec.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // The child may exit without reading its stdin; EPIPE then is expected, not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(spec.stdin ?? '');

    const finish = () => {
      if (settled || exit === undefined) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(streamTimer);
      spec.signal?.removeEventListener('abort', onAbort);
      if (pgid !== undefined) liveGroups.delete(pgid);
      resolve({
        ...exit,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutBytes: stdout.totalBytes,
        stderrBytes: stderr.totalBytes,
        timedOut,
        aborted,
        truncated: stdout.truncated || stderr.truncated,
      });
    };
    let streamTimer: NodeJS.Timeout | undefined;

    child.once('error', (err) => {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      if (pgid !== undefined) liveGroups.delete(pgid);
      kill();
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    child.once('exit', (code, signal) => {
      exit = { rc: code, signal, durationMs: Math.round(performance.now() - started) };
      // Whatever the leader left behind in its group dies with it.
      kill();
      streamTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, STREAM_GRACE_MS);
    });
    child.once('close', finish);
  });
}

function emptyOutcome(over: Partial<RunOutcome>): RunOutcome {
  return {
    rc: null,
    signal: null,
    stdout: '',
    stderr: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    timedOut: false,
    aborted: false,
    truncated: false,
    durationMs: 0,
    ...over,
  };
}
