import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

/** A gateway running as its own process (`mini-agent gateway`), as an operator would start it. */
export interface GatewayProcess {
  child: ChildProcess;
  pid: number;
  /** Base URL it listens on, from its own startup log line. */
  url: string;
  /** Sandbox backend it reported at startup. */
  sandbox: string;
  /** Sends SIGTERM and resolves with the exit code once it has exited. */
  stop(): Promise<number | null>;
}

/**
 * Starts `mini-agent gateway` on 127.0.0.1 and an ephemeral port, with only `settings` and PATH in
 * its environment, and waits for its "listening" log line (JSON, since stdout is a pipe).
 */
export async function startGatewayProcess(settings: Record<string, string>, timeoutMs = 15_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [BIN, 'gateway'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MINI_AGENT_HOST: '127.0.0.1', MINI_AGENT_PORT: '0', ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const started = await new Promise<{ url: string; sandbox: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    void exited.then((code) => reject(new Error(`gateway exited with ${code} before listening: ${stderr}`)));
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string; sandbox?: string };
        if (entry.msg === 'mini-agent gateway listening' && entry.url) {
          clearTimeout(timer);
          resolve({ url: entry.url, sandbox: entry.sandbox ?? 'unknown' });
        }
      } catch {
        // Not a JSON log line: ignore.
      }
    });
  });
  // Keep reading the logs (one audit line per call) so the pipe never fills and blocks the gateway.
  child.stdout!.resume();
  return {
    child,
    pid: child.pid!,
    ...started,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Open file descriptors of `pid`. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Socket descriptors of `pid` (listening and connected). */
export function socketCount(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n += 1;
    } catch {
      // Closed between listing and reading.
    }
  }
  return n;
}

/** Resident set size of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** Live (not zombie) processes whose parent is `pid`. */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[1]) === pid) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/** Live processes whose command line contains `marker`. */
export function pidsWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/** Polls `predicate` every 50 ms until it holds or `timeoutMs` passes; returns its last answer. */
export async function settle(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return predicate();
}
