/**
 * Splits a command line into argv the way a POSIX shell tokenizes words — blanks separate, single
 * quotes are literal, double quotes allow `\"`, `\\`, `\$` and `` \` `` escapes, a backslash outside
 * quotes escapes the next character — and does nothing else: no expansion of variables, globs, `~`
 * or `$(…)`, and no operators. `;`, `|`, `&&`, `>` and backticks are ordinary characters of a word.
 *
 * @throws SyntaxError on an unterminated quote or a trailing backslash.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i += 1;
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new SyntaxError(`unterminated single quote at position ${i}`);
      word += line.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      i += 1;
      for (;;) {
        if (i >= line.length) throw new SyntaxError('unterminated double quote');
        const c = line[i]!;
        if (c === '"') break;
        if (c === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1]!)) {
          // A backslash-newline inside double quotes is a line continuation: both vanish.
          if (line[i + 1] !== '\n') word += line[i + 1];
          i += 2;
        } else {
          word += c;
          i += 1;
        }
      }
      i += 1;
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw new SyntaxError('trailing backslash');
      if (line[i + 1] !== '\n') word += line[i + 1];
      i += 2;
    } else {
      word += ch;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}
