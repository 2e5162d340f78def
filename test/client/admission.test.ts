import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpToolsInvoker } from '../../packages/client/dist/index.js';
import { startGateway, TOKEN, type TestGateway } from './helpers.js';

// The gateway's own admission control, not a stand-in: one slot, no queue, so a second call is 429.
describe('HttpToolsInvoker and a gateway refusing with 429 QUEUE_FULL', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway({ MINI_AGENT_MAX_CONCURRENCY: '1', MINI_AGENT_MAX_QUEUE: '0' });
  });
  afterAll(() => gateway.close());

  it('waits the Retry-After the gateway sends and runs the call once when the slot frees', async () => {
    const busy = new HttpToolsInvoker(gateway.url, { token: TOKEN });
    const holder = busy.invoke('exec_python', { code: 'import time; time.sleep(1.2)' });
    // Let the first call take the slot before the second arrives.
    await new Promise((r) => setTimeout(r, 300));

    const sessionId = `admission-${Date.now()}`;
    const before = gateway.responses.length;
    const client = new HttpToolsInvoker(gateway.url, { token: TOKEN, retries: 3 });
    const result = await client.invoke(
      'exec_python',
      { code: 'open("calls.log", "a").write("ran\\n")\nprint(open("calls.log").read().count("ran"))' },
      { sessionId },
    );
    expect(result.data).toMatchObject({ ok: true, stdout: '1\n' });
    expect((await holder).data).toMatchObject({ ok: true });
    const invokes = gateway.responses.slice(before).filter((r) => r.url === '/invoke').map((r) => r.statusCode);
    expect(invokes).toContain(429);
    expect(invokes.filter((s) => s === 200)).toHaveLength(2);

    // Without retries the same refusal reaches the caller, marked safe to repeat.
    const again = busy.invoke('exec_python', { code: 'import time; time.sleep(1)' });
    await new Promise((r) => setTimeout(r, 300));
    const err = await new HttpToolsInvoker(gateway.url, { token: TOKEN, retries: 0 })
      .invoke('exec_python', { code: 'print(1)' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 429, code: 'QUEUE_FULL', isRetryable: true });
    await again;
  });
});
