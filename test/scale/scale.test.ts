import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../load/gateway-process.js';

const REPLICAS = 3;
const TOKEN = `alice-${randomUUID()}`;

/**
 * The replica a session belongs to: rendezvous (highest random weight) hashing, the scheme nginx's
 * `hash … consistent` approximates. Adding or removing a replica moves only the sessions it gains
 * or held.
 */
function replicaFor(sessionId: string, replicas: number): number {
  let best = 0;
  let bestWeight = '';
  for (let i = 0; i < replicas; i++) {
    const weight = createHash('sha256').update(`${sessionId}\0${i}`).digest('hex');
    if (weight > bestWeight) {
      best = i;
      bestWeight = weight;
    }
  }
  return best;
}

/**
 * A loopback load balancer: requests with `X-Session-Id` go to the session's replica, the others
 * round-robin. It says which replica answered in `x-replica`.
 */
function loadBalancer(upstreams: URL[]): Server {
  let next = 0;
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const session = req.headers['x-session-id'];
    const index = typeof session === 'string' ? replicaFor(session, upstreams.length) : next++ % upstreams.length;
    const upstream = upstreams[index]!;
    const proxied = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, { ...up.headers, 'x-replica': String(index) });
        up.pipe(res);
      },
    );
    proxied.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 502, code: 'BAD_GATEWAY', error: 'Bad Gateway', message: 'replica unreachable' }));
    });
    req.pipe(proxied);
  });
}

async function invoke(base: string, code: string, sessionId?: string) {
  const res = await fetch(new URL('/invoke', base), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      ...(sessionId === undefined ? {} : { 'x-session-id': sessionId }),
    },
    body: JSON.stringify({ name: 'exec_python', arguments: { code } }),
  });
  const body = (await res.json()) as { data: { ok: boolean; stdout: string; stderr: string } };
  return { status: res.status, replica: res.headers.get('x-replica'), ...body.data };
}

describe(`scale-out: ${REPLICAS} gateway processes behind a session-affine load balancer`, () => {
  const work = mkdtempSync(join(tmpdir(), 'mini-agent-scale-'));
  chmodSync(work, 0o711);
  const gateways: GatewayProcess[] = [];
  let lb: Server;
  let lbUrl: string;

  beforeAll(async () => {
    // Each is kept as soon as it runs, so afterAll stops it even if a sibling fails to start.
    await Promise.all(
      Array.from({ length: REPLICAS }, async (_, i) => {
        const gateway = await startGatewayProcess({ MINI_AGENT_TOKENS: `alice:${TOKEN}`, MINI_AGENT_WORK_DIR: join(work, `replica-${i}`) });
        gateways[i] = gateway;
      }),
    );
    lb = loadBalancer(gateways.map((g) => new URL(g.url)));
    await new Promise<void>((resolve) => lb.listen(0, '127.0.0.1', resolve));
    lbUrl = `http://127.0.0.1:${(lb.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await new Promise((resolve) => (lb ? lb.close(resolve) : resolve(undefined)));
    await Promise.all(gateways.filter(Boolean).map((g) => g.stop()));
    rmSync(work, { recursive: true, force: true });
  });

  it('keeps a session on one replica, so its files persist from call to call', { timeout: 60_000 }, async () => {
    const sessions = Array.from({ length: 6 }, (_, i) => `session-${i}`);
    const homes = new Map<string, string | null>();
    await Promise.all(
      sessions.map(async (id) => {
        const first = await invoke(lbUrl, `open("state.txt", "w").write("${id}:1")\nprint("written")`, id);
        expect(first).toMatchObject({ status: 200, ok: true, stdout: 'written\n' });
        homes.set(id, first.replica);
        for (let n = 2; n <= 4; n++) {
          const code = `s = open("state.txt").read()\nopen("state.txt", "w").write(s + ",${n}")\nprint(open("state.txt").read())`;
          const r = await invoke(lbUrl, code, id);
          expect(r).toMatchObject({ status: 200, ok: true, stdout: `${id}:1${[2, 3, 4].slice(0, n - 1).map((k) => `,${k}`).join('')}\n` });
          expect(r.replica).toBe(first.replica);
        }
      }),
    );
    // The sessions are spread over the replicas, not all pinned to one.
    expect(new Set(homes.values()).size).toBeGreaterThan(1);
  });

  it('shows why affinity matters: another replica does not have the session', { timeout: 30_000 }, async () => {
    const id = 'session-elsewhere';
    const home = replicaFor(id, REPLICAS);
    const other = gateways[(home + 1) % REPLICAS]!;
    expect((await invoke(lbUrl, 'open("state.txt", "w").write("here")\nprint("ok")', id)).replica).toBe(String(home));
    const elsewhere = await invoke(other.url, 'import os\nprint(os.path.exists("state.txt"))', id);
    expect(elsewhere).toMatchObject({ status: 200, stdout: 'False\n' });
    const home2 = await invoke(gateways[home]!.url, 'import os\nprint(os.path.exists("state.txt"))', id);
    expect(home2).toMatchObject({ status: 200, stdout: 'True\n' });
  });

  it('spreads calls without a session over every replica', { timeout: 30_000 }, async () => {
    const before = await Promise.all(gateways.map((g) => okCount(g)));
    const replicas: (string | null)[] = [];
    for (let i = 0; i < REPLICAS * 3; i++) {
      const r = await invoke(lbUrl, 'print(1)');
      expect(r).toMatchObject({ status: 200, ok: true });
      replicas.push(r.replica);
    }
    expect(new Set(replicas).size).toBe(REPLICAS);
    // Each replica's own /metrics counted its share.
    const after = await Promise.all(gateways.map((g) => okCount(g)));
    expect(after.map((n, i) => n - before[i]!)).toEqual(Array.from({ length: REPLICAS }, () => 3));
  });
});

async function okCount(gateway: GatewayProcess): Promise<number> {
  const text = await (await fetch(new URL('/metrics', gateway.url), { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith('mini_agent_invocations_total{tool="exec_python",principal="alice",outcome="ok",code=""} '));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}
