import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context7Tool } from '../../packages/tools/dist/index.js';
import { fakeUpstream, json, type FakeUpstream, type Handler } from './fake-upstream.js';

const KEY = 'ctx7sk-test-0a1b2c3d4e5f';
const ctx = { principal: 'tester' };

/** `GET /api/v2/libs/search` as Context7 answers it. */
const SEARCH = {
  results: [
    {
      id: '/websites/react_dev',
      title: 'React',
      description: 'React is a JavaScript library for building user interfaces.',
      branch: 'main',
      lastUpdateDate: '2026-10-01T00:00:00.000Z',
      state: 'finalized',
      totalTokens: 400_000,
      totalSnippets: 2100,
      stars: -1,
      trustScore: 10,
      benchmarkScore: 89,
      versions: [],
    },
    { id: '/facebook/react', title: 'React (GitHub)', description: 'The library for web and native user interfaces.', state: 'finalized', totalSnippets: 900, trustScore: 9 },
  ],
  metadata: { authentication: 'personal' },
};

/** `GET /api/v2/context?type=json` as Context7 answers it. */
const CONTEXT = {
  codeSnippets: [
    {
      codeTitle: 'Clean up an effect',
      codeDescription: 'Return a cleanup function from the effect.',
      codeLanguage: 'javascript',
      codeTokens: 60,
      codeId: 'https://react.dev/reference/react/useEffect#usage',
      pageTitle: 'useEffect',
      codeList: [{ language: 'javascript', code: 'useEffect(() => {\n  const c = connect();\n  return () => c.disconnect();\n}, []);' }],
    },
    {
      codeTitle: 'Fetch data in an effect',
      codeDescription: 'Ignore stale responses.',
      codeLanguage: 'javascript',
      codeTokens: 80,
      codeId: 'https://react.dev/reference/react/useEffect#fetching-data',
      pageTitle: 'useEffect',
      codeList: [{ language: 'javascript', code: 'let ignore = false;' }],
    },
  ],
  infoSnippets: [
    { pageId: 'https://react.dev/learn/synchronizing-with-effects', breadcrumb: 'Learn > Effects', content: 'React calls your cleanup function before the effect runs again.', contentTokens: 20 },
  ],
  pagination: { page: 1, limit: 10, totalPages: 1, hasNext: false, hasPrev: false },
  totalTokens: 160,
  metadata: { authentication: 'personal' },
};

