import { Type, type Static } from 'typebox';

/** Tool names: what OpenAI accepts for a function name. */
export const ToolName = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', minLength: 1, maxLength: 64 });

/** One OpenAI function tool, exactly the element `chat.completions` takes in `tools`. */
export const FunctionTool = Type.Object(
  {
    type: Type.Literal('function'),
    function: Type.Object(
      {
        name: Type.String(),
        description: Type.String(),
        parameters: Type.Record(Type.String(), Type.Unknown()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type FunctionTool = Static<typeof FunctionTool>;

/** `GET /tools` → a bare JSON array of function tools, sorted by name. */
export const ToolList = Type.Array(FunctionTool);
export type ToolList = Static<typeof ToolList>;

/**
 * `POST /invoke` body. `arguments` is what an OpenAI `tool_call` carries (a JSON string) or an
 * already-parsed object; absent means `{}`.
 */
export const InvokeRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    arguments: Type.Optional(
      Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())]),
    ),
  },
  { additionalProperties: false },
);
export type InvokeRequest = Static<typeof InvokeRequest>;

/** `POST /invoke` → 200. `text` is what a model reads, `data` the structured result. */
export const InvokeResult = Type.Object(
  {
    text: Type.String(),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type InvokeResult = Static<typeof InvokeResult>;

/** The `data` of an exec tool's result. A run that started and failed is `ok: false`, not an HTTP error. */
export const ExecResult = Type.Object(
  {
    ok: Type.Boolean(),
    rc: Type.Union([Type.Integer(), Type.Null()]),
    signal: Type.Union([Type.String(), Type.Null()]),
    stdout: Type.String(),
    stderr: Type.String(),
    timed_out: Type.Boolean(),
    truncated: Type.Boolean(),
    duration_ms: Type.Number(),
  },
  { additionalProperties: false },
);
export type ExecResult = Static<typeof ExecResult>;

/** Tools whose `data` is an {@link ExecResult}. */
export const EXEC_TOOLS: ReadonlySet<string> = new Set(['exec_python', 'exec_shell']);

/** `POST /invoke` → 200 for an exec tool: the `data` is an {@link ExecResult}. */
export const ExecInvokeResult = Type.Object({ text: Type.String(), data: ExecResult }, { additionalProperties: false });
export type ExecInvokeResult = Static<typeof ExecInvokeResult>;

/** Every HTTP error of the gateway: Fastify's error body with a stable `code`. */
export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** Session ids accepted in `X-Session-Id`. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
