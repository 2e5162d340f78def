#!/usr/bin/env node
import { gatewayCommand } from './commands/gateway.js';
import { invokeCommand } from './commands/invoke.js';
import { runCommand } from './commands/run.js';
import { toolsCommand } from './commands/tools.js';

const USAGE = `Usage: mini-agent <command> [options]

Commands:
  gateway   start the tools gateway (GET /tools, POST /invoke)
  tools     list the tools a gateway offers
  invoke    run one tool on a gateway: mini-agent invoke exec_python '{"code":"print(1)"}'
  run       run the agent on a task: mini-agent run "<task>" --model <name> [--gateway URL | --local]

Run \`mini-agent <command> --help\` for a command's options.`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  gateway: gatewayCommand,
  tools: toolsCommand,
  invoke: invokeCommand,
  run: runCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`mini-agent: unknown command \`${name}\`\n\n${USAGE}\n`);
    return 2;
  }
  await command(rest);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    // Configuration errors are the user's to fix: say what, not where in our code.
    const message = err instanceof TypeError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
      ? (err as Error).message
      : String((err as Error).stack ?? err);
    process.stderr.write(`mini-agent: ${message}\n`);
    process.exitCode = 1;
  },
);
