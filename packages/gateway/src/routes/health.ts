import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody } from '@mini-agent/protocol';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';

const Health = Type.Object({
  status: Type.Literal('ok'),
  sandbox: Type.String(),
  tools: Type.Array(Type.String()),
  uptime_s: Type.Number(),
});

/** `GET /healthz` (alive, and how calls are isolated) and `GET /readyz` (taking work). */
export const healthRoutes: FastifyPluginAsyncTypebox<GatewayContext> = async (app, ctx) => {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness, and which sandbox backend runs the calls', response: { 200: Health } } },
    async () => ({
      status: 'ok' as const,
      sandbox: ctx.runtime.sandbox.kind,
      tools: ctx.runtime.registry.names(),
      uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
    }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: 503 once shutdown has begun',
        response: { 200: Type.Object({ status: Type.Literal('ready') }), 503: ErrorBody },
      },
    },
    async () => {
      if (ctx.inflight.closing) throw new errors.ShuttingDown();
      return { status: 'ready' as const };
    },
  );
};
