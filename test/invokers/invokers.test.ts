import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolInvoker } from '../../packages/protocol/dist/index.js';
import { HttpToolsInvoker } from '../../packages/client/dist/index.js';
import { localTools } from '../agent/helpers.js';
import { sleeperCode, startGateway, TOKEN, treeGone, treeStarted } from '../client/helpers.js';

interface Subject {
  invoker: ToolInvoker;
  close(): Promise<void>;
}

// One behavioural suite, two invokers: whatever an agent observes must not depend on which it holds.
const subjects: { name: string; start(): Promise<Subject> }[] = [
  {
    name: 'LocalToolsInvoker',
    start: localTools,
  },
  {
    name: 'HttpToolsInvoker',
    async start() {
      const gateway = await startGateway();
      return { invoker: new HttpToolsInvoker(gateway.url, { token: TOKEN }), close: gateway.close };
    },
  },
];

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected the call to be refused');
}

describe.each(subjects)('$name', ({ start }) => {
  let subject: Subject;
  let tools: ToolInvoker;
  beforeAll(async () => {
    subject = await start();
    tools = subject.invoker;
  });
  afterAll(() => subject.close());

  it('lists the exec tools as OpenAI function tools sorted by name', async () => {
    const list = await tools.listTools();
    const names = list.map((t) => t.function.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['exec_python', 'exec_shell']));
    const python = list.find((t) => t.function.name === 'exec_python');
    expect(python?.type).toBe('function');
    expect(python?.function.parameters).toMatchObject({ type: 'object', required: ['code'], additionalProperties: false });
    // A caller editing its copy must not change what the next call returns.
    python!.function.name = 'mutated';
    expect((await tools.listTools()).map((t) => t.function.name)).toContain('exec_python');
  });

  it('runs exec_python with object arguments and returns {text, data}', async () => {
    const result = await tools.invoke('exec_python', { code: 'print(6 * 7)' });
    expect(result.data).toMatchObject({ ok: true, rc: 0, signal: null, stdout: '42\n', stderr: '', timed_out: false, truncated: false });
    expect(JSON.parse(result.text)).toEqual({ ok: true, rc: 0, stdout: '42\n', stderr: '' });
  });

  it('accepts arguments as the JSON string an OpenAI tool_call carries', async () => {
    const result = await tools.invoke('exec_shell', JSON.stringify({ cmd: 'echo a "b c"' }));
    expect(result.data).toMatchObject({ ok: true, stdout: 'a b c\n' });
  });

  it('returns a run that fails as a result with ok: false', async () => {
    const result = await tools.invoke('exec_python', { code: 'import sys; print("boom", file=sys.stderr); sys.exit(3)' });
    expect(result.data).toMatchObject({ ok: false, rc: 3, stderr: 'boom\n' });
  });

  it("returns a run stopped by the tool's own timeout_s as timed_out", async () => {
    const result = await tools.invoke('exec_python', { code: 'import time; time.sleep(5)', timeout_s: 0.3 });
    expect(result.data).toMatchObject({ ok: false, timed_out: true });
  });

  it('refuses an unknown tool with TOOL_NOT_FOUND listing the tools', async () => {
    const err = await codeOf(tools.invoke('exec_rust', {}));
    expect(err.code).toBe('TOOL_NOT_FOUND');
    expect(err.message).toContain('exec_python');
  });

  it('refuses bad arguments with INVALID_ARGUMENTS naming the field', async () => {
    expect(await codeOf(tools.invoke('exec_python', {}))).toMatchObject({ code: 'INVALID_ARGUMENTS', message: expect.stringContaining('code') });
    expect(await codeOf(tools.invoke('exec_python', { code: 'print(1)', shell: true }))).toMatchObject({
      code: 'INVALID_ARGUMENTS',
      message: expect.stringContaining('shell'),
    });
    expect(await codeOf(tools.invoke('exec_python', '{"code": '))).toMatchObject({ code: 'INVALID_ARGUMENTS', message: expect.stringContaining('JSON') });
  });

  it('refuses a command off the allowlist with COMMAND_NOT_ALLOWED', async () => {
    const err = await codeOf(tools.invoke('exec_shell', { cmd: 'bash -c "echo pwned"' }));
    expect(err.code).toBe('COMMAND_NOT_ALLOWED');
    expect(err.message).toContain('echo');
  });

  it('refuses a malformed session id with INVALID_SESSION', async () => {
    expect((await codeOf(tools.invoke('exec_python', { code: 'print(1)' }, { sessionId: 'bad id!' }))).code).toBe('INVALID_SESSION');
  });

  it('keeps a session workspace between calls, and gives other calls a fresh one', async () => {
    const sessionId = `s-${Math.random().toString(36).slice(2)}`;
    await tools.invoke('exec_python', { code: 'open("note.txt", "w").write("kept")' }, { sessionId });
    const again = await tools.invoke('exec_shell', { cmd: 'cat note.txt' }, { sessionId });
    expect(again.data).toMatchObject({ ok: true, stdout: 'kept' });
    const fresh = await tools.invoke('exec_shell', { cmd: 'cat note.txt' });
    expect(fresh.data).toMatchObject({ ok: false });
  });

  it('aborting a call mid-run ends it with ABORTED and kills its processes', async () => {
    const marker = `abort-${Math.random().toString(36).slice(2)}`;
    const controller = new AbortController();
    const call = codeOf(tools.invoke('exec_python', { code: sleeperCode(marker), timeout_s: 30 }, { signal: controller.signal }));
    await treeStarted(marker);
    const started = Date.now();
    controller.abort();
    expect((await call).code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(2000);
    await treeGone(marker);
  });

  it('a call past its timeoutMs ends with TIMEOUT and kills its processes', async () => {
    const marker = `timeout-${Math.random().toString(36).slice(2)}`;
    const call = codeOf(tools.invoke('exec_python', { code: sleeperCode(marker), timeout_s: 30 }, { timeoutMs: 1000 }));
    await treeStarted(marker);
    expect((await call).code).toBe('TIMEOUT');
    await treeGone(marker);
  });

  it('an already aborted signal runs nothing', async () => {
    const sessionId = `s-${Math.random().toString(36).slice(2)}`;
    const err = await codeOf(
      tools.invoke('exec_python', { code: 'open("ran.txt", "w").write("1")' }, { sessionId, signal: AbortSignal.abort() }),
    );
    expect(err.code).toBe('ABORTED');
    const check = await tools.invoke('exec_python', { code: 'import os; print(os.path.exists("ran.txt"))' }, { sessionId });
    expect(check.data).toMatchObject({ stdout: 'False\n' });
  });
});
