import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { InvokeResult } from '@mini-agent/protocol';
import { ToolError } from '@mini-agent/tools';
import { allowedTools } from './auth.js';
import type { GatewayContext } from './context.js';
import { errors } from './errors.js';
import { UNKNOWN_TOOL, type Outcome } from './metrics.js';

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
 * The one path every tool call takes: refused while shutting down, checked against the principal's
 * tools, admitted by the fair queue, tracked so shutdown can drain and kill it, counted in the
 * metrics, and written to the audit log (one line per call, never the code itself).
 */
export async function invokeTool(ctx: GatewayContext, call: Invocation): Promise<InvokeResult> {
  // Callers choose names; only known ones become metric labels, so label sets stay bounded.
  const toolLabel = ctx.runtime.registry.has(call.name) ? call.name : UNKNOWN_TOOL;
  const count = (outcome: Outcome, code = '') =>
    ctx.metrics.invocations.inc({ tool: toolLabel, principal: call.principal, outcome, code });
  if (ctx.inflight.closing) {
    ctx.metrics.rejections.inc({ reason: 'SHUTTING_DOWN', principal: call.principal });
    count('refused', 'SHUTTING_DOWN');
    throw new errors.ShuttingDown();
  }
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
  let release: (() => void) | undefined;
  let runStarted = 0;
  try {
    checkAllowed(ctx, call.principal, call.name);
    // An unknown name fails at once in the registry; it need not wait for a slot to learn that.
    if (toolLabel !== UNKNOWN_TOOL) release = await ctx.admission.acquire(call.principal, controller.signal);
    runStarted = performance.now();
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
    const outcome: Outcome =
      data.ok === true ? 'ok' : data.timed_out === true ? 'timed_out' : controller.signal.aborted ? 'cancelled' : 'failed';
    count(outcome);
    ctx.metrics.duration.observe({ tool: toolLabel, outcome }, (performance.now() - runStarted) / 1000);
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
    const code = (err as { code?: string }).code ?? 'INTERNAL_ERROR';
    count(code === 'CLIENT_CLOSED' ? 'cancelled' : 'refused', code);
    audit({ refused: code });
    throw err;
  } finally {
    release?.();
    call.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Throws unless `principal` may call `name`. A restricted principal asking for a tool it cannot see
 * hears of its own tools only, so the error does not list the hidden ones.
 */
function checkAllowed(ctx: GatewayContext, principal: string, name: string): void {
  const allowed = allowedTools(ctx.config.principalTools, principal);
  if (allowed === undefined || allowed.has(name)) return;
  const visible = ctx.runtime.registry.names().filter((n) => allowed.has(n)).join(', ') || '(none)';
  if (!ctx.runtime.registry.has(name)) {
    throw new ToolError('TOOL_NOT_FOUND', `tool \`${name}\` not found; available tools: ${visible}`);
  }
  ctx.metrics.rejections.inc({ reason: 'TOOL_FORBIDDEN', principal });
  throw new errors.ToolForbidden(name, visible);
}

function argsDigest(args: unknown): string {
  const text = typeof args === 'string' ? args : JSON.stringify(args ?? {});
  return createHash('sha256').update(text).digest('hex');
}
