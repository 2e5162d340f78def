import type { SandboxLimits } from './types.js';

const LIMIT_RANGES: Record<keyof SandboxLimits, { min: number; max: number }> = {
  cpuSeconds: { min: 1, max: 24 * 3600 },
  memoryBytes: { min: 16 * 1024 * 1024, max: 2 ** 50 },
  maxProcesses: { min: 4, max: 1_000_000 },
  fileSizeBytes: { min: 1024, max: 2 ** 50 },
  openFiles: { min: 16, max: 1_048_576 },
  diskBytes: { min: 64 * 1024, max: 2 ** 50 },
  maxFiles: { min: 16, max: 10_000_000 },
  tmpBytes: { min: 64 * 1024, max: 2 ** 40 },
};

/**
 * Checks every limit is an integer in its range: a limit of 0 or NaN would either disable the
 * guard or make every run fail in a way nobody could diagnose.
 * @throws TypeError naming the limit.
 */
export function validateLimits(limits: SandboxLimits): SandboxLimits {
  for (const [key, { min, max }] of Object.entries(LIMIT_RANGES) as [keyof SandboxLimits, { min: number; max: number }][]) {
    const value = limits[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new TypeError(`Expected the \`${key}\` limit to be an integer from ${min} to ${max}, got ${String(value)}`);
    }
  }
  return limits;
}

/** What enforces memory and process count when no cgroup does. */
export interface RlimitFallbacks {
  /** No memory cgroup: cap the address space instead (coarser: it counts reservations). */
  addressSpace: boolean;
  /** No pids cgroup: cap processes of the sandbox uid (shared by concurrent calls). */
  processes: boolean;
}

/**
 * `prlimit` options setting soft and hard limits (hard, so the code cannot raise them again).
 * CPU gets one second of grace on the hard limit so SIGXCPU, not SIGKILL, tells the program why.
 */
export function prlimitArgs(limits: SandboxLimits, fallbacks: RlimitFallbacks): string[] {
  const args = [
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    `--fsize=${limits.fileSizeBytes}`,
    `--nofile=${limits.openFiles}`,
    // Core dumps of sandboxed code would land in its workspace and leak memory contents.
    '--core=0',
  ];
  if (fallbacks.addressSpace) args.push(`--as=${limits.memoryBytes}`);
  if (fallbacks.processes) args.push(`--nproc=${limits.maxProcesses}`);
  return args;
}
