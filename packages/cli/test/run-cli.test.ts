import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, resolveConfig } from '@mini-agent/gateway';
import { startFakeLlm, type FakeLlm, type Script, type Step } from '../../../test/fake-llm/server.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const TOKEN = 'tok-run-cli-0123456789';

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

/** A task that needs a repair step: the first program fails, the model must read the error and fix it. */
function repairScript(): Array<Step | Script> {
  return [
    { toolCalls: [{ name: 'exec_python', arguments: { code: 'import math\nprint(math.factorial("10"))' } }] },
    (req) => {
      const last = req.body.messages.at(-1);
      if (last.role !== 'user' || !String(last.content).includes('TypeError')) return { content: 'no repair observation' };
      return { toolCalls: [{ name: 'exec_python', arguments: { code: 'import math\nprint(math.factorial(10))' } }] };
    },
    (req) => {
      const tool = [...req.body.messages].reverse().find((m: any) => m.role === 'tool');
      return { content: `10! = ${JSON.parse(tool.content).stdout.trim()}` };
    },
  ];
}

describe('mini-agent run', () => {
  let fake: FakeLlm;
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ma-run-cli-'));
    await chmod(dir, 0o711);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const withFake = async (steps: Array<Step | Script>, body: () => Promise<void>): Promise<void> => {
    fake = await startFakeLlm(steps);
    env = { OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'sk-test', TMPDIR: dir };
    try {
      await body();
    } finally {
      await fake.close();
    }
  };

  it('--local --json: solves a task that needs a repair step; stdout is only the AgentResult', () =>
    withFake(repairScript(), async () => {
      const transcript = join(dir, 'run.jsonl');
      const r = await cli(['run', 'Compute 10 factorial.', '--local', '--json', '--model', 'fake-model', '--transcript', transcript], env);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const result = JSON.parse(lines[0]!);
      expect(result).toMatchObject({ stoppedReason: 'success', finalAnswer: '10! = 3628800', iterations: 3 });
      expect(result.messages.filter((m: any) => m.role === 'user').map((m: any) => m.content)).toEqual([
        'Compute 10 factorial.', expect.stringContaining('TypeError'),
      ]);
      expect(fake.rejected).toEqual([]);
      expect(fake.chatRequests[0]!.headers.authorization).toBe('Bearer sk-test');
      const events = (await readFile(transcript, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).type);
      expect(events[0]).toBe('run_start');
      expect(events.at(-1)).toBe('run_end');
      expect(events).toContain('repair_injected');
    }));

  it('--gateway: the same task through a real gateway, steps shown live on stderr, the answer on stdout', async () => {
    const workDir = await mkdtemp(join(dir, 'gw-'));
    await chmod(workDir, 0o711);
    const app = await buildApp(resolveConfig({
      MINI_AGENT_TOKENS: `cli:${TOKEN}`, MINI_AGENT_WORK_DIR: workDir, MINI_AGENT_LOG_LEVEL: 'silent', MINI_AGENT_SHUTDOWN_GRACE_S: '0',
    }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      await withFake(repairScript(), async () => {
        const r = await cli(['run', 'Compute 10 factorial.', '--gateway', url, '--token', TOKEN, '--model', 'fake-model'], env);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe('10! = 3628800\n');
        expect(r.stderr).toContain('→ exec_python');
        expect(r.stderr).toContain('✗ exec_python');
        expect(r.stderr).toContain('repair directive sent');
        expect(r.stderr).toMatch(/\[success; 3 iterations, 45 tokens, [\d.]+ s\]/);
        expect(fake.rejected).toEqual([]);
      });
    } finally {
      await app.close();
    }
  });

  it('a model answer the agent cannot read is a failed run (exit 3), not bad usage', () =>
    withFake([{ raw: { id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop' }] } }], async () => {
      const r = await cli(['run', 'task', '--local', '--json', '--model', 'm'], env);
      expect(r.code, r.stderr).toBe(3);
      expect(JSON.parse(r.stdout)).toMatchObject({ stoppedReason: 'error', error: expect.stringContaining('without a message') });
    }));

  it('exits 3 when the run stops without an answer, 2 on bad usage', () =>
    withFake([{ toolCalls: [{ name: 'exec_shell', arguments: { cmd: 'echo a' } }] }], async () => {
      const stopped = await cli(['run', 'loop', '--local', '--json', '--model', 'm', '--max-iterations', '1'], env);
      expect(stopped.code).toBe(3);
      expect(JSON.parse(stopped.stdout)).toMatchObject({ stoppedReason: 'max_iterations', iterations: 1 });
      const noModel = await cli(['run', 'task', '--local'], env);
      expect(noModel.code).toBe(2);
      expect(noModel.stderr).toContain('missing `--model <name>`');
      const badN = await cli(['run', 'task', '--local', '--model', 'm', '--max-iterations', 'zero'], env);
      expect(badN.code).toBe(2);
      expect(badN.stderr).toContain('Expected `--max-iterations` to be a positive integer');
    }));
});
