import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('mini-agent gateway', () => {
  it('lists every setting with its variable and default in --help', () => {
    const r = spawnSync(process.execPath, [bin, 'gateway', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const env of ['MINI_AGENT_HOST', 'MINI_AGENT_PORT', 'MINI_AGENT_TOKENS', 'MINI_AGENT_SHELL_ALLOW', 'MINI_AGENT_MAX_TIMEOUT_S', 'MINI_AGENT_MAX_OUTPUT_BYTES', 'MINI_AGENT_PYTHON', 'MINI_AGENT_LOG_LEVEL']) {
      expect(r.stdout).toContain(env);
    }
    expect(r.stdout).toContain('Default: 127.0.0.1');
    expect(r.stdout).toContain('Default: 8787');
  });

  it('refuses a non-loopback bind without tokens, naming the fix', () => {
    const r = spawnSync(process.execPath, [bin, 'gateway', '--host', '0.0.0.0', '--port', '0'], {
      encoding: 'utf8',
      env: { ...process.env, MINI_AGENT_TOKENS: '', MINI_AGENT_TOKENS_FILE: '' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Refusing to listen on 0.0.0.0 without authentication');
    expect(r.stderr).toContain('MINI_AGENT_TOKENS');
  });

  it('fails at startup on a bad value, naming the variable', () => {
    const r = spawnSync(process.execPath, [bin, 'gateway'], { encoding: 'utf8', env: { ...process.env, MINI_AGENT_MAX_TIMEOUT_S: 'soon' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('`MINI_AGENT_MAX_TIMEOUT_S`');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('serves, then exits cleanly on SIGTERM with a run in flight killed at the grace deadline', async () => {
    const child = spawn(process.execPath, [bin, 'gateway', '--port', '0', '--shutdown-grace-s', '0.5'], {
      env: { ...process.env, MINI_AGENT_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in: ${out}`)), 15_000);
      child.stdout.on('data', () => {
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const marker = `cli-shutdown-${Date.now()}`;
    const run = fetch(`${url}/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'exec_python', arguments: { code: `import time\ntime.sleep(30)  # ${marker}` } }),
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const body = (await (await run).json()) as { data: { ok: boolean; rc: number | null } };
    expect(body.data).toMatchObject({ ok: false, rc: null });
    expect(await exited).toBe(0);
    const leftovers = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim();
    expect(leftovers).toBe('');
    // Each line is JSON when stdout is not a terminal, with an audit line for the call.
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; audit?: { tool: string } });
    expect(lines.some((l) => l.msg === 'invocation' && l.audit?.tool === 'exec_python')).toBe(true);
    expect(out).not.toContain('time.sleep');
  });
});
