import type { SandboxLimits } from './sandbox/types.js';
import type { ResearchOptions } from './research/options.js';

/** Wall clock of a call that names no `timeout_s`. */
export const DEFAULT_TIMEOUT_S = 10;
/** Largest `timeout_s` honoured; larger values are capped to it. */
export const DEFAULT_MAX_TIMEOUT_S = 60;
/** Bytes kept per output stream (half head, half tail). */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

/** CPU seconds a call's process may use (RLIMIT_CPU, per process). */
export const DEFAULT_CPU_SECONDS = 30;
/** Memory of a call: the memory cgroup's limit (RLIMIT_AS when no cgroup is usable). */
export const DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024;
/** Processes and threads a call may have at once (pids cgroup; RLIMIT_NPROC without one). */
export const DEFAULT_MAX_PROCESSES = 64;
/** Largest file a call may write (RLIMIT_FSIZE). */
export const DEFAULT_FILE_SIZE_BYTES = 64 * 1024 * 1024;
/** Open file descriptors per process (RLIMIT_NOFILE). */
export const DEFAULT_OPEN_FILES = 256;
/** Bytes a workspace may hold: a run growing it past this is killed; a session past it refuses runs. */
export const DEFAULT_DISK_BYTES = 256 * 1024 * 1024;
/**
 * Entries (files, directories, links) a workspace may hold: a run creating more is killed; a session
 * past it refuses runs. It bounds how long measuring a workspace takes (about 20 ms per 1000 entries).
 */
export const DEFAULT_MAX_FILES = 20_000;
/** Size of a call's private `/tmp` tmpfs. */
export const DEFAULT_TMP_BYTES = 64 * 1024 * 1024;
/** A session unused this long is deleted with its files. */
export const DEFAULT_SESSION_TTL_S = 30 * 60;
/** Sessions one principal may hold at once: each may keep a workspace up to the disk quota. */
export const DEFAULT_MAX_SESSIONS_PER_PRINCIPAL = 16;
/** Host uid/gid sandboxed code runs as when the gateway runs as root (`nobody`/`nogroup`). */
export const DEFAULT_SANDBOX_UID = 65534;

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = {
  cpuSeconds: DEFAULT_CPU_SECONDS,
  memoryBytes: DEFAULT_MEMORY_BYTES,
  maxProcesses: DEFAULT_MAX_PROCESSES,
  fileSizeBytes: DEFAULT_FILE_SIZE_BYTES,
  openFiles: DEFAULT_OPEN_FILES,
  diskBytes: DEFAULT_DISK_BYTES,
  maxFiles: DEFAULT_MAX_FILES,
  tmpBytes: DEFAULT_TMP_BYTES,
};

/** `auto` uses bubblewrap when it works here and falls back to `none` with a warning. */
export type SandboxChoice = 'auto' | 'bwrap' | 'none';

/** Options of {@link createToolRuntime}. */
export interface ToolsOptions {
  /** Python command or path; resolved once to the real interpreter. @default `/usr/bin/python3`, else `python3` on PATH */
  python?: string;
  /** Commands `exec_shell` may run. @default DEFAULT_SHELL_ALLOW */
  shellAllow?: readonly string[];
  /** Isolation backend: `auto` uses bubblewrap when its startup trial passes, else none with a warning. @default 'auto' */
  sandbox?: SandboxChoice;
  /** Told why `auto` fell back to `none`, once at startup. @default a warning on stderr */
  onSandboxWarning?: (message: string) => void;
  /** A session unused this long is deleted. @default DEFAULT_SESSION_TTL_S */
  sessionTtlS?: number;
  /** Sessions one principal may hold; a new one past it is refused with SESSION_OVER_QUOTA. @default DEFAULT_MAX_SESSIONS_PER_PRINCIPAL */
  maxSessionsPerPrincipal?: number;
  /** Host uid the bwrap backend runs code as when the gateway is root. @default DEFAULT_SANDBOX_UID */
  sandboxUid?: number;
  /**
   * Directory under which this process keeps workspaces; removed on close. Created (its parent must
   * exist) or, when it exists, required to be owned by this uid and not group/other-writable.
   * @default a fresh `mini-agent-XXXXXX` directory (mkdtemp) in the OS temp dir
   */
  workDir?: string;
  /** @default DEFAULT_TIMEOUT_S */
  defaultTimeoutS?: number;
  /** @default DEFAULT_MAX_TIMEOUT_S */
  maxTimeoutS?: number;
  /** @default DEFAULT_MAX_OUTPUT_BYTES */
  maxOutputBytes?: number;
  /** @default DEFAULT_LIMITS */
  limits?: Partial<SandboxLimits>;
  /** Research tools (they run in this process, with its network). @default none */
  research?: ResearchOptions;
}
