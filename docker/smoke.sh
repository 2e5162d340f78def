#!/usr/bin/env bash
# Smoke test of the container image: builds it, proves the gateway refuses to run unsandboxed under
# a default container profile, then runs it with the documented security options and checks
# /healthz, /tools, exec_python, no network and no view of the container's secrets from sandboxed
# code, the image HEALTHCHECK, `mini-agent run` from the same image, a graceful stop, and the
# gateway of docker/compose.yaml. Uses docker, else podman (MINI_AGENT_ENGINE
# picks). Only loopback ports are contacted. Containers are removed on exit; images are kept as
# the build cache.
#
#   pnpm test:docker            (or: bash docker/smoke.sh)
#
# The compose phase uses `docker compose` with docker, else podman-compose (installed with apt
# when missing and root).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

image=${MINI_AGENT_IMAGE:-mini-agent}
node_image=docker.io/library/node:20-bookworm-slim
run_id="mini-agent-smoke-$$"
started=$(date +%s%N)

passed=0
log() { printf '[smoke] %s\n' "$*"; }
ok() { log "ok   $*"; passed=$(( passed + 1 )); }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# The last line is a plain count, the closing line CI reads.
die() { log "FAIL: $*"; printf 'smoke: %d passed, 1 failed\n' "$passed"; exit 1; }

