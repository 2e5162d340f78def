import { Type, type Static } from 'typebox';
import { ToolError } from '../errors.js';
import type { ToolDefinition } from '../tool.js';
import { runExec, type ExecEnvironment } from './run-exec.js';

// Code travels as one argv entry; Linux caps a single argument at 128 KiB (MAX_ARG_STRLEN).
const MAX_CODE_BYTES = 120 * 1024;

export const ExecPythonArgs = Type.Object(
  {
    code: Type.String({ description: 'Python 3 source to run as a script.', minLength: 1 }),
    timeout_s: Type.Optional(
      Type.Number({ description: 'Wall-clock limit in seconds (capped by the server maximum).', exclusiveMinimum: 0 }),
    ),
    stdin: Type.Optional(Type.String({ description: 'Text given to the program on standard input.' })),
  },
  { additionalProperties: false },
);
export type ExecPythonArgs = Static<typeof ExecPythonArgs>;

export function execPythonTool(env: ExecEnvironment, pythonExecutable: string): ToolDefinition<ExecPythonArgs> {
  return {
    name: 'exec_python',
    description:
      'Run Python 3 code in an isolated sandbox (no network, a private working directory). ' +
      'Returns JSON with ok, rc, stdout and stderr. Print what you need to see.',
    parameters: ExecPythonArgs,
    run(args, ctx) {
      if (Buffer.byteLength(args.code) > MAX_CODE_BYTES) {
        throw new ToolError('INVALID_ARGUMENTS', `arguments.code: must be at most ${MAX_CODE_BYTES} bytes`);
      }
      return runExec(
        env,
        { argv: [pythonExecutable, '-E', '-s', '-u', '-c', args.code], stdin: args.stdin, timeoutS: args.timeout_s },
        ctx,
      );
    },
  };
}
