import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { GatewayContext } from '../context.js';
import { checkOrigin } from '../mcp/origin.js';
import { createMcpServer } from '../mcp/server.js';
import { sessionIdOf } from './invoke.js';

/** What a stateless server answers to the SSE stream (GET) and session end (DELETE) it does not offer. */
const METHOD_NOT_ALLOWED = JSON.stringify({
  jsonrpc: '2.0',
  error: { code: -32000, message: 'Method not allowed: this MCP server is stateless; send JSON-RPC with POST' },
  id: null,
});

const BATCH_REFUSED = JSON.stringify({
  jsonrpc: '2.0',
  error: { code: -32600, message: 'Invalid Request: send one JSON-RPC message per POST (batches are not accepted)' },
  id: null,
});

/**
 * `POST /mcp`: MCP Streamable HTTP, stateless, JSON responses. The same tools, auth, rate limit,
 * admission and audit as `/invoke` (every call goes through `invokeTool`). `X-Session-Id` selects
 * a persistent workspace as on `/invoke`. The client closing the connection kills its runs.
 */
export const mcpRoute: FastifyPluginAsync<GatewayContext> = async (app, ctx) => {
  const originGuard = async (request: FastifyRequest) => checkOrigin(request.headers.origin, ctx.config.allowedOrigins);

  app.post('/mcp', { onRequest: originGuard, schema: { summary: 'MCP Streamable HTTP (stateless): tools/list, tools/call', security: [{ bearer: [] }] } }, async (request, reply) => {
    // One message per request: a JSON-RPC batch of tool calls would slip past the per-request rate
    // limit (batching is gone from the 2025-06-18 protocol anyway).
    if (Array.isArray(request.body) && request.body.length !== 1) {
      return reply.code(400).type('application/json').send(BATCH_REFUSED);
    }
    const sessionId = sessionIdOf(request.headers['x-session-id']);
    const gone = new AbortController();
    // A response closed before it was written means the client went away: kill its runs.
    const onClose = () => {
      if (!reply.raw.writableFinished) gone.abort(new Error('client disconnected'));
    };
    reply.raw.once('close', onClose);
    const server = createMcpServer(ctx, { principal: request.principal, sessionId, signal: gone.signal, log: request.log, requestId: request.id });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    try {
      await server.connect(transport);
      const response = await transport.handleRequest(toWebRequest(request), { parsedBody: request.body });
      for (const [name, value] of response.headers) reply.header(name, value);
      return reply.code(response.status).send(await response.text());
    } finally {
      reply.raw.off('close', onClose);
      await server.close();
    }
  });

  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(405).header('allow', 'POST').type('application/json').send(METHOD_NOT_ALLOWED);
  app.get('/mcp', { onRequest: originGuard, schema: { hide: true } }, notAllowed);
  app.delete('/mcp', { onRequest: originGuard, schema: { hide: true } }, notAllowed);
};

/** The Fastify request as the web `Request` the SDK's transport reads headers from (the body is already parsed). */
function toWebRequest(request: FastifyRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  return new Request(new URL(request.url, 'http://localhost'), { method: request.method, headers });
}
