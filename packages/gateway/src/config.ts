import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import {
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_MAX_TIMEOUT_S,
  DEFAULT_SHELL_ALLOW,
  DEFAULT_TIMEOUT_S,
  DEFAULT_LIMITS,
  DEFAULT_SESSION_TTL_S,
  DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
  type SandboxChoice,
  type SandboxLimits,
  DEFAULT_C7_API_BASE,
  DEFAULT_PPLX_API_BASE,
  DEFAULT_PPLX_MODEL,
  DEFAULT_RESEARCH_TIMEOUT_S,
  type ResearchOptions,
} from '@mini-agent/tools';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;
export const DEFAULT_LOG_LEVEL = 'info';
/** Largest request body; a larger one is answered 413 before it is read whole. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** How long in-flight runs may go on after a shutdown signal before they are killed. */
export const DEFAULT_SHUTDOWN_GRACE_S = 10;
/** bubblewrap when it works here, else no isolation with a loud warning (loopback only). */
export const DEFAULT_SANDBOX: SandboxChoice = 'auto';
/** Runs at once: one per CPU, since exec calls are mostly CPU-bound interpreters. */
export const DEFAULT_MAX_CONCURRENCY = availableParallelism();
/** Calls that may wait for a run slot; past it `429 QUEUE_FULL`. */
export const DEFAULT_MAX_QUEUE = 64;
/** Longest wait for a run slot before `429 QUEUE_TIMEOUT`. */
export const DEFAULT_QUEUE_TIMEOUT_S = 30;
/** Calls per principal per minute (`0`: no limit); generous, it stops runaway loops, not agents. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

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
  /** Isolation backend asked for. */
  sandbox: SandboxChoice;
  /** Serve unisolated calls on a non-loopback address anyway. */
  allowUnsandboxed: boolean;
  /** Per-call resource limits. */
  limits: SandboxLimits;
  /** Idle time after which a session and its files are deleted. */
  sessionTtlS: number;
  /** Sessions one principal may hold at once. */
  maxSessionsPerPrincipal: number;
  /** Runs at once over all principals. */
  maxConcurrency: number;
  /** Runs at once of one principal. */
  maxConcurrencyPerPrincipal: number;
  /** Calls waiting for a slot over all principals. */
  maxQueue: number;
  /** Longest wait for a slot, in seconds. */
  queueTimeoutS: number;
  /** Calls per principal per minute; 0: no limit. */
  rateLimitPerMinute: number;
  /** Principal → the only tools it may see and call. A principal not in the map may use every tool. */
  principalTools: ReadonlyMap<string, ReadonlySet<string>>;
  /** Bearer token `GET /metrics` requires; undefined: the same auth as the tool routes. */
  metricsToken: string | undefined;

  /** Research tools to register (each only when configured) and their upstream deadline. */
  research: ResearchOptions;
  /** Browser origins `/mcp` accepts besides loopback ones (DNS-rebinding guard). */
  allowedOrigins: readonly string[];
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
  { env: 'MINI_AGENT_WORK_DIR', flag: '--work-dir', default: 'a fresh $TMPDIR/mini-agent-XXXXXX', description: 'Directory for workspaces, created if missing; refused if it is a symlink, owned by another user, or writable by group or others; removed on shutdown.' },
  { env: 'MINI_AGENT_SANDBOX', flag: '--sandbox', default: DEFAULT_SANDBOX, description: '`bwrap` (fail at startup if bubblewrap cannot run, naming the fix), `none` (no isolation; loopback only), or `auto` (bwrap when it works, else none with a warning).' },
  { env: 'MINI_AGENT_ALLOW_UNSANDBOXED', flag: '--allow-unsandboxed', default: '0', description: 'Set to 1 to serve a non-loopback address without a sandbox (otherwise startup is refused).' },
  { env: 'MINI_AGENT_CPU_S', flag: '--cpu-s', default: String(DEFAULT_LIMITS.cpuSeconds), description: 'CPU seconds per process of a call (RLIMIT_CPU).' },
  { env: 'MINI_AGENT_MEMORY_BYTES', flag: '--memory-bytes', default: String(DEFAULT_LIMITS.memoryBytes), description: 'Memory of a call, /tmp included (memory cgroup; RLIMIT_AS without one).' },
  { env: 'MINI_AGENT_MAX_PROCS', flag: '--max-procs', default: String(DEFAULT_LIMITS.maxProcesses), description: 'Processes and threads of a call at once (pids cgroup; RLIMIT_NPROC without one).' },
  { env: 'MINI_AGENT_FILE_SIZE_BYTES', flag: '--file-size-bytes', default: String(DEFAULT_LIMITS.fileSizeBytes), description: 'Largest file a call may write (RLIMIT_FSIZE).' },
  { env: 'MINI_AGENT_OPEN_FILES', flag: '--open-files', default: String(DEFAULT_LIMITS.openFiles), description: 'Open file descriptors per process (RLIMIT_NOFILE).' },
  { env: 'MINI_AGENT_DISK_BYTES', flag: '--disk-bytes', default: String(DEFAULT_LIMITS.diskBytes), description: 'Bytes a workspace may hold (files count 1 KiB at least); a run growing it past is killed, a session left past it refuses runs until deleted.' },
  { env: 'MINI_AGENT_MAX_FILES', flag: '--max-files', default: String(DEFAULT_LIMITS.maxFiles), description: 'Files, directories and links a workspace may hold; a run creating more is killed, a session left with more refuses runs until deleted. Bounds the disk check, keeping it prompt.' },
  { env: 'MINI_AGENT_TMP_BYTES', flag: '--tmp-bytes', default: String(DEFAULT_LIMITS.tmpBytes), description: 'Size of each call\'s private /tmp (tmpfs, counted in its memory).' },
  { env: 'MINI_AGENT_SESSION_TTL_S', flag: '--session-ttl-s', default: String(DEFAULT_SESSION_TTL_S), description: 'A session unused this long is deleted with its files.' },
  { env: 'MINI_AGENT_MAX_SESSIONS_PER_PRINCIPAL', flag: '--max-sessions-per-principal', default: String(DEFAULT_MAX_SESSIONS_PER_PRINCIPAL), description: 'Sessions one principal may hold at once (each up to MINI_AGENT_DISK_BYTES); a new one past it answers 409 SESSION_OVER_QUOTA until one is deleted.' },
  { env: 'MINI_AGENT_MAX_CONCURRENCY', flag: '--max-concurrency', default: 'the CPU count (os.availableParallelism())', description: 'Tool runs at once over all principals; more calls wait in the queue.' },
  { env: 'MINI_AGENT_MAX_CONCURRENCY_PER_PRINCIPAL', flag: '--max-concurrency-per-principal', default: 'half of MINI_AGENT_MAX_CONCURRENCY (rounded up) when tokens name 2+ principals, else all of it', description: 'Tool runs at once of one principal, so one agent cannot hold every slot.' },
  { env: 'MINI_AGENT_MAX_QUEUE', flag: '--max-queue', default: String(DEFAULT_MAX_QUEUE), description: 'Calls that may wait for a slot (0: none wait); past it 429 QUEUE_FULL with Retry-After. Freed slots go round-robin across principals.' },
  { env: 'MINI_AGENT_QUEUE_TIMEOUT_S', flag: '--queue-timeout-s', default: String(DEFAULT_QUEUE_TIMEOUT_S), description: 'Longest wait for a slot; then 429 QUEUE_TIMEOUT with Retry-After (nothing ran).' },
  { env: 'MINI_AGENT_RATE_LIMIT', flag: '--rate-limit', default: String(DEFAULT_RATE_LIMIT_PER_MINUTE), description: 'Requests per principal per minute to the tool routes (0: no limit); past it 429 RATE_LIMITED with Retry-After.' },
  { env: 'MINI_AGENT_PRINCIPAL_TOOLS', flag: '--principal-tools', default: '(every principal may use every tool)', description: 'Limits principals to some tools: `bob=exec_python;carol=exec_python+exec_shell`. Others are hidden from their GET /tools and answer 403 TOOL_FORBIDDEN.' },
  { env: 'MINI_AGENT_METRICS_TOKEN', flag: '--metrics-token', default: '(none: /metrics takes the tool routes\' auth)', description: 'Bearer token for GET /metrics alone (for a Prometheus scraper); when set, only it opens /metrics.' },
  { env: 'MINI_AGENT_ALLOWED_ORIGINS', flag: '--allowed-origins', default: '(none: only http(s) origins on loopback hosts)', description: 'Browser origins (`https://app.example.com`, comma-separated) allowed to call /mcp; any other Origin header is refused 403 (DNS-rebinding guard).' },
  { env: 'PPLX_API_KEY', flag: '--pplx-api-key', default: '(none: no research_perplexity)', description: 'Perplexity API key; registers research_perplexity. Sent only to PPLX_API_BASE, never logged (prefer the variable: flags show in ps).' },
  { env: 'PPLX_API_BASE', flag: '--pplx-api-base', default: DEFAULT_PPLX_API_BASE, description: 'Base URL of the Perplexity API (POST {base}/chat/completions).' },
  { env: 'PPLX_MODEL', flag: '--pplx-model', default: DEFAULT_PPLX_MODEL, description: 'Sonar model research_perplexity asks (sonar, sonar-pro, sonar-reasoning-pro…).' },
  { env: 'C7_API_KEY', flag: '--c7-api-key', default: '(none)', description: 'Context7 API key; it or C7_API_BASE registers research_context7_docs. Never logged.' },
  { env: 'C7_API_BASE', flag: '--c7-api-base', default: DEFAULT_C7_API_BASE, description: 'Base URL of the Context7 API (GET {base}/api/v2/libs/search and /api/v2/context); setting it registers research_context7_docs.' },
  { env: 'MINI_AGENT_RESEARCH_TIMEOUT_S', flag: '--research-timeout-s', default: String(DEFAULT_RESEARCH_TIMEOUT_S), description: 'Deadline of one research call, retries on 429/5xx included.' },
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

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses `principal=tool+tool;principal=tool` into principal → allowed tools. */
export function parsePrincipalTools(text: string, env: string): Map<string, ReadonlySet<string>> {
  const result = new Map<string, ReadonlySet<string>>();
  for (const rawEntry of text.split(/[;\n]/)) {
    const entry = rawEntry.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const principal = entry.slice(0, eq).trim();
    const tools = entry.slice(eq + 1).split('+').map((t) => t.trim()).filter((t) => t !== '');
    if (eq <= 0 || !PRINCIPAL.test(principal) || !tools.every((t) => TOOL_NAME.test(t))) {
      fail(env, '`principal=tool+tool` entries separated by `;`', entry);
    }
    if (result.has(principal)) fail(env, 'each principal once', `${principal} twice`);
    result.set(principal, new Set(tools));
  }
  return result;
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

  const maxConcurrency = number(input, 'MINI_AGENT_MAX_CONCURRENCY', DEFAULT_MAX_CONCURRENCY, { integer: true, min: 1, max: 4096 });
  // With one principal a share would only idle CPUs; with several, none may take every slot.
  const principals = new Set(tokens.values());
  const perPrincipalDefault = principals.size >= 2 ? Math.ceil(maxConcurrency / 2) : maxConcurrency;
  const principalTools = parsePrincipalTools(input.MINI_AGENT_PRINCIPAL_TOOLS ?? '', 'MINI_AGENT_PRINCIPAL_TOOLS');
  for (const principal of principalTools.keys()) {
    const known = tokens.size === 0 ? principal === 'anonymous' : principals.has(principal);
    if (!known) fail('MINI_AGENT_PRINCIPAL_TOOLS', 'principals named by the tokens', principal);
  }
  const metricsToken = input.MINI_AGENT_METRICS_TOKEN?.trim() || undefined;
  if (metricsToken !== undefined && (metricsToken.length < 16 || /\s/.test(metricsToken))) {
    fail('MINI_AGENT_METRICS_TOKEN', 'a token of at least 16 characters without spaces', `${metricsToken.length} characters`);
  }

  const research = resolveResearch(input);
  const allowedOrigins = list(input.MINI_AGENT_ALLOWED_ORIGINS).map((o) => origin('MINI_AGENT_ALLOWED_ORIGINS', o));

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
    maxConcurrency,
    maxConcurrencyPerPrincipal: number(input, 'MINI_AGENT_MAX_CONCURRENCY_PER_PRINCIPAL', perPrincipalDefault, { integer: true, min: 1, max: maxConcurrency }),
    maxQueue: number(input, 'MINI_AGENT_MAX_QUEUE', DEFAULT_MAX_QUEUE, { integer: true, min: 0, max: 100_000 }),
    queueTimeoutS: number(input, 'MINI_AGENT_QUEUE_TIMEOUT_S', DEFAULT_QUEUE_TIMEOUT_S, { min: 0.1, max: 3600 }),
    rateLimitPerMinute: number(input, 'MINI_AGENT_RATE_LIMIT', DEFAULT_RATE_LIMIT_PER_MINUTE, { integer: true, min: 0, max: 1_000_000 }),
    principalTools,
    metricsToken,
    research,
    allowedOrigins,
    ...resolveSandbox(input, host),
  };
}

