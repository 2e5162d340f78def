import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_MAX_TIMEOUT_S,
  DEFAULT_SHELL_ALLOW,
  DEFAULT_TIMEOUT_S,
} from '@mini-agent/tools';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;
export const DEFAULT_LOG_LEVEL = 'info';
/** Largest request body; a larger one is answered 413 before it is read whole. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** How long in-flight runs may go on after a shutdown signal before they are killed. */
export const DEFAULT_SHUTDOWN_GRACE_S = 10;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The gateway's configuration, validated. */
export interface GatewayConfig {
  host: string;
  port: number;
  /** Bearer token → principal. Empty: no auth, loopback only. */
  tokens: ReadonlyMap<string, string>;
  shellAllow: readonly string[];
  defaultTimeoutS: number;
  maxTimeoutS: number;
  maxOutputBytes: number;
  /** Python command or path; undefined picks the default. */
  python: string | undefined;
  logLevel: LogLevel;
  bodyLimitBytes: number;
  shutdownGraceS: number;
  /** Where workspaces live; undefined: a fresh directory in the OS temp dir. */
  workDir: string | undefined;
}

/** One setting: its variable, its flag, its default as shown to users, and what it means. */
export interface ConfigOption {
  env: string;
  flag: string;
  default: string;
  description: string;
}

export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  { env: 'MINI_AGENT_HOST', flag: '--host', default: DEFAULT_HOST, description: 'Address to listen on. Any non-loopback address requires tokens.' },
  { env: 'MINI_AGENT_PORT', flag: '--port', default: String(DEFAULT_PORT), description: 'TCP port (0 picks a free one).' },
  { env: 'MINI_AGENT_TOKENS', flag: '--tokens', default: '(none)', description: 'Bearer tokens naming principals: `alice:secret1,bob:secret2`.' },
  { env: 'MINI_AGENT_TOKENS_FILE', flag: '--tokens-file', default: '(none)', description: 'File with one `principal:token` per line (`#` comments).' },
  { env: 'MINI_AGENT_SHELL_ALLOW', flag: '--shell-allow', default: DEFAULT_SHELL_ALLOW.join(','), description: 'Commands exec_shell may run (comma-separated names; shells and launchers are refused).' },
  { env: 'MINI_AGENT_DEFAULT_TIMEOUT_S', flag: '--default-timeout-s', default: String(DEFAULT_TIMEOUT_S), description: 'Wall clock of a call that sets no timeout_s.' },
  { env: 'MINI_AGENT_MAX_TIMEOUT_S', flag: '--max-timeout-s', default: String(DEFAULT_MAX_TIMEOUT_S), description: 'Cap on any call\'s timeout_s.' },
  { env: 'MINI_AGENT_MAX_OUTPUT_BYTES', flag: '--max-output-bytes', default: String(DEFAULT_MAX_OUTPUT_BYTES), description: 'Bytes kept per output stream (head and tail); more sets truncated.' },
  { env: 'MINI_AGENT_PYTHON', flag: '--python', default: '/usr/bin/python3, else python3 on PATH', description: 'Python interpreter; resolved once to its real path at startup.' },
  { env: 'MINI_AGENT_LOG_LEVEL', flag: '--log-level', default: DEFAULT_LOG_LEVEL, description: `Log level: ${LOG_LEVELS.join(', ')}.` },
  { env: 'MINI_AGENT_BODY_LIMIT_BYTES', flag: '--body-limit-bytes', default: String(DEFAULT_BODY_LIMIT_BYTES), description: 'Largest request body (413 beyond).' },
  { env: 'MINI_AGENT_SHUTDOWN_GRACE_S', flag: '--shutdown-grace-s', default: String(DEFAULT_SHUTDOWN_GRACE_S), description: 'On SIGTERM/SIGINT, how long in-flight runs may finish before they are killed.' },
  { env: 'MINI_AGENT_WORK_DIR', flag: '--work-dir', default: '$TMPDIR/mini-agent-<pid>', description: 'Directory for workspaces; removed on shutdown.' },
];

/** Raw settings by variable name, as read from the environment and flags. */
export type ConfigInput = Readonly<Record<string, string | undefined>>;

function fail(env: string, expected: string, got: string): never {
  throw new TypeError(`Expected \`${env}\` to be ${expected}, got \`${got}\``);
}

function number(input: ConfigInput, env: string, fallback: number, opts: { integer?: boolean; min: number; max?: number }): number {
  const raw = input[env];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  const kind = opts.integer ? 'an integer' : 'a number';
  const range = opts.max === undefined ? `>= ${opts.min}` : `from ${opts.min} to ${opts.max}`;
  if (!Number.isFinite(value) || (opts.integer && !Number.isInteger(value)) || value < opts.min || (opts.max !== undefined && value > opts.max)) {
    fail(env, `${kind} ${range}`, raw);
  }
  return value;
}

