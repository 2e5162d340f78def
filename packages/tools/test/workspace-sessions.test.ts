import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ToolError } from '../src/errors.js';
import { WorkspaceManager } from '../src/workspace.js';

const base = mkdtempSync(join(tmpdir(), 'mini-agent-ws-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const root = () => join(base, `r${++n}`);

describe('WorkspaceManager sessions', () => {
  it('keeps a session between calls and separates principals using the same id', async () => {
    const ws = new WorkspaceManager(root());
    const a = await ws.session('alice', 's1');
    writeFileSync(join(a.path, 'note'), 'alice');
    await a.release();
    const again = await ws.session('alice', 's1');
    expect(again.path).toBe(a.path);
    expect(readdirSync(again.path)).toEqual(['note']);
    await again.release();
    const b = await ws.session('bob', 's1');
    expect(b.path).not.toBe(a.path);
    expect(readdirSync(b.path)).toEqual([]);
    await b.release();
    await ws.close();
    expect(existsSync(ws.root)).toBe(false);
  });

  it('removes a fresh workspace on release and makes the sandbox owner its owner', async () => {
    const ws = new WorkspaceManager(root(), { owner: { uid: 65534, gid: 65534 } });
    const fresh = await ws.fresh();
    expect(statSync(fresh.path).uid).toBe(process.getuid?.() === 0 ? 65534 : statSync(ws.root).uid);
    // The sandbox user only traverses the shared directories; it cannot list other workspaces.
    expect(statSync(join(ws.root, 'calls')).mode & 0o777).toBe(0o711);
    await fresh.release();
    expect(existsSync(fresh.path)).toBe(false);
    await ws.close();
  });

  it('runs calls on one session one at a time, in arrival order', async () => {
    const ws = new WorkspaceManager(root());
    const order: string[] = [];
    const first = await ws.session('alice', 's');
    const second = ws.session('alice', 's').then(async (w) => {
      order.push('second');
      await w.release();
    });
    // Another session is not held up by this one.
    const other = await ws.session('alice', 'other');
    await other.release();
    await new Promise((r) => setTimeout(r, 30));
    order.push('first done');
    await first.release();
    await second;
    expect(order).toEqual(['first done', 'second']);
    await ws.close();
  });

  it('deletes idle sessions after the TTL, never one in use (injectable clock)', async () => {
    let now = 1_000_000;
    const ws = new WorkspaceManager(root(), { sessionTtlS: 60, now: () => now });
    const idle = await ws.session('alice', 'idle');
    writeFileSync(join(idle.path, 'f'), 'x');
    await idle.release();
    const busy = await ws.session('alice', 'busy');
    now += 59_000;
    expect(await ws.sweep()).toBe(0);
    now += 2_000;
    expect(await ws.sweep()).toBe(1);
    expect(existsSync(idle.path)).toBe(false);
    expect(existsSync(busy.path)).toBe(true);
    await busy.release();
    now += 61_000;
    expect(await ws.sweep()).toBe(1);
    expect(ws.sessionCount).toBe(0);
    const back = await ws.session('alice', 'idle');
    expect(readdirSync(back.path)).toEqual([]);
    await back.release();
    await ws.close();
  });

  it('refuses runs on a session left over its quota until it is deleted', async () => {
    const ws = new WorkspaceManager(root(), { sessionQuotaBytes: 64 * 1024 });
    const w = await ws.session('alice', 'q');
    writeFileSync(join(w.path, 'big'), Buffer.alloc(128 * 1024, 1));
    await w.release();
    const refused = await ws.session('alice', 'q').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ToolError);
    expect((refused as ToolError).code).toBe('SESSION_OVER_QUOTA');
    expect((refused as ToolError).statusCode).toBe(409);
    expect((refused as ToolError).message).toMatch(/over its quota of 65536.*DELETE \/sessions\/q/);
    expect(await ws.deleteSession('alice', 'q')).toBe(true);
    expect(await ws.deleteSession('alice', 'q')).toBe(false);
    const fresh = await ws.session('alice', 'q');
    expect(readdirSync(fresh.path)).toEqual([]);
    await fresh.release();
    await ws.close();
  });

  it('refuses runs on a session left holding more files than its limit', async () => {
    const ws = new WorkspaceManager(root(), { sessionMaxFiles: 50 });
    const w = await ws.session('alice', 'files');
    for (let i = 0; i < 60; i++) writeFileSync(join(w.path, `e${i}`), '');
    await w.release();
    const refused = await ws.session('alice', 'files').catch((err: unknown) => err);
    expect((refused as ToolError).code).toBe('SESSION_OVER_QUOTA');
    expect((refused as ToolError).message).toMatch(/more than 50 files.*DELETE \/sessions\/files/);
    await ws.deleteSession('alice', 'files');
    await (await ws.session('alice', 'files')).release();
    await ws.close();
  });

  it('caps the sessions one principal holds; deleting one makes room, other principals are not affected', async () => {
    const ws = new WorkspaceManager(root(), { maxSessionsPerPrincipal: 3 });
    for (const id of ['a', 'b', 'c']) await (await ws.session('alice', id)).release();
    // An existing session is still served at the cap.
    await (await ws.session('alice', 'b')).release();
    const refused = await ws.session('alice', 'd').catch((err: unknown) => err);
    expect((refused as ToolError).code).toBe('SESSION_OVER_QUOTA');
    expect((refused as ToolError).statusCode).toBe(409);
    expect((refused as ToolError).message).toMatch(/3 sessions are open.*MINI_AGENT_MAX_SESSIONS_PER_PRINCIPAL.*DELETE \/sessions\//);
    await (await ws.session('bob', 'd')).release();
    expect(await ws.deleteSession('alice', 'a')).toBe(true);
    await (await ws.session('alice', 'd')).release();
    expect(ws.sessionCount).toBe(4);
    await ws.close();
  });

  it('deleting waits for the call running on the session', async () => {
    const ws = new WorkspaceManager(root());
    const w = await ws.session('alice', 'd');
    writeFileSync(join(w.path, 'f'), 'x');
    let deleted = false;
    const deletion = ws.deleteSession('alice', 'd').then(() => {
      deleted = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(deleted).toBe(false);
    expect(existsSync(join(w.path, 'f'))).toBe(true);
    await w.release();
    await deletion;
    expect(existsSync(w.path)).toBe(false);
    await ws.close();
  });
});
