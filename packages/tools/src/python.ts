import { execFileSync } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';

/** A Python interpreter resolved once: its real binary and the prefixes it loads its library from. */
export interface PythonInterpreter {
  /** Real path of the binary (no shim, no symlink). */
  executable: string;
  /** `sys.prefix` and `sys.base_prefix`, real paths, deduplicated. */
  prefixes: string[];
  version: string;
}

/** Debian's interpreter starts in ~8 ms; a version-manager shim on PATH can cost ~70 ms per call. */
export const DEFAULT_PYTHON_CANDIDATES = ['/usr/bin/python3', 'python3'] as const;

/**
 * Resolves `command` (a path or a name on PATH) to the interpreter's real executable by asking it,
 * so shims are paid for once at startup instead of on every call.
 *
 * @throws TypeError naming the command when it is not a working Python 3.
 */
export function resolvePython(command?: string): PythonInterpreter {
  const candidates = command === undefined ? DEFAULT_PYTHON_CANDIDATES : [command];
  const failures: string[] = [];
  for (const candidate of candidates) {
    if (candidate.includes('/')) {
      try {
        accessSync(candidate, constants.X_OK);
      } catch {
        failures.push(`${candidate}: not an executable file`);
        continue;
      }
    }
    try {
      const out = execFileSync(
        candidate,
        ['-E', '-s', '-c', 'import sys,json;print(json.dumps([sys.executable,sys.prefix,sys.base_prefix,sys.version.split()[0]]))'],
        { encoding: 'utf8', timeout: 10_000 },
      );
      const [executable, prefix, basePrefix, version] = JSON.parse(out) as [string, string, string, string];
      if (!executable) throw new Error('sys.executable is empty');
      const real = realpathSync(executable);
      const prefixes = [...new Set([realpathSync(prefix), realpathSync(basePrefix)])];
      return { executable: real, prefixes, version };
    } catch (err) {
      failures.push(`${candidate}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new TypeError(`Expected a working Python 3 interpreter (MINI_AGENT_PYTHON), got none: ${failures.join('; ')}`);
}
