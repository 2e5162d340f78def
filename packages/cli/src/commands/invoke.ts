import { text } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import type { InvokeResult } from '@mini-agent/client';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, clientFrom, EXIT, reportError, UsageError } from './tools.js';

const HELP = `Usage: mini-agent invoke <tool> ['<json arguments>' | -] [options]

Runs one tool on the gateway. Arguments are a JSON object ('-' reads it from stdin).
Exit status: 0 the run succeeded, 3 it ran and failed (non-zero exit, timeout, output cut),
1 the gateway refused the call or could not be reached (its code is printed), 2 bad usage.

  --session <id>       run in this session's persistent workspace (X-Session-Id). Default: a fresh one
${CLIENT_OPTIONS_HELP}`;

/** `mini-agent invoke <tool> '<json args>'`: the result as people read it, or `{text, data}` with `--json`. */
export async function invokeCommand(argv: string[]): Promise<void> {
  let json = argv.includes('--json');
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...CLIENT_OPTIONS, session: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
    json = values.json === true;
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    const [name, rawArgs, ...extra] = positionals;
    if (name === undefined) throw new UsageError(`missing the tool name\n\n${HELP}`);
    if (extra.length > 0) throw new UsageError(`unexpected argument \`${extra[0]}\`: quote the JSON arguments as one word`);
    const args = rawArgs === '-' ? await text(process.stdin) : rawArgs;
    const client = clientFrom(values, process.env);
    // The arguments go as the string they are: the gateway validates them and names what is wrong.
    const result = await client.invoke(name, args, { sessionId: values.session });
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else printResult(result);
    process.exitCode = result.data.ok === false ? EXIT.runFailed : EXIT.ok;
  } catch (err) {
    process.exitCode = reportError(err, json);
  }
}

/** An exec result as a terminal would show the command's own output, with a one-line summary on stderr. */
function printResult(result: InvokeResult): void {
  const data = result.data as { stdout?: unknown; stderr?: unknown; rc?: unknown; signal?: unknown; duration_ms?: unknown; timed_out?: unknown; truncated?: unknown };
  if (typeof data.stdout !== 'string' || typeof data.stderr !== 'string') {
    process.stdout.write(`${result.text}\n`);
    return;
  }
  process.stdout.write(data.stdout);
  process.stderr.write(data.stderr);
  const notes = [
    data.rc === null ? `killed by ${String(data.signal)}` : `exit ${String(data.rc)}`,
    `${String(data.duration_ms)} ms`,
    ...(data.timed_out === true ? ['timed out'] : []),
    ...(data.truncated === true ? ['output truncated'] : []),
  ];
  process.stderr.write(`[${notes.join(', ')}]\n`);
}
