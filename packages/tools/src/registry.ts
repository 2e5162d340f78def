import type { FunctionTool, InvokeResult } from '@mini-agent/protocol';
import { Compile, type Validator } from 'typebox/compile';
import type { TSchema } from 'typebox';
import { ToolError } from './errors.js';
import type { ToolCallContext, ToolDefinition } from './tool.js';

interface Entry {
  definition: ToolDefinition<never>;
  validator: Validator;
  tool: FunctionTool;
}

/** The tools a process serves: their OpenAI descriptions, argument validation, and dispatch. */
export class ToolRegistry {
  readonly #entries = new Map<string, Entry>();

  constructor(definitions: readonly ToolDefinition<never>[]) {
    for (const definition of [...definitions].sort((a, b) => a.name.localeCompare(b.name))) {
      if (this.#entries.has(definition.name)) throw new TypeError(`Duplicate tool name \`${definition.name}\``);
      this.#entries.set(definition.name, {
        definition,
        validator: Compile(definition.parameters as TSchema) as Validator,
        tool: {
          type: 'function',
          function: {
            name: definition.name,
            description: definition.description,
            // A plain JSON copy: TypeBox's symbol-keyed metadata must not reach a model API.
            parameters: JSON.parse(JSON.stringify(definition.parameters)) as Record<string, unknown>,
          },
        },
      });
    }
  }

  /** Tool names, sorted. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** OpenAI function tools sorted by name, optionally only those `allow` accepts. */
  list(allow?: (name: string) => boolean): FunctionTool[] {
    return [...this.#entries.values()].filter((e) => allow?.(e.definition.name) ?? true).map((e) => e.tool);
  }

  /**
   * Validates `rawArgs` (a JSON string, an object, or absent) against the tool's schema and runs it.
   * @throws ToolError TOOL_NOT_FOUND or INVALID_ARGUMENTS before anything runs.
   */
  async invoke(name: string, rawArgs: unknown, ctx: ToolCallContext): Promise<InvokeResult> {
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      throw new ToolError('TOOL_NOT_FOUND', `tool \`${name}\` not found; available tools: ${this.names().join(', ')}`);
    }
    const args = parseArguments(rawArgs);
    if (!entry.validator.Check(args)) {
      throw new ToolError('INVALID_ARGUMENTS', describeFirstError(entry.validator, args));
    }
    return entry.definition.run(args as never, ctx);
  }
}

/** `arguments` as an OpenAI tool_call carries it (a JSON string) or as an object; absent or blank is `{}`. */
export function parseArguments(raw: unknown): Record<string, unknown> {
  let value = raw;
  if (raw === undefined || raw === null) return {};
  if (typeof raw === 'string') {
    if (raw.trim() === '') return {};
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new ToolError('INVALID_ARGUMENTS', `arguments: not valid JSON (${(err as Error).message})`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ToolError('INVALID_ARGUMENTS', 'arguments: must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function describeFirstError(validator: Validator, value: unknown): string {
  const errors = [...validator.Errors(value)];
  // TypeBox reports a refused extra property twice; the additionalProperties entry names it.
  const error = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
  if (error === undefined) return 'arguments: invalid';
  const path = `arguments${error.instancePath.replaceAll('/', '.')}`;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && Array.isArray(params.requiredProperties)) {
    return `${path}: missing required field \`${String(params.requiredProperties[0])}\``;
  }
  if (error.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)) {
    return `${path}: unknown field \`${String(params.additionalProperties[0])}\``;
  }
  return `${path}: ${error.message}`;
}
