import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpToolsInvoker } from '../../packages/client/dist/index.js';
import { processesWith, startGateway, TOKEN, waitFor, type TestGateway } from './helpers.js';

/** Starts a call that holds the only run slot for `seconds`, and resolves once it is running. */
async function holdSlot(client: HttpToolsInvoker, seconds: number) {
  const marker = `hold-${Math.random().toString(36).slice(2)}`;
  const call = client.invoke('exec_python', { code: `import time; time.sleep(${seconds})  # ${marker}` });
  await waitFor(async () => (await processesWith(marker)).length > 0, 10_000, 'the slot holder to run');
  // Wrapped: an async function returning the promise itself would wait for the whole call.
  return { done: call };
}

// The gateway's own admission control, not a stand-in: one slot, no queue, so a second call is 429.
describe('HttpToolsInvoker and a gateway refusing with 429 QUEUE_FULL', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway({ MINI_AGENT_MAX_CONCURRENCY: '1', MINI_AGENT_MAX_QUEUE: '0' });
  });
  afterAll(() => gateway.close());

  it('waits the Retry-After the gateway sends and runs the call once when the slot frees', async () => {
    const busy = new HttpToolsInvoker(gateway.url, { token: TOKEN });
    const holder = await holdSlot(busy, 1.2);

    const sessionId = `admission-${Date.now()}`;
    const before = gateway.responses.length;
    const client = new HttpToolsInvoker(gateway.url, { token: TOKEN, retries: 3 });
    const result = await client.invoke(
      'exec_python',
      { code: 'open("calls.log", "a").write("ran\\n")\nprint(open("calls.log").read().count("ran"))' },
      { sessionId },
    );
    expect(result.data).toMatchObject({ ok: true, stdout: '1\n' });
    expect((await holder.done).data).toMatchObject({ ok: true });
    const invokes = gateway.responses.slice(before).filter((r) => r.url === '/invoke').map((r) => r.statusCode);
    expect(invokes).toContain(429);
    expect(invokes.filter((s) => s === 200)).toHaveLength(2);

    // Without retries the same refusal reaches the caller, marked safe to repeat.
    const again = await holdSlot(busy, 1);
    const err = await new HttpToolsInvoker(gateway.url, { token: TOKEN, retries: 0 })
      .invoke('exec_python', { code: 'print(1)' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 429, code: 'QUEUE_FULL', isRetryable: true });
    await again.done;
  });
});
