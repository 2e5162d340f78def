import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../src/auth.js';
import { parseTokens } from '../src/config.js';
import { invoke, testApp } from './helpers.js';

describe('bearer tokens', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ MINI_AGENT_TOKENS: 'alice:secret-alice-0123456789,bob:secret-bob-0123456789' });
  });
  afterAll(() => app.close());

  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer secret-alice-012345678X' }],
    ['another scheme', { authorization: 'Basic YWxpY2U6eA==' }],
    ['a prefix of a token', { authorization: 'Bearer secret-alice' }],
  ])('answers 401 UNAUTHORIZED with %s', async (_label, headers) => {
    for (const req of [{ url: '/tools' }, invoke('exec_python', { code: 'print(1)' })]) {
      const res = await app.inject({ ...req, headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized' });
    }
  });

  it('serves a valid token, and any Host when tokens are set', async () => {
    const res = await app.inject({
      ...invoke('exec_python', { code: 'print(1)' }),
      headers: { authorization: 'Bearer secret-bob-0123456789', host: 'tools.internal:8787' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('leaves health probes open', async () => {
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});

describe('TokenVerifier', () => {
  it('maps each token to its principal and nothing else', () => {
    const v = new TokenVerifier(parseTokens('alice:s1,bob:s2', 'T'));
    expect(v.verify('s1')).toBe('alice');
    expect(v.verify('s2')).toBe('bob');
    expect(v.verify('s3')).toBeUndefined();
    expect(v.verify('')).toBeUndefined();
  });
});

describe('parseTokens', () => {
  it('skips comments and blank lines', () => {
    expect([...parseTokens('# agents\nalice:one\n\nbob:two\n', 'x')]).toEqual([
      ['one', 'alice'],
      ['two', 'bob'],
    ]);
  });

  it('refuses malformed entries without echoing the secret', () => {
    expect(() => parseTokens('alice', 'MINI_AGENT_TOKENS')).toThrow(/MINI_AGENT_TOKENS/);
    expect(() => parseTokens('al ice:topsecret', 'MINI_AGENT_TOKENS')).toThrow(/al ice:\*\*\*/);
    expect(() => parseTokens('a:same,b:same', 'MINI_AGENT_TOKENS')).toThrow(/distinct/);
    try {
      parseTokens('bad name:topsecret', 'MINI_AGENT_TOKENS');
    } catch (err) {
      expect((err as Error).message).not.toContain('topsecret');
    }
  });
});
