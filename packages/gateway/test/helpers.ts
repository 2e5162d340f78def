import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { resolveConfig, type ConfigInput } from '../src/config.js';

/** A gateway built from settings as the environment would give them, port 0, sandbox left to the defaults. */
export async function testApp(settings: ConfigInput = {}): Promise<FastifyInstance> {
  return buildApp(resolveConfig({ MINI_AGENT_PORT: '0', ...settings }));
}

/** The same, listening on an ephemeral loopback port; returns its base URL. */
export async function listening(settings: ConfigInput = {}): Promise<{ app: FastifyInstance; url: string }> {
  const app = await testApp(settings);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

/** Running, not merely a zombie waiting to be reaped by whoever adopted it. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return predicate();
}

export const invoke = (name: string, args?: unknown) => ({
  method: 'POST' as const,
  url: '/invoke',
  payload: args === undefined ? { name } : { name, arguments: args },
});

/**
 * Host pids of live processes whose command line contains `marker`. Tool code carries its source
 * in argv (`python -c …`), so this finds a call's processes whatever the sandbox's PID namespace.
 */
export function pidsWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker) && alive(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
