import { CommandAllowlist, DEFAULT_SHELL_ALLOW } from './allowlist.js';
import {
  DEFAULT_LIMITS,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_SANDBOX_UID,
  DEFAULT_MAX_TIMEOUT_S,
  DEFAULT_TIMEOUT_S,
  type ToolsOptions,
} from './config.js';
import { execPythonTool } from './exec/exec-python.js';
import { execShellTool } from './exec/exec-shell.js';
import type { ExecEnvironment } from './exec/run-exec.js';
import { resolvePython, type PythonInterpreter } from './python.js';
import { ToolRegistry } from './registry.js';
import { researchTools } from './research/index.js';
import { validateLimits } from './sandbox/limits.js';
import { selectSandbox } from './sandbox/select.js';
import type { Sandbox } from './sandbox/types.js';
import { WorkspaceManager } from './workspace.js';
import { createWorkDir, secureDir } from './work-dir.js';

/** Everything a process needs to serve the tools; `close()` removes its workspaces. */
export interface ToolRuntime {
  registry: ToolRegistry;
  sandbox: Sandbox;
  python: PythonInterpreter;
  allowlist: CommandAllowlist;
  workspaces: WorkspaceManager;
  close(): Promise<void>;
}

/**
 * Resolves the interpreter and the shell allowlist once, picks the sandbox, and builds the registry.
 * @throws TypeError when an option is unusable (no Python, a launcher on the allowlist…).
 */
export async function createToolRuntime(options: ToolsOptions = {}): Promise<ToolRuntime> {
  const python = resolvePython(options.python);
  const allowlist = new CommandAllowlist(options.shellAllow ?? DEFAULT_SHELL_ALLOW);
  const limits = validateLimits({ ...DEFAULT_LIMITS, ...options.limits });
  const workDir = options.workDir ?? (await createWorkDir());
  // Checked before anything runs in it, so a planted directory fails startup naming the setting.
  await secureDir(workDir, 0o711);
  const sandbox: Sandbox = await selectSandbox(options.sandbox ?? 'auto', {
    python,
    workDir,
    uid: options.sandboxUid ?? DEFAULT_SANDBOX_UID,
    warn: options.onSandboxWarning ?? ((message) => process.emitWarning(message, 'MiniAgentSandboxWarning')),
  });
  const workspaces = new WorkspaceManager(workDir, {
    owner: sandbox.owner,
    sessionTtlS: options.sessionTtlS,
    sessionQuotaBytes: limits.diskBytes,
    sessionMaxFiles: limits.maxFiles,
    maxSessionsPerPrincipal: options.maxSessionsPerPrincipal,
  });
  const env: ExecEnvironment = {
    sandbox,
    workspaces,
    limits,
    defaultTimeoutS: Math.min(options.defaultTimeoutS ?? DEFAULT_TIMEOUT_S, options.maxTimeoutS ?? DEFAULT_MAX_TIMEOUT_S),
    maxTimeoutS: options.maxTimeoutS ?? DEFAULT_MAX_TIMEOUT_S,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
  };
  const registry = new ToolRegistry([execPythonTool(env, python.executable), execShellTool(env, allowlist), ...researchTools(options.research)]);
  return {
    registry,
    sandbox,
    python,
    allowlist,
    workspaces,
    close: async () => {
      await sandbox.close?.();
      await workspaces.close();
    },
  };
}
