/**
 * JSON with object keys sorted at every depth, so `{"b":1,"a":2}` and `{"a":2, "b":1}` are the
 * same call. A string that is itself JSON (an OpenAI `arguments` field) is parsed first; one that
 * is not stays a plain string.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') {
    try {
      return stringify(JSON.parse(value));
    } catch {
      return JSON.stringify(value);
    }
  }
  return stringify(value);
}

function stringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stringify).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stringify((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}
