import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, resolveConfig } from '../../packages/gateway/dist/index.js';

const base = mkdtempSync(join(tmpdir(), 'mini-agent-startup-'));
chmodSync(base, 0o711);
afterAll(() => rmSync(base, { recursive: true, force: true }));
const remote = { MINI_AGENT_HOST: '0.0.0.0', MINI_AGENT_TOKENS: 'alice:alice-token-0123456789' };

describe('sandbox selection at startup', () => {
  it('defaults to auto, which picks bwrap here', async () => {
    const config = resolveConfig({ MINI_AGENT_WORK_DIR: join(base, 'auto') });
    expect(config.sandbox).toBe('auto');
    const app = await buildApp(config);
    expect((await app.inject({ url: '/healthz' })).json().sandbox).toBe('bwrap');
    await app.close();
    expect(existsSync(join(base, 'auto'))).toBe(false);
  });

  it('refuses `none` on a non-loopback address unless MINI_AGENT_ALLOW_UNSANDBOXED=1', () => {
    expect(() => resolveConfig({ ...remote, MINI_AGENT_SANDBOX: 'none' })).toThrow(/Refusing to serve 0\.0\.0\.0 without a sandbox.*MINI_AGENT_ALLOW_UNSANDBOXED=1/);
    expect(resolveConfig({ ...remote, MINI_AGENT_SANDBOX: 'none', MINI_AGENT_ALLOW_UNSANDBOXED: '1' }).allowUnsandboxed).toBe(true);
    expect(() => resolveConfig({ MINI_AGENT_SANDBOX: 'docker' })).toThrow(/MINI_AGENT_SANDBOX.*one of auto, bwrap, none/);
    expect(() => resolveConfig({ MINI_AGENT_MAX_PROCS: '0' })).toThrow(/MINI_AGENT_MAX_PROCS/);
  });

  it('refuses to build a non-loopback gateway when `auto` fell back to none, and fails `bwrap` naming the fix', async () => {
    // A work directory the sandbox user cannot reach makes bubblewrap's startup trial fail for real.
    const locked = join(base, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    const workDir = join(locked, 'work');
    await expect(buildApp(resolveConfig({ ...remote, MINI_AGENT_SANDBOX: 'auto', MINI_AGENT_WORK_DIR: workDir }))).rejects.toThrow(
      /Refusing to serve 0\.0\.0\.0 without a sandbox/,
    );
    await expect(buildApp(resolveConfig({ MINI_AGENT_SANDBOX: 'bwrap', MINI_AGENT_WORK_DIR: workDir }))).rejects.toThrow(
      /bubblewrap cannot run here: .*Fix: /,
    );
    // On loopback the fallback is allowed, and /healthz says so.
    const app = await buildApp(resolveConfig({ MINI_AGENT_SANDBOX: 'auto', MINI_AGENT_WORK_DIR: workDir }));
    expect((await app.inject({ url: '/healthz', headers: { host: '127.0.0.1' } })).json().sandbox).toBe('none');
    await app.close();
  });
});

describe('several runtimes in one process', () => {
  it('keeps serving on one gateway after another in the same process closed', async () => {
    const a = await buildApp(resolveConfig({ MINI_AGENT_WORK_DIR: join(base, 'a') }));
    const b = await buildApp(resolveConfig({ MINI_AGENT_WORK_DIR: join(base, 'b') }));
    expect((await b.inject({ url: '/healthz' })).json().sandbox).toBe('bwrap');
    await b.close();
    const res = await a.inject({ method: 'POST', url: '/invoke', payload: { name: 'exec_python', arguments: { code: 'print(7)' } } });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ ok: true, stdout: '7\n' });
    await a.close();
  });
});
