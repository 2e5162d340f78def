// Latency of `exec_python print('hi')` through the gateway over loopback HTTP, with the bwrap
// backend and with none, next to a bare spawn of the same interpreter: one run, side by side.
// Usage (after `pnpm build`): node test/bench/exec-latency.mjs [iterations=200]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, resolveConfig } from '../../packages/gateway/dist/index.js';
import { resolvePython } from '../../packages/tools/dist/index.js';

const iterations = Number(process.argv[2] ?? 200);
if (!Number.isInteger(iterations) || iterations < 1) throw new TypeError(`Expected a positive integer of iterations, got ${process.argv[2]}`);
const warmup = Math.min(10, iterations);

const python = resolvePython();
const base = mkdtempSync(join(tmpdir(), 'mini-agent-bench-'));
chmodSync(base, 0o711);

function bareSpawn() {
  return new Promise((resolve, reject) => {
    const child = spawn(python.executable, ['-E', '-s', '-u', '-c', "print('hi')"], { stdio: ['ignore', 'pipe', 'pipe'], env: {} });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 && out === 'hi\n' ? resolve() : reject(new Error(`bare spawn: rc ${code}, ${out}`))));
  });
}

async function gateway(sandbox) {
  const config = resolveConfig({
    MINI_AGENT_SANDBOX: sandbox,
    MINI_AGENT_PORT: '0',
    MINI_AGENT_WORK_DIR: join(base, sandbox),
    MINI_AGENT_RATE_LIMIT: '0',
  });
  const app = await buildApp(config);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const body = JSON.stringify({ name: 'exec_python', arguments: { code: "print('hi')" } });
  const call = async () => {
    const res = await fetch(`${url}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = await res.json();
    if (res.status !== 200 || json.data?.stdout !== 'hi\n') throw new Error(`${sandbox}: ${res.status} ${JSON.stringify(json)}`);
  };
  const kind = (await (await fetch(`${url}/healthz`)).json()).sandbox;
  if (kind !== sandbox) throw new Error(`asked for ${sandbox}, the gateway runs ${kind}`);
  return { call, close: () => app.close() };
}

async function measure(fn) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)];
  return { median: at(0.5), p95: at(0.95), min: samples[0], max: samples.at(-1) };
}

const rows = [];
try {
  rows.push(['bare spawn of the interpreter', await measure(bareSpawn)]);
  for (const sandbox of ['none', 'bwrap']) {
    const gw = await gateway(sandbox);
    try {
      rows.push([`gateway, sandbox \`${sandbox}\``, await measure(gw.call)]);
    } finally {
      await gw.close();
    }
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}

const ms = (v) => v.toFixed(1);
console.log(`exec_python print('hi'), ${iterations} sequential calls each after ${warmup} warm-up, ${python.executable} (Python ${python.version}), Node ${process.version}\n`);
console.log('| path | median ms | p95 ms | min ms | max ms |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, r] of rows) console.log(`| ${name} | ${ms(r.median)} | ${ms(r.p95)} | ${ms(r.min)} | ${ms(r.max)} |`);
