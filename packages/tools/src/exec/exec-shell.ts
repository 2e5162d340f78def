import { Type, type Static } from 'typebox';
import type { CommandAllowlist } from '../allowlist.js';
import { ToolError } from '../errors.js';
import { splitShellWords } from '../shell-words.js';
import type { ToolDefinition } from '../tool.js';
import { runExec, type ExecEnvironment } from './run-exec.js';

const MAX_CMD_BYTES = 64 * 1024;

export const ExecShellArgs = Type.Object(
  {
    cmd: Type.String({ description: 'Command line: split into words like a shell, but run without a shell.', minLength: 1 }),
    timeout_s: Type.Optional(
      Type.Number({ description: 'Wall-clock limit in seconds (capped by the server maximum).', exclusiveMinimum: 0 }),
    ),
    stdin: Type.Optional(Type.String({ description: 'Text given to the command on standard input.' })),
  },
  { additionalProperties: false },
);
export type ExecShellArgs = Static<typeof ExecShellArgs>;

export function execShellTool(env: ExecEnvironment, allowlist: CommandAllowlist): ToolDefinition<ExecShellArgs> {
  return {
    name: 'exec_shell',
    description:
      'Run one allowlisted command in an isolated sandbox. The command line is split into words like a shell ' +
      'would, but no shell runs: pipes, redirections, `;`, `&&` and `$(...)` are plain text. ' +
      `Allowed commands: ${allowlist.names.join(', ')}.`,
    parameters: ExecShellArgs,
    run(args, ctx) {
      if (Buffer.byteLength(args.cmd) > MAX_CMD_BYTES) {
        throw new ToolError('INVALID_ARGUMENTS', `arguments.cmd: must be at most ${MAX_CMD_BYTES} bytes`);
      }
      let argv: string[];
      try {
        argv = splitShellWords(args.cmd);
      } catch (err) {
        throw new ToolError('INVALID_ARGUMENTS', `arguments.cmd: ${(err as Error).message}`);
      }
      const [argv0, ...rest] = argv;
      if (argv0 === undefined) throw new ToolError('INVALID_ARGUMENTS', 'arguments.cmd: holds no command');
      return runExec(env, { argv: [allowlist.resolve(argv0), ...rest], stdin: args.stdin, timeoutS: args.timeout_s }, ctx);
    },
  };
}
