import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp, resolveConfig } from '../../packages/gateway/dist/index.js';
// The SDK and pino are dependencies of the gateway package, not of the repository root.
import { Client } from '../../packages/gateway/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
import { StreamableHTTPClientTransport } from '../../packages/gateway/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js';
import pino from '../../packages/gateway/node_modules/pino/pino.js';

export { Client, StreamableHTTPClientTransport };

export interface McpTestGateway {
  app: FastifyInstance;
  url: string;
  /** Every log line the gateway wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** A real gateway on an ephemeral loopback port, its logs captured, its workspaces in a fresh directory. */
export async function startGateway(env: Record<string, string> = {}): Promise<McpTestGateway> {
  const workDir = await mkdtemp(join(tmpdir(), 'ma-mcp-test-'));
  // The sandbox's unprivileged user must be able to traverse to the workspaces.
  await chmod(workDir, 0o711);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const config = resolveConfig({ MINI_AGENT_WORK_DIR: workDir, MINI_AGENT_SHUTDOWN_GRACE_S: '0', ...env });
  const app = await buildApp(config, { logger });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    url,
    logs,
    close: async () => {
      await app.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** An MCP client from the official SDK, connected over Streamable HTTP to `url`/mcp. */
export async function connect(url: string, headers: Record<string, string> = {}): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'mini-agent-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', url), { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
}
