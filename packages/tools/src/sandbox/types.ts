/** Resource limits applied to one call. Backends apply what their isolation can enforce. */
export interface SandboxLimits {
  /** CPU seconds (RLIMIT_CPU). */
  cpuSeconds: number;
  /** Address space / memory in bytes. */
  memoryBytes: number;
  /** Processes and threads the call may have at once. */
  maxProcesses: number;
  /** Largest file the call may write, in bytes (RLIMIT_FSIZE). */
  fileSizeBytes: number;
  /** Open file descriptors (RLIMIT_NOFILE). */
  openFiles: number;
  /**
   * Bytes the workspace may hold while the call runs (files count at least 1 KiB each, so empty
   * files cannot exhaust inodes); a run that grows it past this is killed.
   */
  diskBytes: number;
  /**
   * Files, directories and links the workspace may hold while the call runs; a run creating more
   * is killed. Bounds the cost of measuring the workspace, so the disk watchdog stays prompt.
   */
  maxFiles: number;
  /** Size of the call's private `/tmp` (a tmpfs, charged to the call's memory). */
  tmpBytes: number;
}

/** What to run. `argv[0]` is an absolute path on the host. */
export interface RunSpec {
  argv: readonly string[];
  /** Host directory that becomes the call's writable working directory. */
  workspace: string;
  /** Environment of the child, built from nothing by the caller. */
  env: Readonly<Record<string, string>>;
  stdin?: string | undefined;
  timeoutMs: number;
  /** Bytes kept per stream (head and tail). */
  maxOutputBytes: number;
  limits: SandboxLimits;
  /** Aborting kills the run (client gone, gateway closing). */
  signal?: AbortSignal | undefined;
}

export interface RunOutcome {
  /** Exit code, or null when a signal ended the process. */
  rc: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  timedOut: boolean;
  /** Killed because `signal` aborted. */
  aborted: boolean;
  truncated: boolean;
  durationMs: number;
  /** Why the backend killed the run, when a limit it watches was hit (e.g. `disk quota`). */
  killedFor?: string | undefined;
}

export type SandboxKind = 'bwrap' | 'none';

/** Runs one command in isolation. A backend must leave no process of the call behind. */
export interface Sandbox {
  readonly kind: SandboxKind;
  /**
   * Host uid/gid the sandboxed code runs as, when it is not the gateway's own: workspaces are
   * handed to this owner so the code can write them.
   */
  readonly owner?: { uid: number; gid: number } | undefined;
  /** Path the workspace has inside the sandbox (what the child sees as its cwd and HOME). */
  workspacePath(hostWorkspace: string): string;
  run(spec: RunSpec): Promise<RunOutcome>;
  /** Releases what the backend holds for its lifetime (cgroup directories). */
  close?(): Promise<void>;
}