const PRINCIPAL = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses `principal:token` entries separated by commas or newlines into token → principal. */
export function parseTokens(text: string, source: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const rawLine of text.split(/[,\n]/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const principal = line.slice(0, colon);
    const token = line.slice(colon + 1);
    if (colon <= 0 || !PRINCIPAL.test(principal) || token.length === 0 || /\s/.test(token)) {
      fail(source, 'comma-separated `principal:token` entries (principal of [A-Za-z0-9_.-], token without spaces)', line.replace(/:.*/, ':***'));
    }
    if (tokens.has(token)) fail(source, 'distinct tokens', `a token shared by ${tokens.get(token)} and ${principal}`);
    tokens.set(token, principal);
  }
  return tokens;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const kind = isIP(host);
  if (kind === 4) return host.startsWith('127.');
  if (kind === 6) return host === '::1' || host.toLowerCase() === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Validates every setting and applies defaults.
 * @throws TypeError naming the variable and what it expected.
 */
export function resolveConfig(input: ConfigInput): GatewayConfig {
  const host = (input.MINI_AGENT_HOST ?? '').trim() || DEFAULT_HOST;
  if (host !== 'localhost' && isIP(host) === 0) fail('MINI_AGENT_HOST', 'an IP address or `localhost`', host);

  const tokens = new Map<string, string>();
  if (input.MINI_AGENT_TOKENS?.trim()) {
    for (const [t, p] of parseTokens(input.MINI_AGENT_TOKENS, 'MINI_AGENT_TOKENS')) tokens.set(t, p);
  }
  const tokensFile = input.MINI_AGENT_TOKENS_FILE?.trim();
  if (tokensFile) {
    let text: string;
    try {
      text = readFileSync(tokensFile, 'utf8');
    } catch (err) {
      fail('MINI_AGENT_TOKENS_FILE', 'a readable file', `${tokensFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    for (const [t, p] of parseTokens(text, 'MINI_AGENT_TOKENS_FILE')) {
      if (tokens.has(t)) fail('MINI_AGENT_TOKENS_FILE', 'tokens distinct from MINI_AGENT_TOKENS', `a token shared by ${p}`);
      tokens.set(t, p);
    }
  }
  if (tokens.size === 0 && !isLoopbackHost(host)) {
    throw new TypeError(
      `Refusing to listen on ${host} without authentication: set MINI_AGENT_TOKENS (e.g. alice:$(openssl rand -hex 24)) ` +
        'or MINI_AGENT_TOKENS_FILE, or bind a loopback address such as 127.0.0.1',
    );
  }

  let shellAllow: readonly string[] = DEFAULT_SHELL_ALLOW;
  const allowRaw = input.MINI_AGENT_SHELL_ALLOW;
  if (allowRaw !== undefined && allowRaw.trim() !== '') {
    shellAllow = allowRaw.split(',').map((s) => s.trim()).filter(Boolean);
    for (const name of shellAllow) {
      if (!/^[A-Za-z0-9._+-]+$/.test(name)) fail('MINI_AGENT_SHELL_ALLOW', 'comma-separated command names', name);
    }
  }

  const maxTimeoutS = number(input, 'MINI_AGENT_MAX_TIMEOUT_S', DEFAULT_MAX_TIMEOUT_S, { min: 0.1, max: 3600 });
  const defaultTimeoutS = number(input, 'MINI_AGENT_DEFAULT_TIMEOUT_S', Math.min(DEFAULT_TIMEOUT_S, maxTimeoutS), { min: 0.1, max: maxTimeoutS });
  const logLevel = (input.MINI_AGENT_LOG_LEVEL?.trim() || DEFAULT_LOG_LEVEL) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) fail('MINI_AGENT_LOG_LEVEL', `one of ${LOG_LEVELS.join(', ')}`, logLevel);

  return {
    host,
    port: number(input, 'MINI_AGENT_PORT', DEFAULT_PORT, { integer: true, min: 0, max: 65535 }),
    tokens,
    shellAllow,
    defaultTimeoutS,
    maxTimeoutS,
    maxOutputBytes: number(input, 'MINI_AGENT_MAX_OUTPUT_BYTES', DEFAULT_MAX_OUTPUT_BYTES, { integer: true, min: 64, max: 64 * 1024 * 1024 }),
    python: input.MINI_AGENT_PYTHON?.trim() || undefined,
    logLevel,
    bodyLimitBytes: number(input, 'MINI_AGENT_BODY_LIMIT_BYTES', DEFAULT_BODY_LIMIT_BYTES, { integer: true, min: 1024, max: 64 * 1024 * 1024 }),
    shutdownGraceS: number(input, 'MINI_AGENT_SHUTDOWN_GRACE_S', DEFAULT_SHUTDOWN_GRACE_S, { min: 0, max: 3600 }),
    workDir: input.MINI_AGENT_WORK_DIR?.trim() || undefined,
  };
}
