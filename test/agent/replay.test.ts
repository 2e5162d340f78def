import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolInvoker } from '../../packages/protocol/dist/index.js';
import { readTranscript, replayTranscript, runAgent, type AgentEvent, type AgentResult } from '../../packages/agent/dist/index.js';
import { harness, lastToolResult, localTools } from './helpers.js';

const comparable = (r: AgentResult) => ({ ...r, durationMs: 0 });

describe('JSONL transcript and offline replay', () => {
  let tools: Awaited<ReturnType<typeof localTools>>;
  let dir: string;
  beforeAll(async () => {
    tools = await localTools();
    dir = await mkdtemp(join(tmpdir(), 'ma-replay-'));
  });
  afterAll(async () => {
    await tools.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('replays a recorded repair run with the model server gone and no tools: same result', async () => {
    const file = join(dir, 'repair.jsonl');
    const h = await harness([
      { status: 503, headers: { 'retry-after-ms': '20' } },
      { toolCalls: [{ name: 'exec_python', arguments: { code: 'print(1/0)' } }] },
      { toolCalls: [{ name: 'exec_python', arguments: '{"code": broken' }] },
      { toolCalls: [{ name: 'exec_python', arguments: { code: 'print(10 // 3)' } }] },
      (req) => ({ content: `answer ${lastToolResult(req.body).stdout.trim()}` }),
    ]);
    const recorded = await runAgent([{ role: 'user', content: 'divide' }], { ...h.options, tools: tools.invoker, transcript: file });
    await h.close();
    expect(recorded).toMatchObject({ stoppedReason: 'success', finalAnswer: 'answer 3' });

    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].type).toBe('run_start');
    expect(lines.at(-1)).toMatchObject({ type: 'run_end', result: { finalAnswer: 'answer 3' } });
    expect(lines.filter((l) => l.type === 'llm_retry')).toHaveLength(1);

    // Nothing is listening any more: a replay that touched the network would fail.
    const events: string[] = [];
    const replayed = await replayTranscript(file, { onEvent: (e) => void events.push(e.type) });
    expect(comparable(replayed)).toEqual(comparable(recorded));
    expect(events).not.toContain('llm_retry');
    expect(readTranscript(file).filter((e) => e.type === 'repair_injected')).toHaveLength(2);
  });

  it('replays a run stopped by its deadline inside a tool: same stop, same transcript', async () => {
    const file = join(dir, 'deadline.jsonl');
    const h = await harness([
      { toolCalls: [{ name: 'exec_shell', arguments: { cmd: 'echo first' } }] },
      { toolCalls: [{ name: 'exec_python', arguments: { code: 'import time; time.sleep(20)' } }] },
    ]);
    const recorded = await runAgent([{ role: 'user', content: 'slow' }], { ...h.options, tools: tools.invoker, transcript: file, maxWallclockMs: 1_000 });
    await h.close();
    expect(recorded.stoppedReason).toBe('budget');
    const replayed = await replayTranscript(file);
    expect(comparable(replayed)).toEqual(comparable(recorded));
    expect(replayed.durationMs).toBeLessThan(500);
  });

  it('pairs results by event order when the server reuses tool_call ids across turns', async () => {
    const file = join(dir, 'reused-ids.jsonl');
    const h = await harness([
      { toolCalls: [{ id: 'call_0', name: 'exec_shell', arguments: { cmd: 'echo one' } }] },
      { toolCalls: [{ id: 'call_0', name: 'exec_shell', arguments: { cmd: 'echo two' } }] },
      (req) => ({ content: req.body.messages.filter((m: any) => m.role === 'tool').map((m: any) => JSON.parse(m.content).stdout.trim()).join(',') }),
    ]);
    const recorded = await runAgent([{ role: 'user', content: 'twice' }], { ...h.options, tools: tools.invoker, transcript: file });
    await h.close();
    expect(recorded).toMatchObject({ stoppedReason: 'success', finalAnswer: 'one,two' });
    const replayed = await replayTranscript(file);
    expect(comparable(replayed)).toEqual(comparable(recorded));
  });

  it('fails loudly when the replayed run calls a tool with other arguments than the recording', async () => {
    const file = join(dir, 'diverge.jsonl');
    const h = await harness([{ toolCalls: [{ name: 'exec_shell', arguments: { cmd: 'echo one' } }] }, { content: 'done' }]);
    await runAgent([{ role: 'user', content: 'once' }], { ...h.options, tools: tools.invoker, transcript: file });
    await h.close();
    const events = readTranscript(file).map((e) => (e.type === 'tool_start' ? { ...e, arguments: '{"cmd":"echo other"}' } : e));
    await expect(replayTranscript(events)).rejects.toThrow(/replay diverged.*exec_shell/);
  });

  it('replays a run cancelled between a tool turn and the next model call: same iterations, no extra model request', async () => {
    const file = join(dir, 'cancel-between.jsonl');
    const h = await harness([{ toolCalls: [{ name: 'exec_shell', arguments: { cmd: 'echo once' } }] }, { content: 'never asked' }]);
    const controller = new AbortController();
    const recorded = await runAgent([{ role: 'user', content: 'stop me' }], {
      ...h.options, tools: tools.invoker, transcript: file, signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'tool_end') controller.abort();
      },
    });
    await h.close();
    expect(recorded).toMatchObject({ stoppedReason: 'cancelled', iterations: 1 });
    const events: AgentEvent[] = [];
    const replayed = await replayTranscript(file, { onEvent: (e) => void events.push(e) });
    expect(comparable(replayed)).toEqual(comparable(recorded));
    const strip = (e: AgentEvent) => ({ ...e, elapsedMs: 0, ...(e.type === 'tool_end' ? { durationMs: 0 } : {}), ...(e.type === 'run_end' ? { result: comparable(e.result) } : {}) });
    expect(events.map(strip)).toEqual(readTranscript(file).map(strip).map((e) => (e.type === 'llm_response' ? { ...e, latencyMs: expect.any(Number) } : e)));
  });

  it('replays a run that ended with a failed model call or tool listing: the same error text', async () => {
    const modelFile = join(dir, 'model-error.jsonl');
    const h = await harness([{ status: 400, message: 'bad request from the model server' }]);
    const modelFailed = await runAgent([{ role: 'user', content: 'x' }], { ...h.options, tools: tools.invoker, transcript: modelFile });
    await h.close();
    expect(modelFailed).toMatchObject({ stoppedReason: 'error', error: expect.stringContaining('bad request from the model server') });
    expect(comparable(await replayTranscript(modelFile))).toEqual(comparable(modelFailed));

    const listFile = join(dir, 'list-error.jsonl');
    const unreachable: ToolInvoker = {
      listTools: async () => {
        throw new Error('gateway unreachable');
      },
      invoke: async () => ({ text: 'never', data: { ok: true } }),
    };
    const h2 = await harness([{ content: 'never asked' }]);
    const listFailed = await runAgent([{ role: 'user', content: 'x' }], { ...h2.options, tools: unreachable, transcript: listFile });
    await h2.close();
    expect(listFailed).toMatchObject({ stoppedReason: 'error', error: 'listing tools failed: gateway unreachable' });
    expect(comparable(await replayTranscript(listFile))).toEqual(comparable(listFailed));
  });

  it('rejects a transcript without a run_start', async () => {
    await expect(replayTranscript({ text: '{"type":"run_end"}\n' })).rejects.toThrow('no run_start');
  });
});
