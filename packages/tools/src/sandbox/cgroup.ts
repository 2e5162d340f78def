import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where cgroup file systems are mounted on every mainstream distribution. */
export const CGROUP_MOUNT = '/sys/fs/cgroup';

/** A cgroup (one directory per controller on v1, one on v2) that holds one call's processes. */
export interface CallCgroup {
  /** `cgroup.procs` files the launcher writes `0` to, joining the group before anything runs. */
  procsFiles: string[];
  /** Processes the kernel's OOM killer ended in this group so far. */
  oomKills(): Promise<number>;
  /** Kills whatever is still inside and removes the directories. */
  dispose(): Promise<void>;
}

export interface CgroupLayout {
  version: 1 | 2;
  /** Directory per controller under which call groups are created (v2: both name the same one). */
  pids: string | undefined;
  memory: string | undefined;
}

/**
 * The cgroup directories this process owns (`v1`: under its own group of each controller; `v2`:
 * under its own group). Returns a reason instead when cgroups cannot be used here.
 */
export async function detectCgroups(
  name: string,
  options: { mount?: string; selfCgroup?: string } = {},
): Promise<CgroupLayout | { reason: string }> {
  const mount = options.mount ?? CGROUP_MOUNT;
  let self: string;
  try {
    self = options.selfCgroup ?? readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return { reason: '/proc/self/cgroup is not readable' };
  }
  const paths = new Map<string, string>();
  for (const line of self.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || path === undefined) continue;
    for (const c of controllers.split(',')) paths.set(c, path);
  }
  try {
    if (existsSync(join(mount, 'cgroup.controllers'))) return await setupV2(mount, paths.get('') ?? '/', name);
    return await setupV1(mount, paths, name);
  } catch (err) {
    return { reason: `cannot create cgroups under ${mount}: ${(err as Error).message}` };
  }
}

async function setupV1(mount: string, paths: Map<string, string>, name: string): Promise<CgroupLayout | { reason: string }> {
  const dirs: Partial<Record<'pids' | 'memory', string>> = {};
  for (const controller of ['pids', 'memory'] as const) {
    const own = paths.get(controller);
    const root = join(mount, controller);
    if (own === undefined || !existsSync(join(root, 'cgroup.procs'))) continue;
    const dir = join(root, own, name);
    await reapStale(dirname(dir));
    await mkdir(dir, { recursive: true });
    dirs[controller] = dir;
  }
  if (dirs.pids === undefined && dirs.memory === undefined) return { reason: 'neither the pids nor the memory cgroup v1 controller is mounted' };
  return { version: 1, pids: dirs.pids, memory: dirs.memory };
}

async function setupV2(mount: string, own: string, name: string): Promise<CgroupLayout | { reason: string }> {
  const base = join(mount, own);
  const available = (await readFile(join(base, 'cgroup.controllers'), 'utf8')).split(/\s+/);
  const wanted = ['pids', 'memory'].filter((c) => available.includes(c));
  if (wanted.length === 0) return { reason: `neither pids nor memory is delegated to ${base}` };
  const dir = join(base, name);
  await reapStale(base);
  await mkdir(dir, { recursive: true });
  const enable = wanted.map((c) => `+${c}`).join(' ');
  try {
    await writeFile(join(base, 'cgroup.subtree_control'), enable);
  } catch (err) {
    // v2 forbids controllers for children of a group that holds processes: move this process into
    // a leaf of its own first, as container init systems do, then enable them.
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
    const leaf = join(base, `${name}-gateway`);
    await mkdir(leaf, { recursive: true });
    await writeFile(join(leaf, 'cgroup.procs'), String(process.pid));
    await writeFile(join(base, 'cgroup.subtree_control'), enable);
  }
  await writeFile(join(dir, 'cgroup.subtree_control'), enable);
  return { version: 2, pids: wanted.includes('pids') ? dir : undefined, memory: wanted.includes('memory') ? dir : undefined };
}

/**
 * Removes the empty groups a gateway that died without closing left behind (`mini-agent-<pid>-<n>`
 * of a pid that no longer exists), so crashed processes do not leak cgroup directories forever.
 */
async function reapStale(parent: string): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    const pid = /^mini-agent-(\d+)(?:-\d+)?$/.exec(name)?.[1];
    if (pid === undefined || existsSync(`/proc/${pid}`)) continue;
    const dir = join(parent, name);
    for (const child of await readdir(dir).catch(() => [] as string[])) {
      if (child.startsWith('call-')) await rmdir(join(dir, child)).catch(() => {});
    }
    await rmdir(dir).catch(() => {});
  }
}

let counter = 0;

/** Creates a group for one call with `pids.max` and the memory limit (no swap) set. */
export async function createCallCgroup(layout: CgroupLayout, limits: { maxProcesses: number; memoryBytes: number }): Promise<CallCgroup> {
  const id = `call-${++counter}-${Date.now().toString(36)}`;
  const dirs: string[] = [];
  const made = async (parent: string) => {
    const dir = join(parent, id);
    await mkdir(dir);
    dirs.push(dir);
    return dir;
  };
  try {
    if (layout.version === 2) {
      const dir = await made((layout.pids ?? layout.memory)!);
      if (layout.pids) await writeFile(join(dir, 'pids.max'), String(limits.maxProcesses));
      if (layout.memory) {
        await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
        await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => {});
      }
    } else {
      if (layout.pids) await writeFile(join(await made(layout.pids), 'pids.max'), String(limits.maxProcesses));
      if (layout.memory) {
        const dir = await made(layout.memory);
        await writeFile(join(dir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
        // Without swap accounting this file is absent; with it, swap must not extend the limit.
        await writeFile(join(dir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(() => {});
      }
    }
  } catch (err) {
    await removeGroups(dirs);
    throw err;
  }
  const memoryDir = layout.memory === undefined ? undefined : dirs.find((d) => d.startsWith(layout.memory!));
  return {
    procsFiles: dirs.map((d) => join(d, 'cgroup.procs')),
    oomKills: () => (memoryDir === undefined ? Promise.resolve(0) : readOomKills(memoryDir, layout.version)),
    dispose: () => removeGroups(dirs),
  };
}

async function readOomKills(dir: string, version: 1 | 2): Promise<number> {
  const text = await readFile(join(dir, version === 2 ? 'memory.events' : 'memory.oom_control'), 'utf8').catch(() => '');
  return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
}

/** Kills every process left in the groups, then removes them; retries while the kernel reaps. */
async function removeGroups(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; ; attempt++) {
      await killMembers(dir);
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || attempt >= 100) throw err;
        await sleep(attempt < 10 ? 5 : 20);
      }
    }
  }
}

async function killMembers(dir: string): Promise<void> {
  // cgroup v2 kills the whole subtree atomically; v1 needs one signal per listed process.
  if (existsSync(join(dir, 'cgroup.kill'))) {
    await writeFile(join(dir, 'cgroup.kill'), '1').catch(() => {});
    return;
  }
  let text = '';
  try {
    text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return;
  }
  for (const pid of text.split('\n').filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Removes the directories {@link detectCgroups} made (call groups must be disposed first). */
export async function removeLayout(layout: CgroupLayout): Promise<void> {
  for (const dir of new Set([layout.pids, layout.memory])) {
    if (dir !== undefined) await rmdir(dir).catch(() => {});
  }
}
