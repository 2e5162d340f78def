import { readdirSync, readFileSync } from 'node:fs';
import { buildApp, resolveConfig } from '../../packages/gateway/dist/index.js';
import type { FastifyInstance } from '../../packages/gateway/node_modules/fastify/fastify.js';

export const TOKENS = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef' } as const;
export type Who = keyof typeof TOKENS;

/** A real gateway on a loopback port with the bwrap backend, and a client for it. */
export interface Gateway {
  app: FastifyInstance;
  url: string;
  port: number;
  workDir: string;
  invoke(name: string, args: unknown, opts?: { who?: Who; session?: string }): Promise<{ status: number; body: any; ms: number }>;
  python(code: string, opts?: { who?: Who; session?: string; timeout_s?: number }): Promise<ExecData>;
  shell(cmd: string, opts?: { who?: Who }): Promise<{ status: number; body: any }>;
  request(method: string, path: string, init?: { body?: string; headers?: Record<string, string>; who?: Who }): Promise<{ status: number; body: any }>;
}

export interface ExecData {
  ok: boolean;
  rc: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timed_out: boolean;
  truncated: boolean;
  duration_ms: number;
}

export async function startGateway(workDir: string, env: Record<string, string> = {}): Promise<Gateway> {
  const config = resolveConfig({
    MINI_AGENT_HOST: '127.0.0.1',
    MINI_AGENT_PORT: '0',
    MINI_AGENT_SANDBOX: 'bwrap',
    MINI_AGENT_TOKENS: `alice:${TOKENS.alice},bob:${TOKENS.bob}`,
    MINI_AGENT_WORK_DIR: workDir,
    MINI_AGENT_RATE_LIMIT: '0',
    MINI_AGENT_MAX_CONCURRENCY: '16',
    MINI_AGENT_MAX_CONCURRENCY_PER_PRINCIPAL: '16',
    MINI_AGENT_SHUTDOWN_GRACE_S: '0',
    ...env,
  });
  const app = await buildApp(config);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const port = Number(new URL(url).port);

  const request: Gateway['request'] = async (method, path, init = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKENS[init.who ?? 'alice']}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      body: init.body,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body };
  };
  const invoke: Gateway['invoke'] = async (name, args, opts = {}) => {
    const started = performance.now();
    const res = await request('POST', '/invoke', {
      who: opts.who,
      body: JSON.stringify({ name, arguments: args }),
      headers: opts.session === undefined ? {} : { 'x-session-id': opts.session },
    });
    return { ...res, ms: performance.now() - started };
  };
  return {
    app,
    url,
    port,
    workDir,
    request,
    invoke,
    async python(code, opts = {}) {
      const { status, body } = await invoke('exec_python', { code, ...(opts.timeout_s ? { timeout_s: opts.timeout_s } : {}) }, opts);
      if (status !== 200) throw new Error(`exec_python answered ${status}: ${JSON.stringify(body)}`);
      return body.data as ExecData;
    },
    shell: (cmd, opts = {}) => invoke('exec_shell', { cmd }, opts),
  };
}

/** Host pids whose command line contains `marker`: what a call left running, seen from outside. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
