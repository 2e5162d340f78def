import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandAllowlist, DEFAULT_SHELL_ALLOW, FORBIDDEN_COMMANDS } from '../src/allowlist.js';
import { ToolError } from '../src/errors.js';

describe('CommandAllowlist', () => {
  const list = new CommandAllowlist(DEFAULT_SHELL_ALLOW);

  it('holds no shell or launcher by default', () => {
    for (const name of DEFAULT_SHELL_ALLOW) expect(FORBIDDEN_COMMANDS.has(name)).toBe(false);
    expect(list.names).toContain('echo');
  });

  it('resolves a bare name to its real binary', () => {
    expect(list.resolve('echo')).toMatch(/^\/.*\/echo$/);
  });

  it('accepts an absolute path only when it is the same real file', () => {
    expect(list.resolve('/bin/echo')).toBe(list.resolve('echo'));
  });

  it.each(['sh', '/bin/sh', '/usr/bin/env', 'bash', 'xargs', 'nohup', './echo', '../bin/echo', 'echo/'])(
    'refuses %s with COMMAND_NOT_ALLOWED naming what is allowed',
    (argv0) => {
      let err: unknown;
      try {
        list.resolve(argv0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ToolError);
      expect((err as ToolError).code).toBe('COMMAND_NOT_ALLOWED');
      expect((err as ToolError).message).toContain('allowed: ');
      expect((err as ToolError).message).toContain('echo');
    },
  );

  it('judges a copy by what it is, not by its name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'allow-'));
    try {
      copyFileSync('/bin/sh', join(dir, 'echo'));
      expect(() => list.resolve(join(dir, 'echo'))).toThrow(/not allowed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to be configured with a launcher', () => {
    expect(() => new CommandAllowlist(['echo', 'sh'])).toThrow(TypeError);
    expect(() => new CommandAllowlist(['/bin/echo'])).toThrow(TypeError);
  });
});
