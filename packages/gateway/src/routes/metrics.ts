import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody } from '@mini-agent/protocol';
import { TokenVerifier } from '../auth.js';
import type { GatewayContext } from '../context.js';

/**
 * `GET /metrics` in the Prometheus text format. It names principals and their traffic, so it is
 * not public: with `MINI_AGENT_METRICS_TOKEN` only that token opens it (give it to the scraper, not
 * to agents); otherwise it takes the tool routes' auth (any principal's token, or loopback only).
 */
export const metricsRoute: FastifyPluginAsyncTypebox<GatewayContext> = async (app, ctx) => {
  const verifier =
    ctx.config.metricsToken === undefined ? ctx.auth : new TokenVerifier(new Map([[ctx.config.metricsToken, 'metrics']]));
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics: invocations, durations, queue depth, in-flight runs, rejections, sandbox backend',
        security: [{ bearer: [] }],
        response: { 200: Type.String(), 401: ErrorBody, 403: ErrorBody },
      },
      onRequest: async (request) => {
        verifier.authenticate(request);
      },
    },
    async (_request, reply) => {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );
};
