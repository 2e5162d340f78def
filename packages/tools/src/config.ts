import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxLimits } from './sandbox/types.js';

/** Wall clock of a call that names no `timeout_s`. */
export const DEFAULT_TIMEOUT_S = 10;
/** Largest `timeout_s` honoured; larger values are capped to it. */
export const DEFAULT_MAX_TIMEOUT_S = 60;
/** Bytes kept per output stream (half head, half tail). */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = {
  cpuSeconds: 30,
  memoryBytes: 512 * 1024 * 1024,
  maxProcesses: 64,
  fileSizeBytes: 64 * 1024 * 1024,
  openFiles: 256,
};

/** Options of {@link createToolRuntime}. */
export interface ToolsOptions {
  /** Python command or path; resolved once to the real interpreter. @default `/usr/bin/python3`, else `python3` on PATH */
  python?: string;
  /** Commands `exec_shell` may run. @default DEFAULT_SHELL_ALLOW */
  shellAllow?: readonly string[];
  /** @default 'none' (the gateway passes its own choice) */
  sandbox?: 'none';
  /** Directory under which this process keeps workspaces; removed on close. @default a fresh directory in the OS temp dir */
  workDir?: string;
  /** @default DEFAULT_TIMEOUT_S */
  defaultTimeoutS?: number;
  /** @default DEFAULT_MAX_TIMEOUT_S */
  maxTimeoutS?: number;
  /** @default DEFAULT_MAX_OUTPUT_BYTES */
  maxOutputBytes?: number;
  /** @default DEFAULT_LIMITS */
  limits?: Partial<SandboxLimits>;
}

export function defaultWorkDir(): string {
  return join(tmpdir(), `mini-agent-${process.pid}`);
}
