#!/usr/bin/env bash
# Runs a command with a Docker daemon available: uses a running one, or starts
# Debian's dockerd (no iptables, no bridge: builds and runs use the host network)
# for the duration of the command and stops it afterwards.
set -euo pipefail
if docker info >/dev/null 2>&1; then exec "$@"; fi
log=$(mktemp /tmp/dockerd.XXXXXX.log)
dockerd --iptables=false --ip6tables=false --bridge=none >"$log" 2>&1 &
pid=$!
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
docker info >/dev/null 2>&1 || { echo "with-dockerd: dockerd did not start:"; tail -20 "$log"; exit 1; }
"$@"
