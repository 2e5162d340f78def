import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from './context.js';
import { errors } from './errors.js';

/**
 * Limits requests per principal per minute on the routes registered after it in `scope` (the
 * authenticated ones, so `request.principal` is set when the limit's hook runs). Answers
 * `429 RATE_LIMITED` in the gateway's error shape with `x-ratelimit-limit`, `x-ratelimit-remaining`,
 * `x-ratelimit-reset` and `retry-after`. Does nothing when the limit is 0.
 */
export async function registerRateLimit(scope: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const max = ctx.config.rateLimitPerMinute;
  if (max === 0) return;
  await scope.register(rateLimit, {
    max,
    timeWindow: 60_000,
    // Keyed by who calls, not by address: agents behind one NAT or proxy are still apart.
    keyGenerator: (request) => `principal:${request.principal}`,
    // Principals are bounded by the configured tokens; the cache only needs to hold them all.
    cache: 10_000,
    errorResponseBuilder: (request, context) => {
      ctx.metrics.rejections.inc({ reason: 'RATE_LIMITED', principal: request.principal });
      return new errors.RateLimited(context.max, context.after);
    },
  });
}
