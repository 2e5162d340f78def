import { afterEach, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { Admission, type AdmissionOptions, type Release } from '../src/admission.js';
import { DEFAULT_MAX_QUEUE, DEFAULT_QUEUE_TIMEOUT_S, DEFAULT_RATE_LIMIT_PER_MINUTE, resolveConfig } from '../src/config.js';

const never = new AbortController().signal;

const created: Admission[] = [];
// Calls a test leaves waiting are refused by close(); nobody awaits them.
afterEach(() => {
  for (const a of created.splice(0)) a.close();
});

function admission(options: Partial<AdmissionOptions> = {}): Admission {
  const a = new Admission({ maxConcurrency: 1, maxConcurrencyPerPrincipal: 1, maxQueue: 16, queueTimeoutMs: 10_000, ...options });
  created.push(a);
  return a;
}

/** Queues a call and records, in `order`, when it is admitted. */
function queue(a: Admission, principal: string, label: string, order: string[], signal = never) {
  const p = a.acquire(principal, signal).then((release) => {
    order.push(label);
    return release;
  });
  p.catch(() => {});
  return p;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Admission', () => {
  it('runs up to the global limit at once and starts a waiting call when a slot frees', async () => {
    const a = admission({ maxConcurrency: 2, maxConcurrencyPerPrincipal: 2 });
    const r1 = await a.acquire('alice', never);
    await a.acquire('alice', never);
    expect(a.running).toBe(2);
    const order: string[] = [];
    const third = queue(a, 'alice', 'third', order);
    await tick();
    expect(order).toEqual([]);
    expect(a.queued).toBe(1);
    r1();
    r1(); // a second release must not free a second slot
    await third;
    expect(order).toEqual(['third']);
    expect(a.running).toBe(2);
    expect(a.queued).toBe(0);
  });

  it('answers QUEUE_FULL with a Retry-After hint once the queue is full', async () => {
    const a = admission({ maxQueue: 1 });
    await a.acquire('alice', never);
    void queue(a, 'alice', 'second', []);
    const err = await a.acquire('alice', never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'QUEUE_FULL', statusCode: 429 });
    expect((err as { retryAfterS: number }).retryAfterS).toBeGreaterThanOrEqual(1);
    expect(a.queued).toBe(1);
  });

  it('refuses at once when the queue has no room at all', async () => {
    const a = admission({ maxQueue: 0 });
    await a.acquire('alice', never);
    await expect(a.acquire('bob', never)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
  });

  it('answers QUEUE_TIMEOUT when no slot frees in time, and forgets the call', async () => {
    const a = admission({ queueTimeoutMs: 50 });
    const release = await a.acquire('alice', never);
    const started = performance.now();
    const err = await a.acquire('bob', never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'QUEUE_TIMEOUT', statusCode: 429 });
    expect((err as { retryAfterS: number }).retryAfterS).toBeGreaterThanOrEqual(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(a.queued).toBe(0);
    release();
    expect(a.running).toBe(0);
  });

  it('holds a principal at its own limit while another runs in the free slot', async () => {
    const a = admission({ maxConcurrency: 3, maxConcurrencyPerPrincipal: 2 });
    await a.acquire('alice', never);
    await a.acquire('alice', never);
    const order: string[] = [];
    void queue(a, 'alice', 'alice-3', order);
    const bob = await a.acquire('bob', never);
    await tick();
    expect(order).toEqual([]);
    expect(a.runningOf('alice')).toBe(2);
    expect(a.runningOf('bob')).toBe(1);
    // A freed slot of bob's cannot go to alice: she is at her limit.
    bob();
    await tick();
    expect(order).toEqual([]);
    expect(a.running).toBe(2);
  });

  it('hands freed slots round-robin across principals, not first come first served', async () => {
    const a = admission();
    let release = await a.acquire('alice', never);
    const order: string[] = [];
    const calls = new Map<string, Promise<Release>>();
    for (const [principal, label] of [['alice', 'a2'], ['alice', 'a3'], ['alice', 'a4'], ['bob', 'b1'], ['bob', 'b2'], ['carol', 'c1']] as const) {
      calls.set(label, queue(a, principal, label, order));
    }
    for (let i = 0; i < 6; i++) {
      release();
      await tick();
      expect(order).toHaveLength(i + 1);
      release = await calls.get(order[i]!)!;
    }
    expect(order).toEqual(['a2', 'b1', 'c1', 'a3', 'b2', 'a4']);
  });

  it('lets a newcomer push out the newest call of the principal holding most of a full queue', async () => {
    const a = admission({ maxQueue: 3 });
    const release = await a.acquire('flood', never);
    const order: string[] = [];
    const flood = [1, 2, 3].map((i) => queue(a, 'flood', `flood-${i}`, order));
    const bob = queue(a, 'bob', 'bob', order);
    await expect(flood[2]).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect(a.queuedOf('flood')).toBe(2);
    expect(a.queuedOf('bob')).toBe(1);
    // Now bob would hold as many as the flood: no more pushing out.
    await expect(a.acquire('bob', never)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    await expect(a.acquire('flood', never)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    // Round-robin from here: the flood's oldest call, then bob's.
    release();
    await tick();
    expect(order).toEqual(['flood-1']);
    (await flood[0]!)();
    await bob;
    expect(order).toEqual(['flood-1', 'bob']);
  });

  it('removes a waiting call whose client went away', async () => {
    const a = admission();
    const release = await a.acquire('alice', never);
    const gone = new AbortController();
    const waiting = a.acquire('bob', gone.signal);
    expect(a.queued).toBe(1);
    gone.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    expect(a.queued).toBe(0);
    release();
    expect(a.running).toBe(0);
  });

  it('refuses waiting and later calls with SHUTTING_DOWN once closed; runs in progress keep their slots', async () => {
    const a = admission();
    const release: Release = await a.acquire('alice', never);
    const waiting = a.acquire('bob', never);
    a.close();
    await expect(waiting).rejects.toMatchObject({ code: 'SHUTTING_DOWN', statusCode: 503 });
    await expect(a.acquire('carol', never)).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(a.running).toBe(1);
    release();
    expect(a.running).toBe(0);
  });

  it('reports every refusal by reason and principal', async () => {
    const a = admission({ maxQueue: 0 });
    const seen: string[] = [];
    a.onRefuse = (reason, principal) => seen.push(`${reason}:${principal}`);
    await a.acquire('alice', never);
    await a.acquire('bob', never).catch(() => {});
    a.close();
    await a.acquire('carol', never).catch(() => {});
    expect(seen).toEqual(['QUEUE_FULL:bob', 'SHUTTING_DOWN:carol']);
  });

  it('rejects unusable limits', () => {
    expect(() => admission({ maxConcurrency: 0 })).toThrow(/`maxConcurrency` to be a number >= 1/);
    expect(() => admission({ maxQueue: Number.NaN })).toThrow(/`maxQueue`/);
  });
});

describe('admission settings', () => {
  const two = { MINI_AGENT_TOKENS: 'alice:alice-token-0123456789,bob:bob-token-0123456789' };

  it('defaults to one run per CPU, a bounded queue, and half the slots per principal when there are several', () => {
    const one = resolveConfig({});
    expect(one.maxConcurrency).toBe(availableParallelism());
    expect(one.maxConcurrencyPerPrincipal).toBe(one.maxConcurrency);
    expect(one.maxQueue).toBe(DEFAULT_MAX_QUEUE);
    expect(one.queueTimeoutS).toBe(DEFAULT_QUEUE_TIMEOUT_S);
    expect(one.rateLimitPerMinute).toBe(DEFAULT_RATE_LIMIT_PER_MINUTE);
    expect(one.principalTools.size).toBe(0);
    expect(one.metricsToken).toBeUndefined();
    const shared = resolveConfig({ ...two, MINI_AGENT_MAX_CONCURRENCY: '5' });
    expect(shared.maxConcurrencyPerPrincipal).toBe(3);
  });

  it('parses per-principal tools, and keeps plain `principal:token` lists working', () => {
    const c = resolveConfig({ ...two, MINI_AGENT_PRINCIPAL_TOOLS: 'alice=exec_python; bob=exec_python+exec_shell' });
    expect([...c.principalTools.get('alice')!]).toEqual(['exec_python']);
    expect([...c.principalTools.get('bob')!]).toEqual(['exec_python', 'exec_shell']);
    expect(c.tokens.get('alice-token-0123456789')).toBe('alice');
  });

  it.each([
    ['MINI_AGENT_MAX_CONCURRENCY', '0', /`MINI_AGENT_MAX_CONCURRENCY` to be an integer from 1/],
    ['MINI_AGENT_MAX_QUEUE', '-1', /`MINI_AGENT_MAX_QUEUE` to be an integer from 0/],
    ['MINI_AGENT_QUEUE_TIMEOUT_S', '0', /`MINI_AGENT_QUEUE_TIMEOUT_S` to be a number from 0.1/],
    ['MINI_AGENT_RATE_LIMIT', 'lots', /`MINI_AGENT_RATE_LIMIT` to be an integer/],
    ['MINI_AGENT_MAX_CONCURRENCY_PER_PRINCIPAL', '99', /`MINI_AGENT_MAX_CONCURRENCY_PER_PRINCIPAL` to be an integer from 1 to 2/],
    ['MINI_AGENT_PRINCIPAL_TOOLS', 'alice', /`MINI_AGENT_PRINCIPAL_TOOLS` to be `principal=tool\+tool` entries/],
    ['MINI_AGENT_PRINCIPAL_TOOLS', 'alice=exec python', /`MINI_AGENT_PRINCIPAL_TOOLS` to be/],
    ['MINI_AGENT_PRINCIPAL_TOOLS', 'alice=exec_python;alice=exec_shell', /each principal once/],
    ['MINI_AGENT_PRINCIPAL_TOOLS', 'mallory=exec_python', /principals named by the tokens, got `mallory`/],
    ['MINI_AGENT_METRICS_TOKEN', 'short', /`MINI_AGENT_METRICS_TOKEN` to be a token of at least 16 characters/],
  ])('rejects %s=%s', (env, value, message) => {
    expect(() => resolveConfig({ ...two, MINI_AGENT_MAX_CONCURRENCY: '2', [env]: value })).toThrow(message);
  });
});
