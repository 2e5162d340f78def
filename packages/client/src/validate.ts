import { Compile, type Validator } from 'typebox/compile';
import type { TSchema } from 'typebox';

/** Schema checks of what a gateway answers, each describing the first problem by its JSON path. */
export class AnswerSchema<T> {
  readonly #validator: Validator;

  constructor(schema: TSchema) {
    this.#validator = Compile(schema) as Validator;
  }

  /** Undefined when `value` conforms; otherwise what is wrong, e.g. `body.data: must be object`. */
  problem(value: unknown): string | undefined {
    if (this.#validator.Check(value)) return undefined;
    const errors = [...this.#validator.Errors(value)];
    // TypeBox reports a refused extra property twice; the additionalProperties entry names it.
    const error = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
    if (error === undefined) return 'body: does not match the schema';
    const path = `body${error.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('')}`;
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)) {
      return `${path}: unexpected field \`${String(params.additionalProperties[0])}\``;
    }
    if (error.keyword === 'required' && Array.isArray(params.requiredProperties)) {
      return `${path}: missing field \`${String(params.requiredProperties[0])}\``;
    }
    return `${path}: ${error.message}`;
  }

  is(value: unknown): value is T {
    return this.#validator.Check(value);
  }
}