const SANDBOX_CHOICES: readonly SandboxChoice[] = ['auto', 'bwrap', 'none'];

function resolveSandbox(
  input: ConfigInput,
  host: string,
): Pick<GatewayConfig, 'sandbox' | 'allowUnsandboxed' | 'limits' | 'sessionTtlS' | 'maxSessionsPerPrincipal'> {
  const sandbox = (input.MINI_AGENT_SANDBOX?.trim() || DEFAULT_SANDBOX) as SandboxChoice;
  if (!SANDBOX_CHOICES.includes(sandbox)) fail('MINI_AGENT_SANDBOX', `one of ${SANDBOX_CHOICES.join(', ')}`, sandbox);
  const flag = input.MINI_AGENT_ALLOW_UNSANDBOXED?.trim() || '0';
  if (flag !== '0' && flag !== '1') fail('MINI_AGENT_ALLOW_UNSANDBOXED', '0 or 1', flag);
  const allowUnsandboxed = flag === '1';
  // `auto` falling back to none is caught when the app is built; an explicit none is caught here.
  if (sandbox === 'none' && !allowUnsandboxed && !isLoopbackHost(host)) throw new TypeError(unsandboxedRefusal(host));
  const int = (env: string, fallback: number, min: number) => number(input, env, fallback, { integer: true, min, max: 2 ** 50 });
  return {
    sandbox,
    allowUnsandboxed,
    limits: {
      cpuSeconds: int('MINI_AGENT_CPU_S', DEFAULT_LIMITS.cpuSeconds, 1),
      memoryBytes: int('MINI_AGENT_MEMORY_BYTES', DEFAULT_LIMITS.memoryBytes, 16 * 1024 * 1024),
      maxProcesses: int('MINI_AGENT_MAX_PROCS', DEFAULT_LIMITS.maxProcesses, 4),
      fileSizeBytes: int('MINI_AGENT_FILE_SIZE_BYTES', DEFAULT_LIMITS.fileSizeBytes, 1024),
      openFiles: int('MINI_AGENT_OPEN_FILES', DEFAULT_LIMITS.openFiles, 16),
      diskBytes: int('MINI_AGENT_DISK_BYTES', DEFAULT_LIMITS.diskBytes, 64 * 1024),
      maxFiles: number(input, 'MINI_AGENT_MAX_FILES', DEFAULT_LIMITS.maxFiles, { integer: true, min: 16, max: 10_000_000 }),
      tmpBytes: int('MINI_AGENT_TMP_BYTES', DEFAULT_LIMITS.tmpBytes, 64 * 1024),
    },
    sessionTtlS: number(input, 'MINI_AGENT_SESSION_TTL_S', DEFAULT_SESSION_TTL_S, { min: 1, max: 30 * 24 * 3600 }),
    maxSessionsPerPrincipal: number(input, 'MINI_AGENT_MAX_SESSIONS_PER_PRINCIPAL', DEFAULT_MAX_SESSIONS_PER_PRINCIPAL, { integer: true, min: 1, max: 100_000 }),
  };
}

