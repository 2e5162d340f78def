import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, ToolList } from '@mini-agent/protocol';
import type { GatewayContext } from '../context.js';

/** `GET /tools`: the caller's tools as a bare array of OpenAI function tools, with an ETag. */
export const toolsRoute: FastifyPluginAsyncTypebox<GatewayContext> = async (app, ctx) => {
  // The list only changes with configuration, so each visible set's body and tag are computed once.
  const listing = (allow?: ReadonlySet<string>) => {
    const body = JSON.stringify(ctx.runtime.registry.list(allow && ((name) => allow.has(name))));
    return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` };
  };
  const everyTool = listing();
  const restricted = new Map([...ctx.config.principalTools].map(([principal, tools]) => [principal, listing(tools)]));

  app.get(
    '/tools',
    {
      schema: {
        summary: 'List the tools this caller may use (OpenAI function tools, sorted by name)',
        security: [{ bearer: [] }],
        response: { 200: ToolList, 304: Type.Null({ description: 'Not modified (If-None-Match matched)' }), 401: ErrorBody },
      },
    },
    async (request, reply) => {
      const { body, etag } = restricted.get(request.principal) ?? everyTool;
      reply.header('etag', etag).header('cache-control', 'private, no-cache');
      const ifNoneMatch = request.headers['if-none-match'];
      if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        // No body at all: a 304 with content-length makes fetch drop the kept-alive connection.
        return reply.code(304).send(undefined as never);
      }
      // The pre-serialized body: the same bytes the ETag was computed from.
      return reply.type('application/json; charset=utf-8').serializer((s: string) => s).send(body as never);
    },
  );
};
