import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCallCgroup, detectCgroups } from '../src/sandbox/cgroup.js';
import { resolvePython } from '../src/python.js';
import { selectSandbox } from '../src/sandbox/select.js';
import { trialFix } from '../src/sandbox/probe.js';

const base = mkdtempSync(join(tmpdir(), 'mini-agent-select-'));
chmodSync(base, 0o711);
afterAll(() => rmSync(base, { recursive: true, force: true }));
const python = resolvePython();

describe('selectSandbox', () => {
  it('takes bwrap when it works here (the CI machine has bubblewrap)', async () => {
    const warnings: string[] = [];
    const sandbox = await selectSandbox('auto', { python, workDir: join(base, 'ok'), uid: 65534, warn: (m) => warnings.push(m) });
    expect(sandbox.kind).toBe('bwrap');
    expect(warnings).toEqual([]);
    await sandbox.close?.();
  });

  it('fails `bwrap` with the reason and the fix, and falls back loudly under `auto`', async () => {
    // A work directory the sandbox user cannot reach makes the startup trial fail for real.
    const locked = join(base, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    chmodSync(locked, 0o700);
    const options = { python, workDir: join(locked, 'work'), uid: 65534, warn: () => {} };
    if (process.getuid?.() !== 0) throw new Error('this test needs root (the sandbox user differs from the gateway user only then)');
    await expect(selectSandbox('bwrap', options)).rejects.toThrow(/MINI_AGENT_SANDBOX=bwrap, but bubblewrap cannot run here: .*Permission denied.*Fix: .*traverse/);
    const warnings: string[] = [];
    const sandbox = await selectSandbox('auto', { ...options, warn: (m) => warnings.push(m) });
    expect(sandbox.kind).toBe('none');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^SANDBOX IS OFF: .*Fix: /);
  });

  it('takes none as asked and refuses unknown choices', async () => {
    expect((await selectSandbox('none', { python, workDir: base, uid: 65534, warn: () => {} })).kind).toBe('none');
    await expect(selectSandbox('docker' as never, { python, workDir: base, uid: 65534, warn: () => {} })).rejects.toThrow(/one of auto, bwrap, none/);
  });
});

describe('cgroups', () => {
  it('v2: enables pids and memory below its own group and sets per-call limits (fake cgroupfs)', async () => {
    const mount = join(base, 'cg2');
    mkdirSync(join(mount, 'svc'), { recursive: true });
    writeFileSync(join(mount, 'cgroup.controllers'), 'cpu memory pids');
    writeFileSync(join(mount, 'svc', 'cgroup.controllers'), 'memory pids');
    writeFileSync(join(mount, 'svc', 'cgroup.subtree_control'), '');
    const layout = await detectCgroups('ma', { mount, selfCgroup: '0::/svc\n' });
    expect(layout).toEqual({ version: 2, pids: join(mount, 'svc', 'ma'), memory: join(mount, 'svc', 'ma') });
    expect(readFileSync(join(mount, 'svc', 'cgroup.subtree_control'), 'utf8')).toBe('+pids +memory');
    if ('reason' in layout) return;
    const call = await createCallCgroup(layout, { maxProcesses: 9, memoryBytes: 1 << 24 });
    const dir = call.procsFiles[0]!.replace(/\/cgroup\.procs$/, '');
    expect(readFileSync(join(dir, 'pids.max'), 'utf8')).toBe('9');
    expect(readFileSync(join(dir, 'memory.max'), 'utf8')).toBe(String(1 << 24));
    expect(readFileSync(join(dir, 'memory.swap.max'), 'utf8')).toBe('0');
  });

  it('v1 (this machine): a call group is emptied (SIGKILL) and removed on dispose', async () => {
    const layout = await detectCgroups(`ma-test-${process.pid}`);
    if ('reason' in layout) throw new Error(`cgroups unusable here: ${layout.reason}`);
    const call = await createCallCgroup(layout, { maxProcesses: 8, memoryBytes: 64 << 20 });
    const dirs = call.procsFiles.map((f) => f.replace(/\/cgroup\.procs$/, ''));
    expect(dirs.every((d) => existsSync(d))).toBe(true);
    const { spawn } = await import('node:child_process');
    const child = spawn('/bin/sh', ['-c', `for f in ${call.procsFiles.join(' ')}; do echo 0 > $f; done; exec sleep 60`]);
    await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise((r) => child.once('exit', r));
    await call.dispose();
    expect(await exited).toBe(null);
    expect(dirs.some((d) => existsSync(d))).toBe(false);
    for (const dir of new Set([layout.pids, layout.memory])) if (dir) (await import('node:fs/promises')).rmdir(dir).catch(() => {});
  });
});

describe('trialFix', () => {
  it('blames the uid process limit, not user namespaces, for EAGAIN', () => {
    for (const reason of [
      'a trial run failed (rc 1): bwrap: Creating new namespace failed: Resource temporarily unavailable',
      'a trial run failed (rc 1): prlimit: fork failed: Resource temporarily unavailable',
    ]) {
      const fix = trialFix(reason, 10001);
      expect(fix).toMatch(/process limit of uid 10001 is exhausted: RLIMIT_NPROC/);
      expect(fix).not.toMatch(/unprivileged_userns/);
    }
  });

  it('keeps the user namespace and traversal advice for their failures', () => {
    expect(trialFix('bwrap: No permissions to creating new namespace', 0)).toMatch(/unprivileged_userns_clone/);
    expect(trialFix("bwrap: Can't find source path /w: Permission denied", 65534)).toMatch(/let uid 65534 traverse/);
    expect(trialFix('something else', undefined)).toMatch(/bwrap --unshare-all/);
  });
});
