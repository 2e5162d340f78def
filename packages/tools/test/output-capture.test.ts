import { describe, expect, it } from 'vitest';
import { OutputCapture } from '../src/sandbox/output.js';

describe('OutputCapture', () => {
  it('keeps everything under the limit', () => {
    const c = new OutputCapture(16);
    c.push(Buffer.from('hello '));
    c.push(Buffer.from('world'));
    expect(c.truncated).toBe(false);
    expect(c.text()).toBe('hello world');
  });

  it('keeps head and tail and counts what it dropped', () => {
    const c = new OutputCapture(10);
    for (const ch of 'abcdefghijklmnopqrstuvwxyz') c.push(Buffer.from(ch));
    expect(c.truncated).toBe(true);
    expect(c.totalBytes).toBe(26);
    expect(c.text()).toBe('abcde\n…[16 bytes omitted]…\nvwxyz');
  });

  it('takes the tail of one large chunk', () => {
    const c = new OutputCapture(8);
    c.push(Buffer.from('0123456789'.repeat(100)));
    expect(c.text()).toBe('0123\n…[992 bytes omitted]…\n6789');
  });

  it('holds bounded memory whatever it is fed', () => {
    const c = new OutputCapture(1024);
    const chunk = Buffer.alloc(64 * 1024, 120);
    for (let i = 0; i < 2000; i += 1) c.push(chunk);
    expect(c.totalBytes).toBe(2000 * 64 * 1024);
    expect(Buffer.byteLength(c.text())).toBeLessThan(1100);
  });
});
