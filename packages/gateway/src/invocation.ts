import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { InvokeResult } from '@mini-agent/protocol';
import type { GatewayContext } from './context.js';
import { errors } from './errors.js';

/** One call of a tool, from whichever front door it came (`/invoke`, `/mcp`). */
export interface Invocation {
  principal: string;
  name: string;
  /** As the caller sent it: a JSON string, an object, or absent. */
  args: unknown;
  sessionId?: string | undefined;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
  log: FastifyBaseLogger;
}

/**
 * The one path every tool call takes: refused while shutting down, tracked so shutdown can drain
 * and kill it, and written to the audit log (one line per call, never the code itself).
 */
export async function invokeTool(ctx: GatewayContext, call: Invocation): Promise<InvokeResult> {
  if (ctx.inflight.closing) throw new errors.ShuttingDown();
  const log = call.log.child({ tool: call.name, principal: call.principal });
  const controller = new AbortController();
  const onAbort = () => controller.abort(call.signal.reason);
  if (call.signal.aborted) onAbort();
  else call.signal.addEventListener('abort', onAbort, { once: true });

  let bytes = { stdoutBytes: 0, stderrBytes: 0 };
  const started = performance.now();
  const audit = (fields: Record<string, unknown>) =>
    log.info(
      {
        audit: {
          principal: call.principal,
          tool: call.name,
          session: call.sessionId,
          args_sha256: argsDigest(call.args),
          duration_ms: Math.round(performance.now() - started),
          ...fields,
        },
      },
      'invocation',
    );
  try {
    const result = await ctx.inflight.track(controller, () =>
      ctx.runtime.registry.invoke(call.name, call.args, {
        principal: call.principal,
        sessionId: call.sessionId,
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
    call.signal.removeEventListener('abort', onAbort);
  }
}

function argsDigest(args: unknown): string {
  const text = typeof args === 'string' ? args : JSON.stringify(args ?? {});
  return createHash('sha256').update(text).digest('hex');
}