describe('research_context7_docs against a fake Context7 API', () => {
  let up: FakeUpstream;
  beforeAll(async () => {
    up = await fakeUpstream();
  });
  afterAll(() => up.close());

  const tool = (apiKey: string | null = KEY, research: Record<string, number> = {}) =>
    context7Tool(apiKey === null ? { baseUrl: up.url } : { apiKey, baseUrl: up.url }, { retryDelayMs: 5, ...research });
  const byPath: Handler = (req, res) => json(200, req.path === '/api/v2/libs/search' ? SEARCH : CONTEXT)(req, res);

  it('resolves the library, then fetches its snippets for the topic, with the Bearer key', async () => {
    up.respond(byPath);
    const result = await tool().run({ library: 'react', topic: 'useEffect cleanup', max_snippets: 2 }, ctx);

    expect(up.requests.map((r) => [r.method, r.path])).toEqual([
      ['GET', '/api/v2/libs/search'],
      ['GET', '/api/v2/context'],
    ]);
    const [search, context] = up.requests;
    expect(Object.fromEntries(search!.query)).toEqual({ libraryName: 'react', query: 'useEffect cleanup' });
    expect(Object.fromEntries(context!.query)).toEqual({ libraryId: '/websites/react_dev', query: 'useEffect cleanup', type: 'json' });
    expect(up.requests.every((r) => r.authorization === `Bearer ${KEY}`)).toBe(true);

    expect(result.data).toEqual({
      ok: true,
      library: { id: '/websites/react_dev', title: 'React', description: 'React is a JavaScript library for building user interfaces.' },
      snippets: [
        {
          kind: 'code',
          title: 'Clean up an effect',
          content: 'Return a cleanup function from the effect.\n\n```javascript\nuseEffect(() => {\n  const c = connect();\n  return () => c.disconnect();\n}, []);\n```',
          source: 'https://react.dev/reference/react/useEffect#usage',
        },
        {
          kind: 'code',
          title: 'Fetch data in an effect',
          content: 'Ignore stale responses.\n\n```javascript\nlet ignore = false;\n```',
          source: 'https://react.dev/reference/react/useEffect#fetching-data',
        },
      ],
      alternatives: ['/facebook/react'],
      truncated: true,
    });
    expect(result.text.startsWith('# React (/websites/react_dev)\n\n## Clean up an effect\n')).toBe(true);
    expect(result.text).toContain('Source: https://react.dev/reference/react/useEffect#usage');
    expect(result.text).toContain('Other matching libraries: /facebook/react');
  });

  it('takes prose snippets after the code ones, up to the default of 5', async () => {
    up.respond(byPath);
    const result = await tool().run({ library: 'react', topic: 'effects' }, ctx);
    const snippets = (result.data as { snippets: { kind: string; title: string }[] }).snippets;
    expect(snippets.map((s) => [s.kind, s.title])).toEqual([
      ['code', 'Clean up an effect'],
      ['code', 'Fetch data in an effect'],
      ['info', 'Learn > Effects'],
    ]);
    expect(result.data).toMatchObject({ truncated: false });
  });

  it('skips the search when given a Context7 library id', async () => {
    up.respond(byPath);
    await tool().run({ library: '/facebook/react', topic: 'hooks' }, ctx);
    expect(up.requests).toHaveLength(1);
    expect(up.requests[0]!.query.get('libraryId')).toBe('/facebook/react');
  });

  it('sends no Authorization header when only a base is configured', async () => {
    up.respond(byPath);
    await tool(null).run({ library: 'react', topic: 'hooks' }, ctx);
    expect(up.requests.map((r) => r.authorization)).toEqual([undefined, undefined]);
  });

  it('says so when no library matches, without fetching context', async () => {
    up.respond(json(200, { results: [], metadata: { authentication: 'none' } }));
    const result = await tool().run({ library: 'no-such-lib', topic: 'x' }, ctx);
    expect(up.requests).toHaveLength(1);
    expect(result.data).toMatchObject({ ok: false, reason: 'not_found' });
    expect((result.data as { message: string }).message).toMatch(/knows no library matching "no-such-lib"/);
    expect(JSON.parse(result.text)).toEqual(result.data);
  });

  it.each([
    [401, 'unauthorized', 1],
    [429, 'rate_limited', 3],
    [500, 'upstream_error', 3],
  ])('turns HTTP %i from upstream into a clear result (%s) after %i attempt(s)', async (status, reason, attempts) => {
    up.respond(json(status, { error: 'x', message: `bad key ${KEY}` }));
    const result = await tool().run({ library: 'react', topic: 'hooks' }, ctx);
    expect(up.requests).toHaveLength(attempts);
    expect(result.data).toMatchObject({ ok: false, reason, upstream_status: status, attempts });
    expect(JSON.stringify(result)).not.toContain(KEY);
  });

  it('retries a failing context call and answers', async () => {
    up.respond(json(200, SEARCH), json(502, 'bad gateway'), json(200, CONTEXT));
    const result = await tool().run({ library: 'react', topic: 'hooks' }, ctx);
    expect(up.requests.map((r) => r.path)).toEqual(['/api/v2/libs/search', '/api/v2/context', '/api/v2/context']);
    expect(result.data).toMatchObject({ ok: true });
  });

  it('caps each snippet and the whole text', async () => {
    const huge = { codeSnippets: [], infoSnippets: Array.from({ length: 20 }, (_, i) => ({ breadcrumb: `Part ${i}`, content: 'z'.repeat(50_000) })) };
    up.respond(json(200, SEARCH), json(200, huge));
    const result = await tool(KEY, { maxResultChars: 10_000 }).run({ library: 'react', topic: 'hooks', max_snippets: 20 }, ctx);
    const snippets = (result.data as { snippets: { content: string }[] }).snippets;
    expect(snippets).toHaveLength(20);
    expect(Math.max(...snippets.map((s) => s.content.length))).toBeLessThanOrEqual(4000);
    expect(result.text.length).toBeLessThanOrEqual(10_000);
    expect(result.data).toMatchObject({ ok: true, truncated: true });
  });
});
