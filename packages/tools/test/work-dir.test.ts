import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createToolRuntime } from '../src/runtime.js';
import { WorkspaceManager } from '../src/workspace.js';
import { createWorkDir, secureDir } from '../src/work-dir.js';

const base = mkdtempSync(join(tmpdir(), 'mini-agent-workdir-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(base, `d${++n}`);

describe('work directory checks', () => {
  it('creates a missing directory with exactly the mode asked, whatever the umask', async () => {
    const dir = fresh();
    const previous = process.umask(0o077);
    try {
      await secureDir(dir, 0o711);
    } finally {
      process.umask(previous);
    }
    expect(lstatSync(dir).mode & 0o7777).toBe(0o711);
    // Ours and not writable by others: accepted again.
    await secureDir(dir, 0o711);
  });

  it('refuses a symlink, a file, a group/other-writable directory and a missing parent, naming MINI_AGENT_WORK_DIR', async () => {
    const target = fresh();
    mkdirSync(target, { mode: 0o700 });
    const link = fresh();
    symlinkSync(target, link);
    await expect(secureDir(link, 0o711)).rejects.toThrow(/MINI_AGENT_WORK_DIR.*symlink/);
    const file = fresh();
    writeFileSync(file, '');
    await expect(secureDir(file, 0o711)).rejects.toThrow(/MINI_AGENT_WORK_DIR.*not a directory/);
    const open = fresh();
    mkdirSync(open);
    chmodSync(open, 0o777);
    await expect(secureDir(open, 0o711)).rejects.toThrow(/MINI_AGENT_WORK_DIR.*writable by group or others \(mode 777\)/);
    await expect(secureDir(join(fresh(), 'child'), 0o711)).rejects.toThrow(/MINI_AGENT_WORK_DIR.*parent directory does not exist/);
  });

  it('refuses a directory owned by another user', async () => {
    const dir = fresh();
    mkdirSync(dir, { mode: 0o711 });
    // Root can hand the directory to nobody; another user cannot, so use one we do not own then.
    if (process.getuid?.() === 0) chownSync(dir, 65534, 65534);
    const path = process.getuid?.() === 0 ? dir : '/';
    await expect(secureDir(path, 0o711)).rejects.toThrow(/MINI_AGENT_WORK_DIR.*owned by uid \d+, not by this process's uid/);
  });

  it('refuses pre-planted world-writable subdirectories of a workspace root', async () => {
    const root = fresh();
    mkdirSync(root, { mode: 0o711 });
    mkdirSync(join(root, 'sessions'));
    chmodSync(join(root, 'sessions'), 0o777);
    const ws = new WorkspaceManager(root);
    await expect(ws.session('alice', 's')).rejects.toThrow(/sessions \(MINI_AGENT_WORK_DIR\).*writable by group or others/);
  });

  it('the runtime fails at startup on an unsafe work directory, and creates an unpredictable one by default', async () => {
    const open = fresh();
    mkdirSync(open);
    chmodSync(open, 0o777);
    await expect(createToolRuntime({ sandbox: 'none', workDir: open })).rejects.toThrow(/Refusing work directory .*MINI_AGENT_WORK_DIR/);
    const a = await createWorkDir();
    const b = await createWorkDir();
    try {
      expect(a).not.toBe(b);
      expect(a).not.toContain(String(process.pid));
      expect(lstatSync(a).mode & 0o7777).toBe(0o711);
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
    const runtime = await createToolRuntime({ sandbox: 'none' });
    expect(runtime.workspaces.root).toMatch(/mini-agent-[A-Za-z0-9]{6}$/);
    await runtime.close();
  });
});
