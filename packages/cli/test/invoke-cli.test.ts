import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TOKEN, type TestGateway } from '../../../test/client/helpers.js';
import { mini } from './cli-run.js';

describe('mini-agent invoke', () => {
  let gateway: TestGateway;
  let env: Record<string, string>;
  beforeAll(async () => {
    gateway = await startGateway();
    env = { MINI_AGENT_GATEWAY: gateway.url, MINI_AGENT_TOKEN: TOKEN };
  });
  afterAll(() => gateway.close());

  it("prints the program's output and a summary for people", async () => {
    const r = await mini(['invoke', 'exec_python', '{"code":"import sys; print(6*7); print(\'w\', file=sys.stderr)"}'], env);
    expect(r).toMatchObject({ code: 0, stdout: '42\n' });
    expect(r.stderr).toMatch(/^w\n\[exit 0, \d+ ms\]\n$/);
  });

  it('--json prints {text, data}', async () => {
    const r = await mini(['invoke', 'exec_shell', '{"cmd":"echo hi"}', '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ data: { ok: true, rc: 0, stdout: 'hi\n' } });
  });

  it('exits 3 when the tool ran and failed', async () => {
    const r = await mini(['invoke', 'exec_python', '{"code":"raise SystemExit(5)"}', '--json'], env);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ data: { ok: false, rc: 5 } });
  });

  it('exits 1 with the gateway code and message when refused', async () => {
    const r = await mini(['invoke', 'exec_shell', '{"cmd":"rm -rf /"}'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mini-agent: COMMAND_NOT_ALLOWED \(HTTP 403\): command `rm` is not allowed/);
    const bad = await mini(['invoke', 'exec_python', '{"code":'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_ARGUMENTS');
  });

  it('reads the arguments from stdin with -, and keeps a --session workspace', async () => {
    const session = `cli-${Date.now()}`;
    const w = await mini(['invoke', 'exec_python', '-', '--session', session], env, '{"code":"open(\'f\',\'w\').write(\'kept\')"}');
    expect(w.code).toBe(0);
    const r = await mini(['invoke', 'exec_shell', '{"cmd":"cat f"}', '--session', session], env);
    expect(r).toMatchObject({ code: 0, stdout: 'kept' });
  });

  it('exits 2 without a tool name', async () => {
    const r = await mini(['invoke'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing the tool name');
  });
});
