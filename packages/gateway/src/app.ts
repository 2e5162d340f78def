import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createToolRuntime, ToolError, type ToolRuntime } from '@mini-agent/tools';
import { Admission } from './admission.js';
import { TokenVerifier } from './auth.js';
import { isLoopbackHost, unsandboxedRefusal, type GatewayConfig } from './config.js';
import type { GatewayContext } from './context.js';
import { errors } from './errors.js';
import { InFlight } from './inflight.js';
import { GatewayMetrics } from './metrics.js';
import { registerRateLimit } from './rate-limit.js';
import { healthRoutes } from './routes/health.js';
import { invokeRoute } from './routes/invoke.js';
import { mcpRoute } from './routes/mcp.js';
import { sessionsRoute } from './routes/sessions.js';
import { metricsRoute } from './routes/metrics.js';
import { toolsRoute } from './routes/tools.js';

export interface BuildAppOptions {
  /** A pino logger; `false` or absent: silent. */
  logger?: FastifyBaseLogger | false;
  /** A prepared tool runtime; absent: one is created from `config` and closed with the app. */
  runtime?: ToolRuntime;
}

/** Builds the gateway; `listen` is the caller's. Closing it kills in-flight runs after the grace period. */
export async function buildApp(config: GatewayConfig, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const runtime =
    options.runtime ??
    (await createToolRuntime({
      python: config.python,
      shellAllow: config.shellAllow,
      defaultTimeoutS: config.defaultTimeoutS,
      maxTimeoutS: config.maxTimeoutS,
      maxOutputBytes: config.maxOutputBytes,
      workDir: config.workDir,
      research: config.research,
      sandbox: config.sandbox,
      limits: config.limits,
      sessionTtlS: config.sessionTtlS,
      maxSessionsPerPrincipal: config.maxSessionsPerPrincipal,
      ...(options.logger ? { onSandboxWarning: (message: string) => (options.logger as FastifyBaseLogger).warn(message) } : {}),
    }));
  // `auto` may have fallen back to no isolation: that must not be served beyond this machine.
  if (runtime.sandbox.kind === 'none' && !config.allowUnsandboxed && !isLoopbackHost(config.host)) {
    if (options.runtime === undefined) await runtime.close();
    throw new TypeError(unsandboxedRefusal(config.host));
  }
  const admission = new Admission({
    maxConcurrency: config.maxConcurrency,
    maxConcurrencyPerPrincipal: config.maxConcurrencyPerPrincipal,
    maxQueue: config.maxQueue,
    queueTimeoutMs: config.queueTimeoutS * 1000,
  });
  const ctx: GatewayContext = {
    config,
    runtime,
    auth: new TokenVerifier(config.tokens),
    inflight: new InFlight(),
    startedAt: Date.now(),
    admission,
    metrics: new GatewayMetrics({
      admission,
      sandbox: runtime.sandbox.kind,
      maxConcurrency: config.maxConcurrency,
      maxQueue: config.maxQueue,
    }),
  };
  for (const [principal, tools] of config.principalTools) {
    const unknown = [...tools].filter((t) => !runtime.registry.has(t));
    if (unknown.length > 0) {
      if (options.runtime === undefined) await runtime.close();
      throw new TypeError(
        `Expected \`MINI_AGENT_PRINCIPAL_TOOLS\` to name served tools (${runtime.registry.names().join(', ')}), got \`${unknown.join(', ')}\` for ${principal}`,
      );
    }
  }

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    // Shutdown answers with our own SHUTTING_DOWN body rather than Fastify's bare 503.
    return503OnClosing: false,
    // Runs are drained in preClose before the listener closes; what is still connected then is idle or stuck.
    forceCloseConnections: true,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Only JSON bodies: a browser may send text/plain cross-origin without a preflight.
  app.removeContentTypeParser('text/plain');
  // Deeply nested JSON overflows the stack of recursive code downstream (validation, logging,
  // hashing); no tool or protocol message needs more than a few levels.
  app.addHook('preValidation', async (request) => {
    if (exceedsDepth(request.body, MAX_JSON_DEPTH)) {
      throw new errors.InvalidBody(`body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const e = toHttpError(err, request.id);
    if (e.statusCode >= 500) request.log.error({ err }, 'request failed');
    // Admission refusals say when a retry may succeed (rate-limit sets its own header).
    const retryAfterS = (err as { retryAfterS?: unknown }).retryAfterS;
    if (typeof retryAfterS === 'number') reply.header('retry-after', String(retryAfterS));
    return reply.code(e.statusCode).send({
      statusCode: e.statusCode,
      code: e.code,
      error: STATUS_CODES[e.statusCode] ?? 'Error',
      message: e.message,
    });
  });
  app.setNotFoundHandler((request) => {
    throw new errors.RouteNotFound(request.method, request.url.split('?')[0]);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'mini-agent tools gateway',
        version: '1',
        description: 'Sandboxed exec_python and exec_shell for LLM agents: GET /tools, POST /invoke.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, ctx);
  await app.register(metricsRoute, ctx);
  await app.register(async (scope) => {
    scope.decorateRequest('principal', '');
    scope.addHook('onRequest', async (request) => {
      request.principal = ctx.auth.authenticate(request);
    });
    // Before the routes: the limit applies to the routes registered after it in this scope.
    await registerRateLimit(scope, ctx);
    await scope.register(toolsRoute, ctx);
    await scope.register(invokeRoute, ctx);
    await scope.register(sessionsRoute, ctx);
    await scope.register(mcpRoute, ctx);
  });

  app.decorate('beginShutdown', () => {
    // Waiting calls ran nothing: refuse them now (SHUTTING_DOWN) rather than start them during the drain.
    ctx.admission.close();
    return ctx.inflight.drain(config.shutdownGraceS * 1000);
  });
  // A close without beginShutdown() first still drains, so no run outlives the app.
  app.addHook('preClose', async () => {
    await app.beginShutdown();
  });
  if (options.runtime === undefined) app.addHook('onClose', async () => runtime.close());
  return app;
}

/** Deepest JSON nesting a request body may have. */
export const MAX_JSON_DEPTH = 64;

/** True when `value` nests objects/arrays deeper than `max`; iterative, so it cannot overflow itself. */
function exceedsDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

interface HttpError {
  statusCode: number;
  code: string;
  message: string;
}

/** Maps any error to one of the gateway's stable codes; internals never reach the client. */
function toHttpError(err: FastifyError, requestId: string): HttpError {
  if (err instanceof ToolError) return err;
  if (err.validation) {
    const first = err.validation[0];
    const where = `body${(first?.instancePath ?? '').replaceAll('/', '.')}`;
    return new errors.InvalidBody(`${where}: ${first?.message ?? 'invalid'}`);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new errors.PayloadTooLarge(String(err.message.match(/\d+/)?.[0] ?? 'the limit'));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new errors.UnsupportedMediaType();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new errors.InvalidBody(err.message);
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && err.code?.startsWith('FST_ERR_CTP'))) {
    return new errors.InvalidBody(`body is not valid JSON: ${err.message}`);
  }
  if (typeof err.statusCode === 'number' && err.statusCode < 500 && err.code && !err.code.startsWith('FST_')) {
    return { statusCode: err.statusCode, code: err.code, message: err.message };
  }
  if (err.code === 'SHUTTING_DOWN') return err as HttpError;
  return new errors.Internal(requestId);
}
