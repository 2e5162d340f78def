import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, InvokeRequest, InvokeResult, SESSION_ID_PATTERN } from '@mini-agent/protocol';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { invokeTool } from '../invocation.js';

/** The session a request names in `X-Session-Id`, validated; undefined for a fresh workspace. */
export function sessionIdOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !SESSION_ID_PATTERN.test(header)) throw new errors.InvalidSession();
  return header;
}

/** `POST /invoke`: runs one tool. A run that fails is a 200 with `ok: false`. */
export const invokeRoute: FastifyPluginAsyncTypebox<GatewayContext> = async (app, ctx) => {
  app.post(
    '/invoke',
    {
      schema: {
        summary: 'Run one tool',
        security: [{ bearer: [] }],
        body: InvokeRequest,
        response: { 200: InvokeResult, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const sessionId = sessionIdOf(request.headers['x-session-id']);
      const gone = new AbortController();
      // A response closed before it was written means the client went away: kill the run.
      const onClose = () => {
        if (!reply.raw.writableFinished) gone.abort(new Error('client disconnected'));
      };
      reply.raw.once('close', onClose);
      try {
        return await invokeTool(ctx, {
          principal: request.principal,
          name: request.body.name,
          args: request.body.arguments,
          sessionId,
          signal: gone.signal,
          log: request.log,
        });
      } finally {
        reply.raw.off('close', onClose);
      }
    },
  );
};