/** Why an unisolated gateway may not serve `host`, and the ways out. */
export function unsandboxedRefusal(host: string): string {
  return (
    `Refusing to serve ${host} without a sandbox: tool code would run unisolated for anyone who can reach it. ` +
    'Install bubblewrap and set MINI_AGENT_SANDBOX=bwrap (or auto), bind a loopback address, ' +
    'or set MINI_AGENT_ALLOW_UNSANDBOXED=1 if the host is isolated otherwise'
  );
}

function list(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** An http(s) URL without credentials, query or fragment, returned as given minus trailing slashes. */
function baseUrl(env: string, raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    fail(env, 'an http(s) URL without credentials, query or fragment', raw);
  }
  return raw.replace(/\/+$/, '');
}

/** A browser origin: scheme, host and optional port, nothing else. */
function origin(env: string, raw: string): string {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.origin !== raw.replace(/\/+$/, '').toLowerCase()) {
    fail(env, 'comma-separated origins such as https://app.example.com', raw);
  }
  return url.origin;
}

function apiKey(input: ConfigInput, env: string): string | undefined {
  const key = input[env]?.trim();
  if (key === undefined || key === '') return undefined;
  // The key itself is never echoed back, not even in an error.
  if (/\s/.test(key) || key.length > 1024) fail(env, 'a key without spaces of at most 1024 characters', `${key.length} characters`);
  return key;
}

