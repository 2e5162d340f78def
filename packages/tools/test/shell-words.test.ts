import { describe, expect, it } from 'vitest';
import { splitShellWords } from '../src/shell-words.js';

describe('splitShellWords', () => {
  it('splits on blanks and keeps quoted text whole', () => {
    expect(splitShellWords(`grep -n 'a b' "c d" e\\ f`)).toEqual(['grep', '-n', 'a b', 'c d', 'e f']);
  });

  it('leaves shell operators as ordinary characters', () => {
    expect(splitShellWords('echo hi; rm -rf / | cat && x > y $(id) `id`')).toEqual([
      'echo', 'hi;', 'rm', '-rf', '/', '|', 'cat', '&&', 'x', '>', 'y', '$(id)', '`id`',
    ]);
  });

  it('expands nothing: variables, globs and tildes stay literal', () => {
    expect(splitShellWords('echo $HOME * ~ "$PATH"')).toEqual(['echo', '$HOME', '*', '~', '$PATH']);
  });

  it('applies the double-quote escapes a shell applies, and only those', () => {
    expect(splitShellWords('echo "a\\"b\\\\c\\$d\\n"')).toEqual(['echo', 'a"b\\c$d\\n']);
  });

  it('keeps an empty quoted word', () => {
    expect(splitShellWords(`printf '' ""`)).toEqual(['printf', '', '']);
  });

  it('rejects unterminated quotes and a trailing backslash', () => {
    expect(() => splitShellWords("echo 'oops")).toThrow(SyntaxError);
    expect(() => splitShellWords('echo "oops')).toThrow(SyntaxError);
    expect(() => splitShellWords('echo oops\\')).toThrow(SyntaxError);
  });
});
