import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/config.js';
import { diskUsage, measureUsage, MIN_ENTRY_BYTES } from '../src/sandbox/disk-usage.js';
import { prlimitArgs, validateLimits } from '../src/sandbox/limits.js';

describe('validateLimits', () => {
  it('accepts the defaults and refuses zero, fractions, NaN and absurd values, naming the limit', () => {
    expect(validateLimits({ ...DEFAULT_LIMITS })).toEqual(DEFAULT_LIMITS);
    for (const [key, value] of [['cpuSeconds', 0], ['memoryBytes', 1.5], ['maxProcesses', Number.NaN], ['openFiles', 1], ['diskBytes', -1]] as const) {
      expect(() => validateLimits({ ...DEFAULT_LIMITS, [key]: value })).toThrow(new RegExp(`\`${key}\``));
    }
  });
});

describe('prlimitArgs', () => {
  it('sets hard limits for CPU (with a second of grace), file size, descriptors and core dumps', () => {
    const args = prlimitArgs({ ...DEFAULT_LIMITS, cpuSeconds: 7, fileSizeBytes: 4096, openFiles: 32 }, { addressSpace: false, processes: false });
    expect(args).toEqual(['--cpu=7:8', '--fsize=4096', '--nofile=32', '--core=0']);
  });
});

describe('diskUsage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mini-agent-du-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts allocated bytes, at least MIN_ENTRY_BYTES per entry, without following symlinks', async () => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'data'), Buffer.alloc(256 * 1024, 1));
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, `empty-${i}`), '');
    symlinkSync('/usr', join(dir, 'link'));
    const bytes = await diskUsage(dir);
    expect(bytes).toBeGreaterThanOrEqual(256 * 1024 + 11 * MIN_ENTRY_BYTES);
    expect(bytes).toBeLessThan(1024 * 1024);
  });

  it('stops counting once past the limit', async () => {
    expect(await diskUsage(dir, 2048)).toBeLessThan(256 * 1024);
  });

  it('stops at the entry limit from the listing alone, and names the limit passed', async () => {
    const many = join(dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < 200; i++) writeFileSync(join(many, `f${i}`), '');
    const over = await measureUsage(dir, { maxBytes: 2 ** 40, maxEntries: 100 });
    expect(over.over).toBe('entries');
    expect(over.entries).toBeGreaterThan(100);
    expect((await measureUsage(dir, { maxBytes: 2 ** 40, maxEntries: 1000 })).over).toBeUndefined();
    expect((await measureUsage(dir, { maxBytes: 4096, maxEntries: 1000 })).over).toBe('bytes');
  });
});
