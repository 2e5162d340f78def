import { describe, expect, it } from 'vitest';
import { bwrapArgs, extraReadOnly, SANDBOX_WORKSPACE, type HostEntry } from '../src/sandbox/bwrap-args.js';
import { BwrapSandbox } from '../src/sandbox/bwrap.js';
import { DEFAULT_LIMITS } from '../src/config.js';

const mergedUsr = (path: string): HostEntry =>
  ({ '/bin': { kind: 'link', target: 'usr/bin' }, '/lib': { kind: 'link', target: 'usr/lib' }, '/sbin': { kind: 'dir' } })[path] ?? { kind: 'absent' };

const policy = {
  workspace: '/srv/work/calls/c-1',
  readOnly: ['/opt/python'],
  env: { PATH: '/usr/bin', HOME: SANDBOX_WORKSPACE },
  tmpBytes: 1 << 20,
  disableUserns: true,
  argv: ['/usr/bin/python3', '-c', 'print(1)'],
};

/** Pairs like `--ro-bind SRC DEST` as `SRC DEST` strings. */
function pairs(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [`${args[i + 1]} ${args[i + 2]}`] : []));
}

describe('bwrapArgs', () => {
  const args = bwrapArgs(policy, mergedUsr);

  it('unshares every namespace, drops capabilities and starts a new session that dies with its parent', () => {
    for (const flag of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv']) {
      expect(args).toContain(flag);
    }
    expect(args.join(' ')).toContain('--cap-drop ALL');
    expect(args).not.toContain('--share-net');
    expect(bwrapArgs({ ...policy, disableUserns: false }, mergedUsr)).not.toContain('--disable-userns');
  });

  it('binds /usr and the extra paths read-only, recreates merged-/usr links, and never binds / or the host /tmp', () => {
    expect(pairs(args, '--ro-bind')).toEqual(['/usr /usr', '/sbin /sbin', '/opt/python /opt/python']);
    expect(pairs(args, '--symlink')).toEqual(['usr/bin /bin', 'usr/lib /lib']);
    expect(pairs(args, '--bind')).toEqual([`${policy.workspace} ${SANDBOX_WORKSPACE}`]);
    const sources = [...pairs(args, '--ro-bind'), ...pairs(args, '--ro-bind-try'), ...pairs(args, '--bind')].map((p) => p.split(' ')[0]);
    for (const forbidden of ['/', '/etc', '/root', '/home', '/tmp', '/proc', '/sys', '/run', '/var']) expect(sources).not.toContain(forbidden);
    expect(pairs(args, '--ro-bind-try').every((p) => p.startsWith('/etc/ld.so') || p.startsWith('/etc/localtime') || p.startsWith('/etc/alternatives'))).toBe(true);
  });

  it('gives the call a size-capped /tmp and /dev/shm, and remounts everything else read-only', () => {
    expect(args.join(' ')).toContain(`--size ${policy.tmpBytes} --tmpfs /tmp`);
    expect(args.join(' ')).toContain(`--size ${policy.tmpBytes} --tmpfs /dev/shm`);
    expect(args.join(' ')).toContain('--remount-ro / --chdir /workspace');
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(args.indexOf('--bind'));
  });

  it('passes the environment with --setenv only, and the program after --', () => {
    expect(pairs(args, '--setenv')).toEqual(['PATH /usr/bin', `HOME ${SANDBOX_WORKSPACE}`]);
    expect(args.slice(args.lastIndexOf('--') + 1)).toEqual(policy.argv);
  });
});

describe('extraReadOnly', () => {
  it('keeps only paths outside the bound system dirs, outermost first', () => {
    expect(extraReadOnly(['/usr', '/usr/lib/python3.11', '/opt/py', '/opt/py/bin', '/bin', 'relative'])).toEqual(['/opt/py']);
  });
});

describe('BwrapSandbox.argv', () => {
  const tools = { bwrap: '/usr/bin/bwrap', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', sh: '/bin/sh' };
  const spec = { argv: ['/usr/bin/true'], workspace: '/w', env: {}, timeoutMs: 1000, maxOutputBytes: 100, limits: DEFAULT_LIMITS };

  it('joins the call cgroups first, sets rlimits, drops to the sandbox uid, then runs bwrap', () => {
    const sandbox = new BwrapSandbox({ tools, owner: { uid: 65534, gid: 65534 }, cgroups: { version: 1, pids: '/cg/pids/x', memory: '/cg/memory/x' }, disableUserns: true });
    const argv = sandbox.argv(spec, { procsFiles: ['/cg/pids/x/call/cgroup.procs', '/cg/memory/x/call/cgroup.procs'], oomKills: async () => 0, dispose: async () => {} });
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(argv.slice(3, 7)).toEqual(['mini-agent-join', '2', '/cg/pids/x/call/cgroup.procs', '/cg/memory/x/call/cgroup.procs']);
    const order = ['/usr/bin/prlimit', '/usr/bin/setpriv', '/usr/bin/bwrap'].map((p) => argv.indexOf(p));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(argv).toContain('--reuid=65534');
    expect(argv).toContain('--no-new-privs');
    // Memory and processes are the cgroup's job here, so no coarse rlimit stands in for them.
    expect(argv.some((a) => a.startsWith('--as=') || a.startsWith('--nproc='))).toBe(false);
  });

  it('falls back to RLIMIT_AS and RLIMIT_NPROC without cgroups, and skips setpriv when not root', () => {
    const sandbox = new BwrapSandbox({ tools: { ...tools, setpriv: undefined }, disableUserns: false });
    const argv = sandbox.argv(spec, undefined);
    expect(argv[0]).toBe('/usr/bin/prlimit');
    expect(argv).toContain(`--as=${DEFAULT_LIMITS.memoryBytes}`);
    expect(argv).toContain(`--nproc=${DEFAULT_LIMITS.maxProcesses}`);
    expect(argv).not.toContain('/usr/bin/setpriv');
  });
});
