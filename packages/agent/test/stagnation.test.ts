import { describe, expect, it } from 'vitest';
import { canonicalJson, StagnationDetector, stagnationDirective } from '../dist/index.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and parses JSON strings', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson('{ "b": 1, "a": 2 }')).toBe(canonicalJson({ a: 2, b: 1 }));
    expect(canonicalJson('not json')).toBe('"not json"');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson('{"a":1}')).not.toBe(canonicalJson('{"a":"1"}'));
  });
});

describe('StagnationDetector', () => {
  it('sees the same (tool, canonical arguments) across the window, not just the same tool', () => {
    const d = new StagnationDetector(3);
    d.record('exec_python', '{"code":"print(1)"}', 'r1');
    d.record('exec_python', '{"code":"print(2)"}', 'r2');
    d.record('exec_python', '{"code":"print(3)"}', 'r3');
    expect(d.check()).toBeUndefined();
    d.record('exec_python', '{"code":"print(3)"}', 'r4');
    expect(d.wouldRepeat('exec_python', '{ "code" : "print(3)" }')).toBe(true);
    expect(d.wouldRepeat('exec_shell', '{"code":"print(3)"}')).toBe(false);
    d.record('exec_python', '{"code": "print(3)"}', 'r5');
    expect(d.check()).toEqual({ kind: 'arguments', tool: 'exec_python', count: 3 });
  });

  it('sees the same result repeating from different calls', () => {
    const d = new StagnationDetector(2);
    d.record('t', '{"a":1}', 'same');
    d.record('t', '{"a":2}', 'same');
    expect(d.check()).toMatchObject({ kind: 'result' });
    expect(stagnationDirective({ kind: 'result', tool: 't', count: 2 })).toContain('The last 2 tool calls failed with the same result');
  });

  it('only failed results count as the same result: successes never repeat', () => {
    const d = new StagnationDetector(3);
    for (const n of [1, 2, 3, 4]) d.record('exec_python', `{"code":"write(${n})"}`, undefined);
    expect(d.check()).toBeUndefined();
    for (const n of [5, 6, 7]) d.record('exec_python', `{"code":"fail(${n})"}`, '{"ok":false,"rc":1}');
    expect(d.check()).toEqual({ kind: 'result', tool: 'exec_python', count: 3 });
  });

  it('counts calls pending in the same turn', () => {
    const d = new StagnationDetector(3);
    d.record('t', '{}', 'x');
    expect(d.wouldRepeat('t', '{}', [StagnationDetector.callKey('t', '{}')])).toBe(true);
    expect(d.wouldRepeat('t', '{}')).toBe(false);
  });
});
