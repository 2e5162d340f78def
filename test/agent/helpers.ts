import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FunctionTool, InvokeOptions, InvokeResult, ListToolsOptions, ToolInvoker } from '../../packages/protocol/dist/index.js';
import { LocalToolsInvoker } from '../../packages/tools/dist/index.js';
import type { AgentEvent, AgentOptions } from '../../packages/agent/dist/index.js';
import { startFakeLlm, type FakeLlm, type Script, type Step } from '../fake-llm/server.js';

/** The real tools in-process (real subprocesses) in a throwaway work directory. */
export async function localTools(): Promise<{ invoker: LocalToolsInvoker; close(): Promise<void> }> {
  const workDir = await mkdtemp(join(tmpdir(), 'ma-agent-test-'));
  // The sandbox runs code as an unprivileged uid, which must be able to enter the work directory.
  await chmod(workDir, 0o711);
  const invoker = new LocalToolsInvoker({ workDir });
  return {
    invoker,
    close: async () => {
      await invoker.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** Documents the deterministic research tool answers from. */
export const RESEARCH_FACTS: Record<string, string> = {
  'zorblax constant': 'The zorblax constant is 1729.',
};

/**
 * The local tools plus a deterministic `research_lookup` tool, behind the same ToolInvoker
 * interface the agent uses (tests only: real research tools need network access).
 */
export class ResearchInvoker implements ToolInvoker {
  readonly calls: string[] = [];
  constructor(readonly inner: ToolInvoker) {}

  async listTools(options?: ListToolsOptions): Promise<FunctionTool[]> {
    const research: FunctionTool = {
      type: 'function',
      function: {
        name: 'research_lookup',
        description: 'Looks a topic up in the reference notes.',
        parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false },
      },
    };
    return [...(await this.inner.listTools(options)), research].sort((a, b) => a.function.name.localeCompare(b.function.name));
  }

  async invoke(name: string, args?: string | Record<string, unknown>, options?: InvokeOptions): Promise<InvokeResult> {
    if (name !== 'research_lookup') return this.inner.invoke(name, args, options);
    const parsed = typeof args === 'string' ? JSON.parse(args) : args ?? {};
    const query = String(parsed.query ?? '').toLowerCase();
    this.calls.push(query);
    const hit = Object.entries(RESEARCH_FACTS).find(([k]) => query.includes(k));
    const text = hit === undefined ? 'no results' : hit[1];
    return { text, data: { ok: hit !== undefined, query } };
  }
}

/** The text of the last message of a recorded request. */
export function lastMessage(body: { messages: Array<{ role: string; content: unknown }> }): { role: string; content: string } {
  const m = body.messages.at(-1)!;
  return { role: m.role, content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content) };
}

/** The last tool message's parsed content in a recorded request. */
export function lastToolResult(body: { messages: Array<{ role: string; content: unknown }> }): Record<string, any> {
  const m = [...body.messages].reverse().find((x) => x.role === 'tool')!;
  return JSON.parse(String(m.content));
}

/** A fake model plus an event log, closed together. */
export async function harness(steps: Array<Step | Script> = []): Promise<{
  fake: FakeLlm;
  events: AgentEvent[];
  options: Pick<AgentOptions, 'llm' | 'model' | 'onEvent'>;
  close(): Promise<void>;
}> {
  const fake = await startFakeLlm(steps);
  const events: AgentEvent[] = [];
  return {
    fake,
    events,
    options: { llm: { baseURL: fake.baseURL, apiKey: 'sk-test' }, model: 'fake-model', onEvent: (e) => void events.push(e) },
    close: () => fake.close(),
  };
}
