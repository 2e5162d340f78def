// The image's HEALTHCHECK: healthy when GET /healthz on the gateway's own port answers 200 with
// status "ok" within 4 s. A file rather than `node -e` so compose implementations that join or
// re-quote the command (podman-compose) run it the same.
const port = Number(process.env.MINI_AGENT_PORT) || 8787;
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) });
  const body = await res.json();
  process.exit(res.status === 200 && body.status === 'ok' ? 0 : 1);
} catch {
  process.exit(1);
}
