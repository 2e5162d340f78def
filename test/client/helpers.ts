import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from '../../packages/gateway/node_modules/pino/pino.js';
import { expect } from 'vitest';
import { ToolsHttpError } from '../../packages/client/dist/index.js';
import { buildApp, resolveConfig } from '../../packages/gateway/dist/index.js';

export const TOKEN = 'tok-alice-0123456789';

export interface TestGateway {
  url: string;
  app: Awaited<ReturnType<typeof buildApp>>;
  /** Every answered request, in order. */
  responses: { method: string; url: string; statusCode: number }[];
  /** TCP connections the gateway has accepted. */
  connections(): number;
  close(): Promise<void>;
}

/** A real gateway on an ephemeral loopback port, with its own workspace directory. */
export async function startGateway(env: Record<string, string> = {}, port = 0): Promise<TestGateway> {
  const workDir = await mkdtemp(join(tmpdir(), 'ma-client-test-'));
  // The sandbox runs calls as an unprivileged user, who must be able to traverse to the workspaces.
  await chmod(workDir, 0o711);
  const config = resolveConfig({
    MINI_AGENT_TOKENS: `alice:${TOKEN}`,
    MINI_AGENT_WORK_DIR: workDir,
    MINI_AGENT_SHUTDOWN_GRACE_S: '0',
    ...env,
  });
  // TEST_GATEWAY_LOG=debug shows the gateway's own log when a test needs explaining.
  const level = process.env.TEST_GATEWAY_LOG;
  const app = await buildApp(config, level ? { logger: pino({ level }) } : {});
  const responses: TestGateway['responses'] = [];
  app.addHook('onResponse', async (request, reply) => {
    responses.push({ method: request.method, url: request.url, statusCode: reply.statusCode });
  });
  let connections = 0;
  app.server.on('connection', () => {
    connections++;
  });
  await app.listen({ host: '127.0.0.1', port });
  const { port: bound } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    app,
    responses,
    connections: () => connections,
    close: async () => {
      const closing = app.close();
      // After an aborted request undici may hold a fresh, request-less socket until its keep-alive
      // timeout (4 s), which server.close() waits for; a test's gateway need not.
      app.server.closeAllConnections();
      await closing;
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

export type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void | Promise<void>;

/** A plain HTTP server on an ephemeral loopback port; `handle` sees each request with its whole body. */
export async function startServer(handle: Handler): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve(handle(req, Buffer.concat(chunks), res)).catch((err: unknown) => {
        res.destroy(err as Error);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends a request received by a test server on to `target` and returns the gateway's answer. */
export async function forward(target: string, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Headers; text: string }> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && !['host', 'connection', 'content-length', 'keep-alive'].includes(name)) headers.set(name, value);
  }
  const response = await fetch(new URL(req.url ?? '/', target), {
    method: req.method,
    headers,
    body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Host PIDs of processes whose command line contains `marker` (sandboxed ones included: /proc is the host's). */
export async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(marker)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Python that starts a grandchild and sleeps. Every process of the call (sandbox launcher included)
 * carries `marker` in its command line; only the grandchild carries `grandchild-<marker>`, assembled
 * at run time so it appears once the whole tree is up.
 */
export function sleeperCode(marker: string): string {
  return [
    'import subprocess, sys, time',
    `tag = "grand" + "child-${marker}"`,
    `subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)  # ' + tag])`,
    `time.sleep(60)  # ${marker}`,
  ].join('\n');
}

/** Waits until the call started by {@link sleeperCode} has its grandchild running. */
export function treeStarted(marker: string): Promise<void> {
  return waitFor(async () => (await processesWith(`grandchild-${marker}`)).length === 1, 10_000, 'the run and its child to start');
}

/** Waits until no process of the call is left. */
export function treeGone(marker: string): Promise<void> {
  return waitFor(async () => (await processesWith(marker)).length === 0, 10_000, 'every process of the call to end');
}

/** The ToolsHttpError `promise` rejects with; fails the test when it resolves or throws anything else. */
export async function refusal(promise: Promise<unknown>): Promise<ToolsHttpError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ToolsHttpError);
    return err as ToolsHttpError;
  }
  throw new Error('expected the call to be refused');
}
