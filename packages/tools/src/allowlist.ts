import { accessSync, constants, realpathSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { ToolError } from './errors.js';

/** Directories where allowlisted commands are looked up; the gateway's own PATH is never used. */
export const COMMAND_SEARCH_PATH = ['/usr/local/bin', '/usr/bin', '/bin'] as const;

/**
 * Names that may never be allowlisted: they run other programs (shells, launchers) or can be made
 * to (`find -exec`, `sed e`, `awk system()`, `sort --compress-program`).
 */
export const FORBIDDEN_COMMANDS: ReadonlySet<string> = new Set([
  'sh', 'bash', 'dash', 'zsh', 'ksh', 'csh', 'tcsh', 'fish', 'busybox', 'env', 'xargs', 'nohup',
  'setsid', 'nice', 'ionice', 'timeout', 'stdbuf', 'chroot', 'unshare', 'nsenter', 'sudo', 'su',
  'doas', 'runuser', 'setpriv', 'prlimit', 'taskset', 'script', 'strace', 'gdb', 'watch', 'flock',
  'find', 'sed', 'awk', 'gawk', 'mawk', 'perl', 'python', 'python3', 'ruby', 'node', 'php', 'lua',
  'tclsh', 'expect', 'make', 'git', 'ssh', 'scp', 'curl', 'wget', 'nc', 'socat', 'tar', 'zip',
  'unzip', 'vi', 'vim', 'less', 'more', 'man', 'sort', 'bwrap', 'pip', 'pip3', 'npm', 'npx',
]);

/** Why the default list holds what it holds: text and file inspection that cannot start a program. */
export const DEFAULT_SHELL_ALLOW = [
  'echo', 'printf', 'cat', 'head', 'tail', 'wc', 'cut', 'tr', 'uniq', 'grep', 'ls', 'pwd', 'date',
  'basename', 'dirname', 'stat', 'du', 'diff', 'cmp', 'md5sum', 'sha256sum', 'base64', 'seq',
  'true', 'false', 'uname', 'tac', 'nl', 'od', 'realpath',
] as const;

/**
 * The allowlist resolved once at startup: each name to the real path of its binary. A path form
 * (`/bin/echo`) is judged by the real file it names, so `/bin/sh` or a copy in the workspace
 * is refused whatever it is called.
 */
export class CommandAllowlist {
  readonly names: readonly string[];
  readonly #byName = new Map<string, string>();
  readonly #realPaths = new Set<string>();

  constructor(names: readonly string[]) {
    for (const name of names) {
      if (name.includes('/') || FORBIDDEN_COMMANDS.has(name)) {
        throw new TypeError(`Expected the shell allowlist to hold plain names of non-launcher commands, got \`${name}\``);
      }
      const real = resolveCommand(name);
      // A name that is not installed is simply unavailable; it is still listed as configured.
      if (real === undefined) continue;
      if (FORBIDDEN_COMMANDS.has(basename(real))) {
        throw new TypeError(`Expected \`${name}\` not to be a shell or launcher, but it resolves to ${real}`);
      }
      this.#byName.set(name, real);
      this.#realPaths.add(real);
    }
    this.names = [...this.#byName.keys()].sort();
  }

  /** The host path to execute for `argv0`, or a COMMAND_NOT_ALLOWED error. */
  resolve(argv0: string): string {
    if (!argv0.includes('/')) {
      const real = this.#byName.get(argv0);
      if (real !== undefined) return real;
    } else if (isAbsolute(argv0)) {
      let real: string | undefined;
      try {
        real = realpathSync(argv0);
      } catch {
        real = undefined;
      }
      if (real !== undefined && this.#realPaths.has(real)) return real;
    }
    throw new ToolError(
      'COMMAND_NOT_ALLOWED',
      `command \`${argv0}\` is not allowed; allowed: ${this.names.join(', ') || '(none)'}`,
    );
  }
}

function resolveCommand(name: string): string | undefined {
  for (const dir of COMMAND_SEARCH_PATH) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
