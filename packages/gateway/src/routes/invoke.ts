import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, InvokeRequest, InvokeResult, SESSION_ID_PATTERN } from '@mini-agent/protocol';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';

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
        response: {
          200: InvokeResult,
          '4xx': ErrorBody,
          '5xx': ErrorBody,
        },
      },
    },
    async (request, reply) => {
      if (ctx.inflight.closing) throw new errors.ShuttingDown();
      const sessionId = sessionIdOf(request.headers['x-session-id']);
      const { name } = request.body;
      const log = request.log.child({ tool: name, principal: request.principal });

      const controller = new AbortController();
      // A response closed before it was written means the client went away: kill the run.
      const onClose = () => {
        if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
      };
      reply.raw.once('close', onClose);

      let bytes = { stdoutBytes: 0, stderrBytes: 0 };
      const started = performance.now();
      const audit = (fields: Record<string, unknown>) =>
        log.info(
          {
            audit: {
              principal: request.principal,
              tool: name,
              session: sessionId,
              args_sha256: argsDigest(request.body.arguments),
              duration_ms: Math.round(performance.now() - started),
              ...fields,
            },
          },
          'invocation',
        );
      try {
        const result = await ctx.inflight.track(controller, () =>
          ctx.runtime.registry.invoke(name, request.body.arguments, {
            principal: request.principal,
            sessionId,
            signal: controller.signal,
            onOutcome: (b) => {
              bytes = b;
            },
          }),
        );
        const data = result.data as { rc?: unknown; timed_out?: unknown; ok?: unknown };
        audit({
          ok: data.ok,
          rc: data.rc,
          timed_out: data.timed_out,
          aborted: controller.signal.aborted,
          stdout_bytes: bytes.stdoutBytes,
          stderr_bytes: bytes.stderrBytes,
        });
        return result;
      } catch (err) {
        audit({ refused: (err as { code?: string }).code ?? 'INTERNAL_ERROR' });
        throw err;
      } finally {
        reply.raw.off('close', onClose);
      }
    },
  );
};

function argsDigest(args: unknown): string {
  const text = typeof args === 'string' ? args : JSON.stringify(args ?? {});
  return createHash('sha256').update(text).digest('hex');
}
