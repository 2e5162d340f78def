import { createRequire } from 'node:module';
import type { FastifyBaseLogger } from 'fastify';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CancelledNotificationSchema,
  ErrorCode,
  ListToolsRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { InvokeResult } from '@mini-agent/protocol';
import { allowedTools } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { invokeTool } from '../invocation.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** JSON-RPC code of a call the gateway refused before running it (busy, rate-limited, closing). */
export const MCP_REFUSED = -32000;

/** Refusals the model can act on (fix its arguments or its command): tool results, per the MCP spec. */
const TOOL_EXECUTION_ERRORS: ReadonlySet<string> = new Set(['INVALID_ARGUMENTS', 'COMMAND_NOT_ALLOWED']);
/** Names the caller cannot use: protocol errors, as the spec has it for unknown tools. */
const UNKNOWN_TOOL_ERRORS: ReadonlySet<string> = new Set(['TOOL_NOT_FOUND', 'TOOL_FORBIDDEN']);

/**
 * A JSON-RPC error as the SDK sends it (`code`, `message`, `data`). Not the SDK's `McpError`,
 * whose message carries an `MCP error <code>:` prefix the client adds again.
 */
class JsonRpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** Who is calling, and what ends their calls. */
export interface McpCaller {
  principal: string;
  sessionId: string | undefined;
  /** Aborted when the HTTP client goes away. */
  signal: AbortSignal;
  log: FastifyBaseLogger;
  requestId: string;
}

/**
 * An MCP server for one HTTP request (stateless: the SDK's `Server` holds per-connection state, so
 * each POST gets its own). It lists the caller's tools, as `GET /tools` does, and sends every
 * `tools/call` through {@link invokeTool}, the path `/invoke` takes.
 */
export function createMcpServer(ctx: GatewayContext, caller: McpCaller): Server {
  const server = new Server(
    { name: 'mini-agent', title: 'mini-agent tools gateway', version },
    {
      capabilities: { tools: {} },
      instructions:
        'Sandboxed tools: exec_python and exec_shell run code with no network in a private directory; ' +
        'a failed run comes back as a result with isError and its rc, stdout and stderr.',
    },
  );
  const allowed = allowedTools(ctx.config.principalTools, caller.principal);
  const tools: Tool[] = ctx.runtime.registry
    .list((name) => allowed?.has(name) ?? true)
    .map((t) => ({ name: t.function.name, description: t.function.description, inputSchema: t.function.parameters as Tool['inputSchema'] }));

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    try {
      const result = await invokeTool(ctx, {
        principal: caller.principal,
        name: request.params.name,
        args: request.params.arguments ?? {},
        sessionId: caller.sessionId,
        signal: AbortSignal.any([caller.signal, extra.signal]),
        log: caller.log,
      });
      return toCallToolResult(result);
    } catch (err) {
      return refusal(err, caller);
    }
  });
  // Each POST has its own server, so a cancel can only name a request of the same batch, and a
  // cancelled request is never answered: the POST would hang. Runs end when the client disconnects.
  server.setNotificationHandler(CancelledNotificationSchema, () => {});
  return server;
}

/** `{text, data}` as MCP content: the text a model reads, `data` as structured content. */
export function toCallToolResult(result: InvokeResult): CallToolResult {
  return {
    content: [{ type: 'text', text: result.text }],
    structuredContent: result.data,
    isError: result.data.ok === false,
  };
}

/** A refused call: a tool result when the model can fix it, a JSON-RPC error otherwise. */
function refusal(err: unknown, caller: McpCaller): CallToolResult {
  const { code, statusCode, message, retryAfterS } = err as { code?: unknown; statusCode?: unknown; message?: string; retryAfterS?: unknown };
  if (typeof code === 'string' && TOOL_EXECUTION_ERRORS.has(code)) {
    return { content: [{ type: 'text', text: JSON.stringify({ ok: false, code, message }) }], isError: true };
  }
  if (typeof code === 'string' && UNKNOWN_TOOL_ERRORS.has(code)) {
    throw new JsonRpcError(ErrorCode.InvalidParams, message ?? code, { code });
  }
  const refused = typeof code === 'string' && ((typeof statusCode === 'number' && statusCode < 500) || code === 'SHUTTING_DOWN');
  if (refused) {
    const data: Record<string, unknown> = { code, statusCode };
    if (typeof retryAfterS === 'number') data.retryAfterS = retryAfterS;
    throw new JsonRpcError(MCP_REFUSED, message ?? String(code), data);
  }
  caller.log.error({ err }, 'mcp tool call failed');
  throw new JsonRpcError(ErrorCode.InternalError, `internal error (request id ${caller.requestId})`);
}