engine=${MINI_AGENT_ENGINE:-}
if [[ -z $engine ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null; then engine=podman
  elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "neither docker nor podman found: installing podman and runc from Debian"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc >/dev/null
    engine=podman
  else die "neither docker nor podman is installed (Debian: apt-get install podman runc)"; fi
fi
log "engine: $engine ($("$engine" --version | head -n1))"

# Flags this machine's podman needs: runc as the runtime, and rlimits it may set in an unprivileged
# host. Docker needs none of them.
engine_run=()
engine_build=()
if [[ $engine == podman ]]; then
  command -v runc >/dev/null && engine_run+=(--runtime runc) && engine_build+=(--runtime runc)
  engine_run+=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
  engine_build+=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
  # HEALTHCHECK exists only in the docker image format; the OCI format drops it.
  engine_build+=(--format docker)
  # Without systemd, podman cannot schedule health checks; they are run by hand below.
  engine_run+=(--health-interval=disable)
else
  # Docker runs the HEALTHCHECK itself; a short interval lets the test see its verdict soon.
  engine_run+=(--health-interval 1s)
fi

# What the documentation tells users to run with (README, compose.yaml): no capability at all,
# no privilege gain, a seccomp profile that allows user namespaces, and /proc left unmasked so
# bwrap can mount a fresh one for each call's PID namespace.
security=(
  --cap-drop ALL
  --security-opt no-new-privileges
  --security-opt seccomp=docker/seccomp-bwrap.json
  --security-opt systempaths=unconfined
  --security-opt apparmor=unconfined
  --read-only --tmpfs /tmp:size=256m
  --memory 1g --pids-limit 512
)

# The sandbox kind the gateway must report: bwrap wherever this tree has the backend.
expected_sandbox=${MINI_AGENT_SMOKE_SANDBOX:-}
if [[ -z $expected_sandbox ]]; then
  if [[ -f packages/tools/src/sandbox/bwrap.ts ]]; then expected_sandbox=bwrap; else expected_sandbox=none; fi
fi

containers=()
compose=()
compose_files=()
# Latest first: containers sharing the gateway's network namespace must go before it.
remove() { "$engine" kill "$1" >/dev/null 2>&1 || true; "$engine" rm -f "$1" >/dev/null 2>&1 || true; }
compose_down() {
  (cd docker && MINI_AGENT_TOKEN=x "${compose[@]}" -p "$run_id" "${compose_files[@]}" down -t 20 >/dev/null 2>&1) || true
  # podman-compose 1.0.3 leaves the project network behind.
  "$engine" network rm "${run_id}_default" >/dev/null 2>&1 || true
}
cleanup() {
  for (( i = ${#containers[@]} - 1; i >= 0; i-- )); do remove "${containers[i]}"; done
  if [[ ${#compose_files[@]} -gt 0 ]]; then compose_down; fi
  rm -f "${TMPDIR:-/tmp}/$run_id-compose-override.yaml"
}
trap cleanup EXIT

# --- compose.yaml says what this test runs with -------------------------------------------------
for want in 'cap_drop: [ALL]' 'read_only: true' '- no-new-privileges:true' '- seccomp=./seccomp-bwrap.json' \
  '- systempaths=unconfined' '- apparmor=unconfined' 'MINI_AGENT_SANDBOX: bwrap'; do
  grep -qF -- "$want" docker/compose.yaml || die "docker/compose.yaml lacks \`$want\` that this test runs with"
done
if [[ $engine == docker ]] && docker compose version >/dev/null 2>&1; then
  MINI_AGENT_TOKEN=x docker compose -f docker/compose.yaml config -q || die "docker/compose.yaml is invalid"
fi

# --- base image --------------------------------------------------------------------------------
t=$(date +%s%N)
bash docker/base-image.sh "$engine" "$node_image"
log "base image ready in $(ms_since "$t") ms"

# --- build -------------------------------------------------------------------------------------
build_args=(-f docker/Dockerfile -t "$image")
# Behind a TLS-inspecting proxy the build must trust its CA; passed as a build secret, never kept.
# The host's own trust store is the default: what this machine trusts, the build may too.
ca=${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
if [[ -n $ca && -s $ca ]]; then
  build_args+=(--secret "id=extra_ca,src=$ca")
  [[ $engine == docker ]] && export DOCKER_BUILDKIT=1
fi
t=$(date +%s%N)
if ! "$engine" build "${engine_build[@]}" "${build_args[@]}" . >"${TMPDIR:-/tmp}/$run_id-build.log" 2>&1; then
  tail -n 40 "${TMPDIR:-/tmp}/$run_id-build.log"
  die "image build failed (log: ${TMPDIR:-/tmp}/$run_id-build.log)"
fi
build_ms=$(ms_since "$t")
rm -f "${TMPDIR:-/tmp}/$run_id-build.log"
size=$("$engine" image inspect "$image" --format '{{.Size}}')
log "image $image built in $build_ms ms, $(( size / 1000000 )) MB"

token="smoke-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
secret="secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

# --- loud refusal without the security options ----------------------------------------------------
if [[ $expected_sandbox == bwrap ]]; then
  t=$(date +%s%N)
  name="$run_id-default"
  containers+=("$name")
  set +e
  refusal=$(timeout 60 "$engine" run --name "$name" "${engine_run[@]}" -e "MINI_AGENT_TOKENS=smoke:$token" "$image" 2>&1)
  rc=$?
  set -e
  if [[ $rc -eq 0 || $rc -eq 124 ]] || ! grep -q 'SANDBOX IS OFF' <<<"$refusal" || ! grep -q 'Refusing to serve' <<<"$refusal"; then
    printf '%s\n' "$refusal" | tail -n 5
    die "under the default profile the gateway should refuse to start, naming the fix (rc $rc)"
  fi
  ok "default profile: gateway refuses to serve unsandboxed, says why (rc $rc, $(ms_since "$t") ms)"
fi

# --- run with the documented options --------------------------------------------------------------
name="$run_id-gateway"
containers+=("$name")
t=$(date +%s%N)
"$engine" run -d --name "$name" "${engine_run[@]}" "${security[@]}" \
  -p 127.0.0.1::8787 \
  -e "MINI_AGENT_TOKENS=smoke:$token" \
  -e "SMOKE_SECRET=$secret" \
  "$image" >/dev/null
port=$("$engine" port "$name" 8787/tcp | head -n1 | sed 's/.*://')
[[ $port =~ ^[0-9]+$ ]] || die "no published port ($port)"
url="http://127.0.0.1:$port"
for _ in $(seq 1 150); do
  if node -e "fetch('$url/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; then break; fi
  if [[ $("$engine" inspect -f '{{.State.Running}}' "$name") != true ]]; then
    "$engine" logs "$name" 2>&1 | tail -n 20
    die "the gateway container exited"
  fi
  sleep 0.2
done
log "gateway up at $url in $(ms_since "$t") ms"

t=$(date +%s%N)
checks_out="${TMPDIR:-/tmp}/$run_id-checks.txt"
if ! node docker/smoke-checks.mjs "$url" "$token" "$secret" "$expected_sandbox" | tee "$checks_out"; then
  "$engine" logs "$name" 2>&1 | tail -n 20
  passed=$(( passed + $(sed -n 's/^checks: \([0-9]*\) passed.*/\1/p' "$checks_out" | tail -n1) ))
  rm -f "$checks_out"
  die "checks failed"
fi
passed=$(( passed + $(sed -n 's/^checks: \([0-9]*\) passed.*/\1/p' "$checks_out" | tail -n1) ))
rm -f "$checks_out"
log "checks passed in $(ms_since "$t") ms"

# The image's own HEALTHCHECK, run as the engine would.
if [[ $engine == podman ]]; then
  podman healthcheck run "$name" >/dev/null || die "HEALTHCHECK reports unhealthy"
else
  health=starting
  for _ in $(seq 1 60); do
    health=$(docker inspect -f '{{.State.Health.Status}}' "$name")
    [[ $health == starting ]] || break
    sleep 1
  done
  [[ $health == healthy ]] || die "HEALTHCHECK reports $health"
fi
ok "HEALTHCHECK passes"

# The example agent of compose.yaml: `mini-agent run` from the same image against the gateway.
# A scripted model stands in for a real one; both share the gateway container's network
# namespace, so every connection stays on that namespace's loopback.
t=$(date +%s%N)
llm="$run_id-llm"
containers+=("$llm")
"$engine" run -d --name "$llm" "${engine_run[@]}" --network "container:$name" \
  --cap-drop ALL --security-opt no-new-privileges --read-only \
  -v "$PWD/docker/smoke-fake-llm.mjs:/smoke/fake-llm.mjs:ro" \
  --entrypoint node "$image" /smoke/fake-llm.mjs 9999 >/dev/null
agent="$run_id-agent"
containers+=("$agent")
set +e
answer=$(timeout 120 "$engine" run --name "$agent" "${engine_run[@]}" --network "container:$name" \
  --cap-drop ALL --security-opt no-new-privileges --read-only --tmpfs /tmp:size=16m \
  -e MINI_AGENT_GATEWAY=http://127.0.0.1:8787 -e "MINI_AGENT_TOKEN=$token" \
  -e OPENAI_BASE_URL=http://127.0.0.1:9999/v1 -e OPENAI_API_KEY=smoke \
  "$image" run --model smoke "Compute 2**100 with Python." 2>&1)
rc=$?
set -e
if [[ $rc -ne 0 ]] || ! grep -q '1267650600228229401496703205376' <<<"$answer"; then
  printf '%s\n' "$answer" | tail -n 20
  die "mini-agent run in the image did not finish with the tool's answer (rc $rc)"
fi
ok "mini-agent run (agent image) used exec_python through the gateway and answered in $(ms_since "$t") ms"
remove "$agent"
remove "$llm"

# Graceful stop: SIGTERM reaches the gateway through tini, which exits 0 well within the timeout.
t=$(date +%s%N)
# (podman without systemd complains it has no health timer to remove; that is noise)
"$engine" stop -t 20 "$name" >/dev/null 2> >(grep -v 'systemd' >&2)
code=$("$engine" inspect -f '{{.State.ExitCode}}' "$name")
[[ $code == 0 ]] || { "$engine" logs "$name" 2>&1 | tail -n 5; die "the gateway exited $code on SIGTERM"; }
ok "stops on SIGTERM with exit 0 in $(ms_since "$t") ms"

# --- compose.yaml, as the README runs it ------------------------------------------------------------
if [[ $engine == docker ]] && docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v podman-compose >/dev/null; then compose=(podman-compose)
elif [[ $engine == podman && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  log "installing podman-compose from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman-compose >/dev/null || apt-get update -q >/dev/null
  command -v podman-compose >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman-compose >/dev/null
  compose=(podman-compose)
else die "no compose implementation (docker compose or podman-compose) to test docker/compose.yaml with"; fi
t=$(date +%s%N)
compose_files=(-f compose.yaml)
if [[ $engine == podman ]]; then
  # This machine's podman needs the rlimits set explicitly (see engine_run above).
  printf 'services:\n  gateway:\n    ulimits:\n      nofile: { soft: 1024, hard: 1024 }\n      nproc: { soft: 4096, hard: 4096 }\n' \
    >"${TMPDIR:-/tmp}/$run_id-compose-override.yaml"
  compose_files+=(-f "${TMPDIR:-/tmp}/$run_id-compose-override.yaml")
fi
host_port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
compose_token="compose-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
if ! (cd docker && MINI_AGENT_TOKEN=$compose_token MINI_AGENT_HOST_PORT=$host_port \
  "${compose[@]}" -p "$run_id" "${compose_files[@]}" up -d gateway >"${TMPDIR:-/tmp}/$run_id-compose.log" 2>&1); then
  tail -n 20 "${TMPDIR:-/tmp}/$run_id-compose.log"
  die "${compose[*]} up failed"
fi
rm -f "${TMPDIR:-/tmp}/$run_id-compose.log"
url="http://127.0.0.1:$host_port"
for _ in $(seq 1 150); do
  node -e "fetch('$url/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null && break
  sleep 0.2
done
# The token sits in the gateway container's environment (MINI_AGENT_TOKENS): it is the secret.
checks_out="${TMPDIR:-/tmp}/$run_id-checks.txt"
if ! node docker/smoke-checks.mjs "$url" "$compose_token" "$compose_token" "$expected_sandbox" >"$checks_out"; then
  cat "$checks_out"; rm -f "$checks_out"
  die "checks against the compose gateway failed"
fi
rm -f "$checks_out"
compose_down
compose_files=()
ok "${compose[*]} up: the compose gateway passes the same checks ($(ms_since "$t") ms)"

log "smoke test passed in $(ms_since "$started") ms (build $build_ms ms, image $(( size / 1000000 )) MB, sandbox $expected_sandbox)"
printf 'smoke: %d passed, 0 failed\n' "$passed"
