import { parseArgs } from 'node:util';
import { runAgent, type AgentEvent, type AgentResult } from '@mini-agent/agent';
import type { ToolInvoker } from '@mini-agent/protocol';
import { LocalToolsInvoker } from '@mini-agent/tools';
import { CLIENT_OPTIONS, clientFrom, EXIT, reportError, UsageError } from './tools.js';

/** Where the model lives when `OPENAI_BASE_URL` is unset. */
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
/** What the model is told before the task. */
export const DEFAULT_SYSTEM_PROMPT =
  'You solve the task with the tools you have: run code to compute or check what you need instead of guessing. ' +
  'When a tool call fails, read the error and fix the approach. When you are done, answer briefly with the result.';

const HELP = `Usage: mini-agent run "<task>" --model <name> [options]

Runs the agent loop on a task with the tools of a gateway (or local ones with --local) and any
OpenAI-compatible chat API: OpenAI, a LiteLLM proxy, vLLM, Ollama.
Environment: OPENAI_API_KEY (required unless the server needs none), OPENAI_BASE_URL (default
${DEFAULT_OPENAI_BASE_URL}).
Exit status: 0 the model answered, 3 the run stopped otherwise (max_iterations, budget,
stagnation, cancelled, or error: the model API or the gateway failed), 2 bad usage.
Ctrl-C cancels the run; its result is still printed.

  --model <name>            model name sent to the API (required)
  --max-iterations <n>      model turns at most. Default: 8
  --max-wallclock-ms <ms>   deadline of the whole run. Default: 60000
  --system <text>           system prompt. Default: a short tool-use prompt
  --transcript <file>       write every event as JSON lines (replayable offline)
  --local                   run the tools in this process (LocalToolsInvoker) instead of a gateway
  --gateway <url>           tools gateway URL (env MINI_AGENT_GATEWAY). Default: http://127.0.0.1:8787
  --token <token>           gateway bearer token (env MINI_AGENT_TOKEN). Default: none
  --timeout-ms <ms>         per gateway request. Default: 120000
  --json                    print only the AgentResult as JSON on stdout
  -h, --help`;

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`Expected \`${flag}\` to be a positive integer, got \`${value}\``);
  return n;
}

function preview(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** One line per step, as it happens: the call, a preview of its result, the guard that tripped. */
export function describeEvent(e: AgentEvent): string | undefined {
  switch (e.type) {
    case 'llm_response':
      return `[${e.iteration}] model: ${e.finishReason}, ${e.usage.totalTokens} tokens, ${e.latencyMs} ms`;
    case 'llm_retry':
      return `[${e.iteration}] model call failed (${e.status ?? 'connection'}): retrying in ${e.delayMs} ms`;
    case 'tool_start':
      return `[${e.iteration}] → ${e.name} ${preview(e.arguments)}`;
    case 'tool_end':
      if (!e.invoked && e.skipped !== undefined) return `[${e.iteration}] ✗ ${e.name} skipped (${e.skipped})`;
      return `[${e.iteration}] ${e.ok ? '←' : '✗'} ${e.name} ${preview(e.content)} (${e.durationMs} ms)`;
    case 'guard_tripped':
      return `[${e.iteration}] guard ${e.guard}: ${e.action} — ${e.detail}`;
    case 'repair_injected':
      return `[${e.iteration}] ${e.kind} directive sent`;
    case 'context_pruned':
      return `[${e.iteration}] context pruned: ${e.removedMessages} messages, ${e.beforeChars} → ${e.afterChars} chars`;
    default:
      return undefined;
  }
}

/** `mini-agent run "<task>"`: the agent loop against a gateway (or local tools) and a chat API. */
export async function runCommand(argv: string[]): Promise<void> {
  let json = argv.includes('--json');
  let local: LocalToolsInvoker | undefined;
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  // runAgent throws TypeError only for options it refuses, before the run starts; a TypeError
  // after that is a failure, never bad usage.
  let runStarted = false;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        ...CLIENT_OPTIONS,
        model: { type: 'string' },
        'max-iterations': { type: 'string' },
        'max-wallclock-ms': { type: 'string' },
        system: { type: 'string' },
        transcript: { type: 'string' },
        local: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    });
    json = values.json === true;
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    const [task, ...extra] = positionals;
    if (task === undefined || task.trim() === '') throw new UsageError(`missing the task\n\n${HELP}`);
    if (extra.length > 0) throw new UsageError(`unexpected argument \`${extra[0]}\`: quote the task as one word`);
    if (values.model === undefined || values.model.trim() === '') throw new UsageError('missing `--model <name>`');
    if (values.local && values.gateway !== undefined) throw new UsageError('use either `--local` or `--gateway`, not both');
    const maxIterations = positiveInt('--max-iterations', values['max-iterations']);
    const maxWallclockMs = positiveInt('--max-wallclock-ms', values['max-wallclock-ms']);

    let tools: ToolInvoker;
    if (values.local) {
      local = new LocalToolsInvoker({ sandbox: 'auto' });
      tools = local;
    } else {
      tools = clientFrom(values, process.env);
    }
    const baseURL = process.env.OPENAI_BASE_URL?.trim() || DEFAULT_OPENAI_BASE_URL;
    // Local servers (vLLM, Ollama) take any key; the SDK insists on one.
    const apiKey = process.env.OPENAI_API_KEY?.trim() || 'none';

    process.once('SIGINT', onSigint);
    const result: AgentResult = await runAgent(
      [{ role: 'system', content: values.system ?? DEFAULT_SYSTEM_PROMPT }, { role: 'user', content: task }],
      {
        llm: { baseURL, apiKey },
        model: values.model,
        tools,
        signal: controller.signal,
        ...(maxIterations === undefined ? {} : { maxIterations }),
        ...(maxWallclockMs === undefined ? {} : { maxWallclockMs }),
        ...(values.transcript === undefined ? {} : { transcript: values.transcript }),
        onEvent: (e: AgentEvent) => {
          if (e.type === 'run_start') runStarted = true;
          if (json) return;
          const line = describeEvent(e);
          if (line !== undefined) process.stderr.write(`${line}\n`);
        },
      },
    );
    if (json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      if (result.finalAnswer !== null) process.stdout.write(`${result.finalAnswer}\n`);
      const why = result.error === undefined ? '' : `: ${result.error}`;
      process.stderr.write(
        `[${result.stoppedReason}${why}; ${result.iterations} iterations, ${result.usage.totalTokens} tokens, ${(result.durationMs / 1000).toFixed(1)} s]\n`,
      );
    }
    process.exitCode = result.stoppedReason === 'success' ? EXIT.ok : EXIT.runFailed;
  } catch (err) {
    if (err instanceof TypeError && !(err instanceof UsageError) && !runStarted) {
      process.stderr.write(`mini-agent: ${err.message}\n`);
      process.exitCode = EXIT.usage;
    } else {
      process.exitCode = reportError(err, json);
    }
  } finally {
    process.off('SIGINT', onSigint);
    await local?.close();
  }
}
