import { CommandAllowlist, DEFAULT_SHELL_ALLOW } from './allowlist.js';
import {
  DEFAULT_LIMITS,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_MAX_TIMEOUT_S,
  DEFAULT_TIMEOUT_S,
  defaultWorkDir,
  type ToolsOptions,
} from './config.js';
import { execPythonTool } from './exec/exec-python.js';
import { execShellTool } from './exec/exec-shell.js';
import type { ExecEnvironment } from './exec/run-exec.js';
import { resolvePython, type PythonInterpreter } from './python.js';
import { ToolRegistry } from './registry.js';
import { NoSandbox } from './sandbox/none.js';
import type { Sandbox } from './sandbox/types.js';
import { WorkspaceManager } from './workspace.js';

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
  const sandbox: Sandbox = new NoSandbox();
  const workspaces = new WorkspaceManager(options.workDir ?? defaultWorkDir());
  const env: ExecEnvironment = {
    sandbox,
    workspaces,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    defaultTimeoutS: Math.min(options.defaultTimeoutS ?? DEFAULT_TIMEOUT_S, options.maxTimeoutS ?? DEFAULT_MAX_TIMEOUT_S),
    maxTimeoutS: options.maxTimeoutS ?? DEFAULT_MAX_TIMEOUT_S,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
  };
  const registry = new ToolRegistry([execPythonTool(env, python.executable), execShellTool(env, allowlist)]);
  return { registry, sandbox, python, allowlist, workspaces, close: () => workspaces.close() };
}
