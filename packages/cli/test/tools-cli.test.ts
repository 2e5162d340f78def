import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TOKEN, type TestGateway } from '../../../test/client/helpers.js';
import { mini } from './cli-run.js';

describe('mini-agent tools', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  afterAll(() => gateway.close());

  it('--json prints the gateway tool list as JSON', async () => {
    const r = await mini(['tools', '--json', '--gateway', gateway.url, '--token', TOKEN]);
    expect(r.code).toBe(0);
    const tools = JSON.parse(r.stdout) as { type: string; function: { name: string } }[];
    expect(tools.map((t) => t.function.name)).toEqual(expect.arrayContaining(['exec_python', 'exec_shell']));
    expect(tools.every((t) => t.type === 'function')).toBe(true);
  });

  it('prints each tool with its arguments for people, reading MINI_AGENT_GATEWAY and MINI_AGENT_TOKEN', async () => {
    const r = await mini(['tools'], { MINI_AGENT_GATEWAY: gateway.url, MINI_AGENT_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^exec_python\n {2}Run Python 3 code/m);
    expect(r.stdout).toContain('    code: string');
    expect(r.stdout).toContain('    timeout_s?: number');
  });

  it('exits 1 with the gateway code and message when refused', async () => {
    const r = await mini(['tools', '--gateway', gateway.url, '--token', 'wrong']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('mini-agent: UNAUTHORIZED (HTTP 401): invalid bearer token');
    const j = await mini(['tools', '--json', '--gateway', gateway.url]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: 'UNAUTHORIZED', statusCode: 401 } });
  });

  it('exits 1 with CONNECTION_FAILED when no gateway listens', async () => {
    const r = await mini(['tools', '--gateway', 'http://127.0.0.1:1', '--timeout-ms', '3000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CONNECTION_FAILED');
  });

  it('exits 2 on bad usage', async () => {
    expect((await mini(['tools', '--gateway', 'ftp://x'])).code).toBe(2);
    expect((await mini(['tools', '--frobnicate'])).code).toBe(2);
    expect((await mini(['tools', '--timeout-ms', 'soon'])).code).toBe(2);
  });
});
