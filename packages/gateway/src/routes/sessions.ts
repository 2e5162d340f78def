import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, SESSION_ID_PATTERN } from '@mini-agent/protocol';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';

/** `DELETE /sessions/:id`: deletes the caller's session and its files (after a run on it ends). */
export const sessionsRoute: FastifyPluginAsyncTypebox<GatewayContext> = async (app, ctx) => {
  app.delete(
    '/sessions/:id',
    {
      schema: {
        summary: "Delete one of the caller's sessions and its workspace",
        security: [{ bearer: [] }],
        // Checked by hand below so a bad id answers INVALID_SESSION like the X-Session-Id header.
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null({ description: 'Deleted' }), '4xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!SESSION_ID_PATTERN.test(id)) throw new errors.InvalidSession();
      // Sessions are per principal: another principal's session of the same id is simply not found.
      const deleted = await ctx.runtime.workspaces.deleteSession(request.principal, id);
      if (!deleted) throw new errors.SessionNotFound(JSON.stringify(id));
      return reply.code(204).send(null);
    },
  );
};
