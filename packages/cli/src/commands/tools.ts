import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HttpToolsInvoker, ToolsHttpError, type FunctionTool } from '@mini-agent/client';

/** Where `tools` and `invoke` look for the gateway when neither `--gateway` nor `MINI_AGENT_GATEWAY` says. */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8787';

/** Exit statuses of `tools` and `invoke`, so scripts can tell a refused call from a failed run. */
export const EXIT = { ok: 0, error: 1, usage: 2, runFailed: 3 } as const;

/** The options `tools` and `invoke` share. */
export const CLIENT_OPTIONS = {
  gateway: { type: 'string' },
  token: { type: 'string' },
  'timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const CLIENT_OPTIONS_HELP = `  --gateway <url>      gateway URL (env MINI_AGENT_GATEWAY). Default: ${DEFAULT_GATEWAY_URL}
  --token <token>      bearer token (env MINI_AGENT_TOKEN). Default: none
  --timeout-ms <ms>    give up after this long, retries included. Default: 120000
  --json               machine-readable output on stdout (errors too, as {"error": …})
  -h, --help`;

/** Raised for a command line we cannot use; exits with {@link EXIT.usage}. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The client the flags and environment describe; flags win over variables. */
export function clientFrom(values: { gateway?: string; token?: string; 'timeout-ms'?: string }, env: NodeJS.ProcessEnv): HttpToolsInvoker {
  const url = values.gateway ?? (env.MINI_AGENT_GATEWAY?.trim() || DEFAULT_GATEWAY_URL);
  const token = values.token ?? (env.MINI_AGENT_TOKEN?.trim() || undefined);
  let timeoutMs: number | undefined;
  if (values['timeout-ms'] !== undefined) {
    timeoutMs = Number(values['timeout-ms']);
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw new UsageError(`Expected \`--timeout-ms\` to be a positive integer, got \`${values['timeout-ms']}\``);
    }
  }
  try {
    return new HttpToolsInvoker(url, { token, timeoutMs });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Reports a failure the way scripts and people each want it, and returns the exit status:
 * the gateway's code and message on stderr; with `--json`, also `{"error": …}` on stdout.
 */
export function reportError(err: unknown, json: boolean): number {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`mini-agent: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  if (!(err instanceof ToolsHttpError)) throw err;
  const status = err.statusCode === undefined ? '' : ` (HTTP ${err.statusCode})`;
  process.stderr.write(`mini-agent: ${err.code}${status}: ${err.message}\n`);
  if (json) {
    const error = { code: err.code, statusCode: err.statusCode ?? null, message: err.message, url: err.url, retryable: err.isRetryable };
    process.stdout.write(`${JSON.stringify({ error })}\n`);
  }
  return EXIT.error;
}

const HELP = `Usage: mini-agent tools [options]

Lists the tools the gateway offers this caller (OpenAI function tools).

${CLIENT_OPTIONS_HELP}`;

/** `mini-agent tools`: the gateway's tools, as a table for people or the raw array with `--json`. */
export async function toolsCommand(argv: string[]): Promise<void> {
  let json = argv.includes('--json');
  try {
    const { values } = parseArgs({ args: argv, options: CLIENT_OPTIONS, strict: true, allowPositionals: false });
    json = values.json === true;
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    const tools = await clientFrom(values, process.env).listTools();
    process.stdout.write(json ? `${JSON.stringify(tools, null, 2)}\n` : describeTools(tools));
  } catch (err) {
    process.exitCode = reportError(err, json);
  }
}

/** One block per tool: its name, its description, and its arguments (required ones marked). */
export function describeTools(tools: FunctionTool[]): string {
  if (tools.length === 0) return 'No tools are available to this caller.\n';
  return tools
    .map(({ function: fn }) => {
      const schema = fn.parameters as { properties?: Record<string, { type?: unknown; description?: unknown }>; required?: unknown };
      const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
      const args = Object.entries(schema.properties ?? {}).map(([name, prop]) => {
        const type = typeof prop.type === 'string' ? prop.type : 'any';
        const note = typeof prop.description === 'string' ? `  ${prop.description}` : '';
        return `    ${name}${required.has(name) ? '' : '?'}: ${type}${note}`;
      });
      return [fn.name, `  ${fn.description}`, ...(args.length > 0 ? ['  arguments:', ...args] : [])].join('\n');
    })
    .join('\n\n')
    .concat('\n');
}
