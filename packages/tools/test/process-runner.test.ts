import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProcess } from '../src/sandbox/process.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const py = (code: string, over: Partial<Parameters<typeof runProcess>[0]> = {}) =>
  runProcess({
    file: '/usr/bin/python3',
    args: ['-c', code],
    cwd: dir,
    env: { PATH: '/usr/bin:/bin' },
    timeoutMs: 5000,
    maxOutputBytes: 1024,
    ...over,
  });

/** Running, not merely a zombie waiting for whoever adopted it to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('runProcess', () => {
  it('returns rc, both streams and stdin round trip', async () => {
    const r = await py('import sys; s=sys.stdin.read(); print(s.upper()); print("e", file=sys.stderr); sys.exit(3)', {
      stdin: 'abc',
    });
    expect(r).toMatchObject({ rc: 3, signal: null, stdout: 'ABC\n', stderr: 'e\n', timedOut: false, truncated: false });
  });

  it('kills on timeout and keeps the output written before it', async () => {
    const r = await py('import time\nprint("before", flush=True)\ntime.sleep(30)', { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.rc).toBeNull();
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).toBe('before\n');
    expect(r.durationMs).toBeLessThan(2000);
  });

  it('kills the whole process group, background children included', async () => {
    const pidFile = join(dir, 'bg.pid');
    const r = await py(
      `import subprocess\np = subprocess.Popen(["sleep", "30"], stdout=subprocess.DEVNULL)\nopen(${JSON.stringify(pidFile)}, "w").write(str(p.pid))`,
    );
    expect(r.rc).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive(pid)).toBe(false);
  });

  it('does not wait on a background child that keeps stdout open', async () => {
    const started = Date.now();
    const r = await py('import subprocess\nsubprocess.Popen(["sleep", "30"])\nprint("done")');
    expect(r.stdout).toBe('done\n');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('kills the run when its signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const r = await py('import time\ntime.sleep(30)', { signal: controller.signal });
    expect(r.aborted).toBe(true);
    expect(r.rc).toBeNull();
    expect(r.durationMs).toBeLessThan(2000);
  });

  it('caps a flood of output, keeping head and tail', async () => {
    const r = await py('import sys\nsys.stdout.write("A"*100000 + "END")');
    expect(r.truncated).toBe(true);
    expect(r.stdoutBytes).toBe(100003);
    expect(r.stdout.startsWith('A'.repeat(512))).toBe(true);
    expect(r.stdout.endsWith('END')).toBe(true);
    expect(r.stdout).toContain('bytes omitted');
  });

  it('rejects when the program does not exist', async () => {
    await expect(runProcess({ file: '/nonexistent/bin', args: [], cwd: dir, env: {}, timeoutMs: 1000, maxOutputBytes: 64 })).rejects.toThrow(
      /ENOENT/,
    );
  });
});
