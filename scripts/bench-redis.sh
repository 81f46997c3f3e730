#!/usr/bin/env bash
# Baseline for `locality bench transport`: redis-benchmark PING_MBULK against a
# redis-server started here on a free loopback port (installed when missing).
# Usage: scripts/bench-redis.sh CONCURRENCY REQUESTS
# Prints one line: the requests per second redis-benchmark measured.
set -euo pipefail
concurrency="${1:-64}"
requests="${2:-1000000}"

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "installing redis-server (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq redis-server >&2
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
dir="$(mktemp -d)"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize no >"$dir/redis.log" 2>&1 &
server=$!
# SIGKILL: a parent that blocks SIGTERM in its threads (Swift, NIO) passes that mask on.
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; kill -9 "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then break; fi
    sleep 0.05
done
redis-benchmark -h 127.0.0.1 -p "$port" -t ping_mbulk -c "$concurrency" -n "$requests" --csv 2>/dev/null \
    | awk -F'","' '/PING_MBULK/ { gsub(/"/, "", $2); print $2 }'
