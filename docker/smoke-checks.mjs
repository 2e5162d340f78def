// The HTTP half of docker/smoke.sh: checks a running gateway container through its published
// loopback port. Plain Node (no workspace packages) so it runs before and apart from `tsc -b`.
//
// Usage: node docker/smoke-checks.mjs <base-url> <token> <secret> <expected-sandbox>
// Exits 1 naming every failed check.

const [baseUrl, token, secret, expectedSandbox] = process.argv.slice(2);
if (!baseUrl || !token || !secret || !expectedSandbox) {
  console.error('usage: smoke-checks.mjs <base-url> <token> <secret> <expected-sandbox>');
  process.exit(2);
}
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(baseUrl)) {
  console.error(`refusing to test ${baseUrl}: the smoke test only talks to a loopback port`);
  process.exit(2);
}

const failures = [];
let passed = 0;
const check = (name, ok, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  if (ok) passed += 1;
  else failures.push(name);
};

async function request(path, { auth = true, body } = {}) {
  const headers = {};
  if (auth) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

async function python(code) {
  const t0 = performance.now();
  const r = await request('/invoke', { body: { name: 'exec_python', arguments: { code } } });
  return { ...r, ms: Math.round(performance.now() - t0) };
}

const health = await request('/healthz', { auth: false });
check('GET /healthz answers 200', health.status === 200, health.text.slice(0, 200));
const sandbox = health.json?.sandbox;
console.log(`     sandbox kind: ${sandbox}`);
check(`sandbox is ${expectedSandbox}`, sandbox === expectedSandbox, `got ${sandbox}`);

const anonymous = await request('/tools', { auth: false });
check('GET /tools without a token is refused (401)', anonymous.status === 401, `got ${anonymous.status}`);

const tools = await request('/tools');
const names = Array.isArray(tools.json) ? tools.json.map((t) => t?.function?.name) : [];
check('GET /tools lists exec_python and exec_shell', names.includes('exec_python') && names.includes('exec_shell'), names.join(', '));

const hello = await python('print(6 * 7)');
check('exec_python runs code', hello.status === 200 && hello.json?.data?.ok === true && hello.json?.data?.stdout === '42\n',
  `${hello.ms} ms, ${hello.text.slice(0, 200)}`);

// No packet leaves: a UDP connect only looks up a route, and the gateway's own port is on the
// container's loopback, which a shared network namespace would reach.
const net = await python(`
import json, socket
out = {"interfaces": [n for _, n in socket.if_nameindex()]}
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(("192.0.2.1", 9)); out["route"] = "yes"
except OSError as e:
    out["route"] = e.strerror
try:
    socket.create_connection(("127.0.0.1", 8787), timeout=2); out["gateway_port"] = "reached"
except OSError as e:
    out["gateway_port"] = e.strerror
print(json.dumps(out))
`);
let netOut = {};
try {
  netOut = JSON.parse(net.json?.data?.stdout ?? '{}');
} catch {
  // reported below
}
check('sandboxed code has no network (only lo, no route out, gateway port unreachable)',
  net.status === 200 && JSON.stringify(netOut.interfaces) === '["lo"]' && netOut.route !== 'yes' && netOut.gateway_port !== 'reached',
  JSON.stringify(netOut));

// Everything the code could read that might hold the container's environment: its own, every
// visible process's environ and cmdline, and the usual secret files.
const leak = await python(`
import os, glob
print(repr(dict(os.environ)))
for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline") + ["/proc/1/environ", "/etc/environment", "/app/.env"]:
    try:
        with open(path, "rb") as f:
            print(path, f.read().decode("latin-1"))
    except OSError as e:
        print(path, e.strerror)
print("root:", sorted(os.listdir("/")))
`);
const leakText = leak.text;
check('sandboxed code cannot read the container environment (secret and token absent)',
  leak.status === 200 && leak.json?.data?.ok === true && !leakText.includes(secret) && !leakText.includes(token),
  `${leakText.length} bytes of output searched`);

// The shipped seccomp profile is in force: the (un-namespaced) kernel keyring is refused.
const seccomp = await python(`
import ctypes, os, platform
nr = {"x86_64": 250, "aarch64": 219}.get(platform.machine())
libc = ctypes.CDLL(None, use_errno=True)
rc = libc.syscall(nr, 0, 0, 0, 0, 0) if nr else -2
print(rc, os.strerror(ctypes.get_errno()) if rc == -1 else "")
`);
check('seccomp profile refuses keyctl', seccomp.json?.data?.stdout?.startsWith('-1 Operation not permitted') === true,
  (seccomp.json?.data?.stdout ?? seccomp.text).trim());

// The seccomp profile allows unshare for bwrap; the sandboxed code itself must not get a user
// namespace (bwrap --disable-userns), or mount and the rest would be open to it.
const userns = await python(`
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
rc = libc.unshare(0x10000000)
print(rc, os.strerror(ctypes.get_errno()) if rc == -1 else "created")
`);
check('sandboxed code cannot create a user namespace', userns.json?.data?.stdout?.startsWith('-1 ') === true,
  (userns.json?.data?.stdout ?? userns.text).trim());

console.log(`checks: ${passed} passed, ${failures.length} failed`);
if (failures.length > 0) {
  console.error(`failed: ${failures.join('; ')}`);
  process.exit(1);
}
