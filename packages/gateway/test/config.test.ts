import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_OPTIONS, DEFAULT_HOST, DEFAULT_PORT, isLoopbackHost, resolveConfig } from '../src/config.js';

describe('resolveConfig', () => {
  it('has defaults for everything', () => {
    const c = resolveConfig({});
    expect(c.host).toBe(DEFAULT_HOST);
    expect(c.port).toBe(DEFAULT_PORT);
    expect(c.tokens.size).toBe(0);
    expect(c.maxTimeoutS).toBeGreaterThan(0);
    expect(c.defaultTimeoutS).toBeLessThanOrEqual(c.maxTimeoutS);
    expect(c.shellAllow).toContain('echo');
  });

  it.each([
    ['MINI_AGENT_PORT', 'abc', /`MINI_AGENT_PORT` to be an integer from 0 to 65535, got `abc`/],
    ['MINI_AGENT_PORT', '70000', /MINI_AGENT_PORT/],
    ['MINI_AGENT_MAX_TIMEOUT_S', '-1', /`MINI_AGENT_MAX_TIMEOUT_S` to be a number/],
    ['MINI_AGENT_MAX_OUTPUT_BYTES', '1.5', /`MINI_AGENT_MAX_OUTPUT_BYTES` to be an integer/],
    ['MINI_AGENT_LOG_LEVEL', 'loud', /`MINI_AGENT_LOG_LEVEL` to be one of/],
    ['MINI_AGENT_HOST', 'not a host', /`MINI_AGENT_HOST` to be an IP address/],
    ['MINI_AGENT_SHELL_ALLOW', 'echo,/bin/sh', /`MINI_AGENT_SHELL_ALLOW` to be comma-separated command names/],
    ['MINI_AGENT_TOKENS', 'nocolon', /`MINI_AGENT_TOKENS` to be comma-separated/],
    ['MINI_AGENT_TOKENS_FILE', '/nonexistent/tokens', /`MINI_AGENT_TOKENS_FILE` to be a readable file/],
  ])('names %s when it is bad (%s)', (env, value, message) => {
    expect(() => resolveConfig({ [env]: value })).toThrow(message);
  });

  it('refuses a non-loopback bind without tokens, and allows it with them', () => {
    expect(() => resolveConfig({ MINI_AGENT_HOST: '0.0.0.0' })).toThrow(/Refusing to listen on 0.0.0.0 without authentication/);
    expect(resolveConfig({ MINI_AGENT_HOST: '0.0.0.0', MINI_AGENT_TOKENS: 'a:b' }).tokens.get('b')).toBe('a');
  });

  it('merges tokens from the variable and the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    try {
      writeFileSync(join(dir, 't'), '# comment\ncarol:c3\n');
      const c = resolveConfig({ MINI_AGENT_TOKENS: 'alice:a1', MINI_AGENT_TOKENS_FILE: join(dir, 't') });
      expect([...c.tokens.values()].sort()).toEqual(['alice', 'carol']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caps the default timeout by the maximum', () => {
    expect(resolveConfig({ MINI_AGENT_MAX_TIMEOUT_S: '2' }).defaultTimeoutS).toBe(2);
    expect(() => resolveConfig({ MINI_AGENT_MAX_TIMEOUT_S: '2', MINI_AGENT_DEFAULT_TIMEOUT_S: '5' })).toThrow(
      /MINI_AGENT_DEFAULT_TIMEOUT_S/,
    );
  });

  it('has every setting in the README table', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    for (const o of CONFIG_OPTIONS) expect(readme).toContain(`| \`${o.env}\` | \`${o.flag}\` |`);
  });

  it('documents every variable it reads', () => {
    const documented = new Set(CONFIG_OPTIONS.map((o) => o.env));
    for (const env of ['MINI_AGENT_HOST', 'MINI_AGENT_PORT', 'MINI_AGENT_TOKENS', 'MINI_AGENT_SHELL_ALLOW', 'MINI_AGENT_MAX_TIMEOUT_S', 'MINI_AGENT_MAX_OUTPUT_BYTES', 'MINI_AGENT_PYTHON', 'MINI_AGENT_LOG_LEVEL']) {
      expect(documented.has(env)).toBe(true);
    }
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['localhost.evil.com', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
