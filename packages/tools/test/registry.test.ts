import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { ToolError } from '../src/errors.js';
import { parseArguments, ToolRegistry } from '../src/registry.js';

const echoTool = {
  name: 'echo_args',
  description: 'echoes',
  parameters: Type.Object({ a: Type.String(), n: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
  run: async (args: { a: string }) => ({ text: args.a, data: { ...args } }),
};

async function refusal(p: Promise<unknown>): Promise<ToolError> {
  try {
    await p;
  } catch (err) {
    return err as ToolError;
  }
  throw new Error('expected a refusal');
}

describe('parseArguments', () => {
  it('takes a JSON string, an object, or nothing', () => {
    expect(parseArguments('{"a":"x"}')).toEqual({ a: 'x' });
    expect(parseArguments({ a: 'x' })).toEqual({ a: 'x' });
    expect(parseArguments(undefined)).toEqual({});
    expect(parseArguments('  ')).toEqual({});
  });

  it('refuses malformed JSON and non-objects', () => {
    expect(() => parseArguments('{"a":')).toThrow(/not valid JSON/);
    expect(() => parseArguments('[1]')).toThrow(/must be a JSON object/);
    expect(() => parseArguments('3')).toThrow(/must be a JSON object/);
  });
});

describe('ToolRegistry', () => {
  const registry = new ToolRegistry([echoTool as never]);

  it('lists OpenAI function tools with plain JSON Schema', () => {
    const [tool] = registry.list();
    expect(tool).toEqual({
      type: 'function',
      function: {
        name: 'echo_args',
        description: 'echoes',
        parameters: {
          type: 'object',
          required: ['a'],
          properties: { a: { type: 'string' }, n: { type: 'integer' } },
          additionalProperties: false,
        },
      },
    });
  });

  it('names the failing field', async () => {
    expect((await refusal(registry.invoke('echo_args', { a: 1 }, { principal: 'p' }))).message).toBe(
      'arguments.a: must be string',
    );
    expect((await refusal(registry.invoke('echo_args', {}, { principal: 'p' }))).message).toBe(
      'arguments: missing required field `a`',
    );
    const extra = await refusal(registry.invoke('echo_args', { a: 'x', b: 1 }, { principal: 'p' }));
    expect(extra.code).toBe('INVALID_ARGUMENTS');
    expect(extra.message).toBe('arguments: unknown field `b`');
  });

  it('refuses an unknown tool listing the known ones', async () => {
    const err = await refusal(registry.invoke('nope', {}, { principal: 'p' }));
    expect(err.code).toBe('TOOL_NOT_FOUND');
    expect(err.statusCode).toBe(404);
    expect(err.message).toContain('echo_args');
  });

  it('runs a valid call', async () => {
    expect(await registry.invoke('echo_args', '{"a":"hi","n":2}', { principal: 'p' })).toEqual({
      text: 'hi',
      data: { a: 'hi', n: 2 },
    });
  });
});
