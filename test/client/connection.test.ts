import { describe, expect, it } from 'vitest';
import { HttpToolsInvoker } from '../../packages/client/dist/index.js';
import { refusal, startGateway, startServer, TOKEN } from './helpers.js';

// Each test owns its gateway, started and closed within it.
describe('HttpToolsInvoker connections', () => {
  it('reuses one kept-alive connection for successive calls', async () => {
    const own = await startGateway();
    try {
      const fresh = new HttpToolsInvoker(own.url, { token: TOKEN });
      await fresh.listTools();
      for (let i = 0; i < 5; i++) await fresh.invoke('exec_python', { code: `print(${i})` });
      // Revalidations answered 304 keep the connection too.
      await fresh.listTools();
      await fresh.listTools();
      expect(own.responses).toHaveLength(8);
      expect(own.connections()).toBe(1);
    } finally {
      await own.close();
    }
  });

  it('retries a refused connection until the gateway is up', async () => {
    // Take a free port, release it, and start the gateway there only after the first attempts fail.
    const probe = await startServer(() => {});
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const late = new HttpToolsInvoker(`http://127.0.0.1:${port}`, { token: TOKEN, retries: 8, retryBaseMs: 100 });
    const call = late.invoke('exec_python', { code: 'print("up")' });
    await new Promise((r) => setTimeout(r, 300));
    const own = await startGateway({}, port);
    try {
      expect((await call).data).toMatchObject({ ok: true, stdout: 'up\n' });
      expect(own.responses.filter((r) => r.url === '/invoke')).toHaveLength(1);
    } finally {
      await own.close();
    }
    const err = await refusal(new HttpToolsInvoker(`http://127.0.0.1:${port}`, { retries: 0 }).listTools());
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', isRetryable: true });
    expect(err.message).toContain('ECONNREFUSED');
  });

});