/** Research tools exist only when configured: Perplexity with a key, Context7 with a key or a base. */
function resolveResearch(input: ConfigInput): ResearchOptions {
  const research: ResearchOptions = {
    timeoutS: number(input, 'MINI_AGENT_RESEARCH_TIMEOUT_S', DEFAULT_RESEARCH_TIMEOUT_S, { min: 1, max: 600 }),
  };
  const pplxKey = apiKey(input, 'PPLX_API_KEY');
  const pplxBase = input.PPLX_API_BASE?.trim() ? baseUrl('PPLX_API_BASE', input.PPLX_API_BASE.trim()) : undefined;
  const model = input.PPLX_MODEL?.trim() || undefined;
  if (model !== undefined && !/^[A-Za-z0-9._:/-]{1,100}$/.test(model)) fail('PPLX_MODEL', 'a model name such as sonar', model);
  if (pplxKey !== undefined) {
    research.perplexity = { apiKey: pplxKey, baseUrl: pplxBase ?? DEFAULT_PPLX_API_BASE, model: model ?? DEFAULT_PPLX_MODEL };
  }
  const c7Key = apiKey(input, 'C7_API_KEY');
  const c7Base = input.C7_API_BASE?.trim() ? baseUrl('C7_API_BASE', input.C7_API_BASE.trim()) : undefined;
  if (c7Key !== undefined || c7Base !== undefined) {
    research.context7 = { baseUrl: c7Base ?? DEFAULT_C7_API_BASE };
    if (c7Key !== undefined) research.context7.apiKey = c7Key;
  }
  return research;
}
