import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpToolsInvoker } from '../../packages/client/dist/index.js';
import { resolveConfig } from '../../packages/gateway/dist/index.js';
import { connect, startGateway, type McpTestGateway } from '../mcp/helpers.js';
import { fakeUpstream, json, type FakeUpstream, type Handler } from './fake-upstream.js';

const PPLX_KEY = 'pplx-gw-key-9a8b7c6d5e4f';
const C7_KEY = 'ctx7sk-gw-key-1f2e3d4c5b6a';
const TOKEN = 'tok-research-0123456789';

describe('research tools in the gateway', () => {
  let up: FakeUpstream;
  beforeAll(async () => {
    up = await fakeUpstream();
  });
  afterAll(() => up.close());

  async function toolNames(env: Record<string, string>): Promise<string[]> {
    const gw = await startGateway(env);
    try {
      return (await new HttpToolsInvoker(gw.url).listTools()).map((t) => t.function.name);
    } finally {
      await gw.close();
    }
  }

  it('are absent from /tools when their environment is unset', async () => {
    const names = await toolNames({ PPLX_API_BASE: up.url, PPLX_MODEL: 'sonar-pro' });
    expect(names).toEqual(['exec_python', 'exec_shell']);
  });

  it('appear one by one as they are configured', async () => {
    expect(await toolNames({ PPLX_API_KEY: PPLX_KEY })).toEqual(['exec_python', 'exec_shell', 'research_perplexity']);
    expect(await toolNames({ C7_API_BASE: up.url })).toEqual(['exec_python', 'exec_shell', 'research_context7_docs']);
    expect(await toolNames({ C7_API_KEY: C7_KEY })).toEqual(['exec_python', 'exec_shell', 'research_context7_docs']);
  });

  it('refuse bad settings at startup without echoing the key', () => {
    expect(() => resolveConfig({ PPLX_API_KEY: PPLX_KEY, PPLX_API_BASE: 'ftp://example.com' })).toThrow(/PPLX_API_BASE.*http\(s\) URL/);
    expect(() => resolveConfig({ C7_API_BASE: 'http://user:pw@example.com' })).toThrow(/C7_API_BASE/);
    let message = '';
    try {
      resolveConfig({ PPLX_API_KEY: 'has space secretvalue' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/PPLX_API_KEY/);
    expect(message).not.toContain('secretvalue');
    expect(() => resolveConfig({ MINI_AGENT_ALLOWED_ORIGINS: 'https://app.example.com/path' })).toThrow(/MINI_AGENT_ALLOWED_ORIGINS/);
  });

  describe('configured against fake upstreams', () => {
    let gw: McpTestGateway;
    beforeAll(async () => {
      gw = await startGateway({
        MINI_AGENT_TOKENS: `alice:${TOKEN}`,
        PPLX_API_KEY: PPLX_KEY,
        PPLX_API_BASE: up.url,
        PPLX_MODEL: 'sonar-reasoning-pro',
        C7_API_KEY: C7_KEY,
        C7_API_BASE: up.url,
      });
    });
    afterAll(() => gw.close());

    const byPath: Handler = (req, res) => {
      if (req.path === '/chat/completions') {
        return json(200, {
          id: 'x',
          model: 'sonar-reasoning-pro',
          citations: ['https://example.org/a'],
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Yes [1].' } }],
        })(req, res);
      }
      if (req.path === '/api/v2/libs/search') return json(200, { results: [{ id: '/fastify/fastify', title: 'Fastify' }] })(req, res);
      return json(200, { codeSnippets: [], infoSnippets: [{ breadcrumb: 'Hooks', content: 'onRequest runs first.' }] })(req, res);
    };

    it('runs research_perplexity over /invoke with the configured model and key', async () => {
      up.respond(byPath);
      const invoker = new HttpToolsInvoker(gw.url, { token: TOKEN });
      const result = await invoker.invoke('research_perplexity', JSON.stringify({ query: 'Is it?' }));
      expect(result.text).toBe('Yes [1].\n\nSources:\n[1] https://example.org/a');
      expect(up.requests[0]!.authorization).toBe(`Bearer ${PPLX_KEY}`);
      expect(up.requests[0]!.body).toMatchObject({ model: 'sonar-reasoning-pro' });
    });

    it('runs research_context7_docs over MCP, and never writes a key to the logs', async () => {
      up.respond(byPath);
      const { client } = await connect(gw.url, { authorization: `Bearer ${TOKEN}` });
      const result = await client.callTool({ name: 'research_context7_docs', arguments: { library: 'fastify', topic: 'hooks' } });
      expect(result.isError).toBe(false);
      expect(result.structuredContent).toMatchObject({ ok: true, library: { id: '/fastify/fastify' } });
      expect((result.content as { text: string }[])[0]!.text).toContain('## Hooks\nonRequest runs first.');
      expect(up.requests.map((r) => r.authorization)).toEqual([`Bearer ${C7_KEY}`, `Bearer ${C7_KEY}`]);
      await client.close();

      const logs = JSON.stringify(gw.logs);
      expect(logs).toContain('research_context7_docs');
      expect(logs).not.toContain(C7_KEY);
      expect(logs).not.toContain(PPLX_KEY);
    });

    it('gives an upstream 429 to an MCP client as an isError result', async () => {
      up.respond(json(429, { error: 'rate limited' }, { 'retry-after': '0' }));
      const { client } = await connect(gw.url, { authorization: `Bearer ${TOKEN}` });
      const result = await client.callTool({ name: 'research_perplexity', arguments: { query: 'q' } });
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({ ok: false, reason: 'rate_limited', upstream_status: 429, attempts: 3 });
      await client.close();
    });
  });
});
