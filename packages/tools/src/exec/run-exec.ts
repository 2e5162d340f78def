import type { ExecResult, InvokeResult } from '@mini-agent/protocol';
import type { Sandbox, SandboxLimits } from '../sandbox/types.js';
import type { WorkspaceManager } from '../workspace.js';
import type { ToolCallContext } from '../tool.js';

/** What the exec tools share: where and how they run. */
export interface ExecEnvironment {
  sandbox: Sandbox;
  workspaces: WorkspaceManager;
  limits: SandboxLimits;
  defaultTimeoutS: number;
  maxTimeoutS: number;
  maxOutputBytes: number;
  /** Told when a workspace could not be released; the call's result is kept. @default a process warning */
  onWarning?: ((message: string) => void) | undefined;
}

export interface ExecRequest {
  argv: readonly string[];
  stdin?: string | undefined;
  timeoutS?: number | undefined;
}

/** The environment of sandboxed code, built from nothing: no variable of the gateway's reaches it. */
function childEnv(home: string, tmp: string): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: tmp,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TERM: 'dumb',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

/** Runs `argv` in a workspace inside the sandbox and shapes the outcome as an exec tool result. */
export async function runExec(env: ExecEnvironment, req: ExecRequest, ctx: ToolCallContext): Promise<InvokeResult> {
  const timeoutS = Math.min(req.timeoutS ?? env.defaultTimeoutS, env.maxTimeoutS);
  const workspace = await (ctx.sessionId === undefined
    ? env.workspaces.fresh()
    : env.workspaces.session(ctx.principal, ctx.sessionId));
  try {
    const inside = env.sandbox.workspacePath(workspace.path);
    const outcome = await env.sandbox.run({
      argv: req.argv,
      workspace: workspace.path,
      env: childEnv(inside, env.sandbox.kind === 'none' ? workspace.path : '/tmp'),
      stdin: req.stdin,
      timeoutMs: Math.round(timeoutS * 1000),
      maxOutputBytes: env.maxOutputBytes,
      limits: env.limits,
      signal: ctx.signal,
    });
    const data: ExecResult = {
      ok: outcome.rc === 0 && !outcome.timedOut && !outcome.aborted && !outcome.truncated,
      rc: outcome.rc,
      signal: outcome.signal,
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      timed_out: outcome.timedOut,
      truncated: outcome.truncated,
      duration_ms: outcome.durationMs,
    };
    ctx.onOutcome?.({ stdoutBytes: outcome.stdoutBytes, stderrBytes: outcome.stderrBytes });
    return { text: execText(data), data };
  } finally {
    // The run's result (or its error) is what the caller gets: a workspace that cannot be removed
    // or measured is the operator's problem, never a 500 that hides what the code did.
    await workspace.release().catch((err: unknown) => {
      const message = `could not release workspace ${workspace.path}: ${(err as Error).message}`;
      if (env.onWarning === undefined) process.emitWarning(message, 'MiniAgentWorkspaceWarning');
      else env.onWarning(message);
    });
  }
}

/** The compact JSON a model reads: `{"ok","rc","stdout","stderr"}`, plus the flags that are set. */
export function execText(data: ExecResult): string {
  const view: Record<string, unknown> = { ok: data.ok, rc: data.rc, stdout: data.stdout, stderr: data.stderr };
  if (data.timed_out) view.timed_out = true;
  if (data.truncated) view.truncated = true;
  return JSON.stringify(view);
}
