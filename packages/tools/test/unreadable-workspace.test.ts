import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runExec, type ExecEnvironment } from '../src/exec/run-exec.js';
import { DEFAULT_LIMITS } from '../src/config.js';
import { NoSandbox } from '../src/sandbox/none.js';
import type { WorkspaceManager } from '../src/workspace.js';

const dist = (file: string) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));
const base = mkdtempSync(join(tmpdir(), 'mini-agent-unreadable-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/**
 * Runs an ES module as a non-root uid in `dir`, the way sandboxed code runs as a non-root gateway's
 * own uid: root reads and removes anything, so the failure only shows without it.
 */
function asNonRoot(dir: string, script: string): string {
  if (isRoot) chownSync(dir, NOBODY, NOBODY);
  const node = process.execPath;
  const argv = [node, '--input-type=module', '-e', script];
  const [file, ...args] = isRoot ? ['/usr/bin/setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv] : argv;
  const out = spawnSync(file!, args, { cwd: dir, encoding: 'utf8', timeout: 10_000 });
  expect(out.stderr).toBe('');
  return out.stdout.trim();
}

/** A tree a non-root owner cannot list or empty: `hide` is write+search only, `hide/deep` mode 0. */
const LOCK_TREE = [
  "import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';",
  "mkdirSync('t/hide/deep', { recursive: true });",
  "writeFileSync('t/hide/deep/f', 'x'.repeat(100000));",
  "chmodSync('t/hide/deep', 0);",
  "chmodSync('t/hide', 0o300);",
].join('\n');

describe('a workspace with directories its owner made unreadable', () => {
  it('counts as over quota: what it holds cannot be measured', () => {
    const dir = mkdtempSync(join(base, 'm-'));
    const out = asNonRoot(
      dir,
      `${LOCK_TREE}\nimport { measureUsage } from '${dist('sandbox/disk-usage.js')}';\n` +
        "const u = await measureUsage('t', { maxBytes: 2 ** 40, maxEntries: 1e6 });\nconsole.log(u.over);",
    );
    expect(out).toBe('unreadable');
  });

  it('is removed anyway: directories are made u+rwx when rm is refused', () => {
    const dir = mkdtempSync(join(base, 'r-'));
    const out = asNonRoot(
      dir,
      `${LOCK_TREE}\nimport { removeTree } from '${dist('remove-tree.js')}';\n` +
        "await removeTree('t');\nconsole.log(existsSync('t') ? 'left' : 'removed');",
    );
    expect(out).toBe('removed');
  });

  it('a release that fails never replaces the result of the run', async () => {
    const path = mkdtempSync(join(base, 'w-'));
    const warnings: string[] = [];
    const workspaces = {
      fresh: async () => ({
        path,
        release: async () => {
          throw Object.assign(new Error(`EACCES: permission denied, scandir '${path}/hide'`), { code: 'EACCES' });
        },
      }),
    } as unknown as WorkspaceManager;
    const env: ExecEnvironment = {
      sandbox: new NoSandbox(),
      workspaces,
      limits: { ...DEFAULT_LIMITS },
      defaultTimeoutS: 5,
      maxTimeoutS: 5,
      maxOutputBytes: 4096,
      onWarning: (message) => warnings.push(message),
    };
    const result = await runExec(env, { argv: ['/bin/echo', 'kept'] }, { principal: 'alice' });
    expect(result.data).toMatchObject({ ok: true, rc: 0, stdout: 'kept\n' });
    expect(warnings).toEqual([expect.stringMatching(/could not release workspace .*EACCES/)]);
  });
});
