#!/usr/bin/env bash
# Failure detection, Locality vs serf: 5 agents on 127.0.0.1, kill -9 one, time until
# every survivor reports it dead (locality: `dead`, serf: `failed`); then stop another
# gracefully and time until every survivor reports it `left`. Both run with their
# default settings (locality: SWIMSettings defaults; serf: default LAN profile).
#
# Usage: scripts/compare-serf.sh [runs]      (default 5 runs each)
# Env:   LOCALITY_BIN  path of the locality binary (default .build/debug/locality;
#                      build it with `swift build --product locality`)
#
# Each survivor is polled by its own loop (`locality members --json` / `serf members`)
# every ~50 ms, so a figure is "kill → the last survivor's first positive poll".
set -euo pipefail

RUNS=${1:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCALITY_BIN=${LOCALITY_BIN:-$ROOT/.build/debug/locality}
WORK=$(mktemp -d /tmp/compare-serf.XXXXXX)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    { wait; } 2>/dev/null || true
}
trap cleanup EXIT

if [[ ! -x "$LOCALITY_BIN" ]]; then
    echo "missing $LOCALITY_BIN (swift build --product locality)" >&2
    exit 1
fi
if ! command -v serf >/dev/null; then
    echo "installing serf (apt-get)…" >&2
    if [[ $(id -u) -eq 0 ]]; then apt-get update -qq && apt-get install -y -qq serf >/dev/null
    else sudo apt-get update -qq && sudo apt-get install -y -qq serf >/dev/null; fi
fi

now() { date +%s.%N; }

# A base port with 10 consecutive ports free for TCP and UDP (best effort: checked with ss).
pick_base() {
    local base
    for _ in $(seq 1 50); do
        base=$((10000 + RANDOM % 20000))  # below the ephemeral range (32768+)
        if ! ss -Htuan | awk '{print $5}' | grep -Eq ":($base|$((base + 1))|$((base + 2))|$((base + 3))|$((base + 4))|$((base + 5))|$((base + 6))|$((base + 7))|$((base + 8))|$((base + 9)))\$"; then
            echo "$base"; return
        fi
    done
    echo "no free port range" >&2; exit 1
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# poll_until <deadline-seconds> <command…>: runs the command every 50 ms until it succeeds;
# prints the time of success, or "timeout".
poll_until() {
    local limit=$1; shift
    local start; start=$(now)
    while true; do
        if "$@" >/dev/null 2>&1; then now; return; fi
        if (( $(echo "$(now) - $start > $limit" | bc) )); then echo timeout; return; fi
        sleep 0.05
    done
}

locality_sees() { # port member status
    "$LOCALITY_BIN" members --node "127.0.0.1:$1" --cluster-key-file "$WORK/key" --json --timeout-ms 500 |
        grep -q "\"name\":\"$2\",\"status\":\"$3\""
}
locality_all_alive() { # port
    local out; out=$("$LOCALITY_BIN" members --node "127.0.0.1:$1" --cluster-key-file "$WORK/key" --json --timeout-ms 500)
    [[ $(grep -o '"status":"alive"' <<<"$out" | wc -l) -eq 5 ]]
}
serf_sees() { # rpc-port member status
    serf members -rpc-addr="127.0.0.1:$1" -status="$3" | grep -q "^$2 "
}
serf_all_alive() { # rpc-port
    [[ $(serf members -rpc-addr="127.0.0.1:$1" -status=alive | wc -l) -eq 5 ]]
}

# measure <kind>: one run; prints seconds from kill -9 to the last survivor knowing.
measure() {
    local kind=$1 base; base=$(pick_base)
    PIDS=()
    for i in 1 2 3 4 5; do
        local port=$((base + i - 1)) seeds=""
        for j in 1 2 3 4 5; do [[ $j -ne $i ]] && seeds+="127.0.0.1:$((base + j - 1)),"; done
        if [[ $kind == locality ]]; then
            "$LOCALITY_BIN" node --name "n$i" --bind "127.0.0.1:$port" --seeds "${seeds%,}" \
                --cluster-key-file "$WORK/key" --data-dir "$WORK/n$i" >"$WORK/$kind-n$i.log" 2>&1 &
        else
            local joins=()
            for j in 1 2 3 4 5; do [[ $j -ne $i ]] && joins+=("-join=127.0.0.1:$((base + j - 1))"); done
            # serf needs an existing peer to join; nodes started later join the earlier ones.
            [[ $i -eq 1 ]] && joins=()
            [[ $i -gt 1 ]] && joins=("-join=127.0.0.1:$base")
            serf agent -node="n$i" -bind="127.0.0.1:$port" -rpc-addr="127.0.0.1:$((port + 5))" \
                "${joins[@]}" >"$WORK/$kind-n$i.log" 2>&1 &
        fi
        PIDS+=($!)
        [[ $kind == serf && $i -eq 1 ]] && sleep 0.5
    done
    for i in 1 2 3 4 5; do
        local check=$([[ $kind == locality ]] && echo locality_all_alive || echo serf_all_alive)
        local port=$([[ $kind == locality ]] && echo $((base + i - 1)) || echo $((base + i + 4)))
        [[ $(poll_until 30 $check "$port") != timeout ]] || {
            local keep; keep=$(mktemp -d /tmp/compare-serf-failed.XXXXXX); cp "$WORK"/*.log "$keep"/
            echo "no convergence ($kind); logs in $keep" >&2; cleanup; return 1; }
    done
    sleep 2
    # 1. kill -9 n5: time until n1..n4 all report it dead/failed.
    local t0; t0=$(now)
    kill -9 "${PIDS[4]}"
    { wait "${PIDS[4]}"; } 2>/dev/null || true
    local killed; killed=$(all_see "$kind" "$base" "$t0" n5 4)
    # 2. graceful stop of n4 (locality: SIGTERM; serf: SIGINT, its graceful-leave signal):
    #    time until n1..n3 all report it left.
    t0=$(now)
    if [[ $kind == locality ]]; then kill -TERM "${PIDS[3]}"; else kill -INT "${PIDS[3]}"; fi
    local left; left=$(all_see "$kind" "$base" "$t0" n4 3)
    cleanup
    echo "$killed $left"
}

# all_see <kind> <base> <t0> <member> <survivors>: seconds from t0 until survivors 1…n
# all report <member> gone (dead/failed for n5, left for n4), or "timeout".
all_see() {
    local kind=$1 base=$2 t0=$3 member=$4 count=$5 i
    local status_locality=dead status_serf=failed
    [[ $member == n4 ]] && status_locality=left && status_serf=left
    local pollers=()
    for i in $(seq 1 "$count"); do
        if [[ $kind == locality ]]; then
            poll_until 60 locality_sees $((base + i - 1)) "$member" $status_locality >"$WORK/seen-$member-$i" &
        else
            poll_until 60 serf_sees $((base + i + 4)) "$member" $status_serf >"$WORK/seen-$member-$i" &
        fi
        pollers+=($!)
    done
    for pid in "${pollers[@]}"; do wait "$pid" 2>/dev/null || true; done
    local last=0 seen
    for i in $(seq 1 "$count"); do
        seen=$(cat "$WORK/seen-$member-$i")
        [[ $seen == timeout || -z $seen ]] && { echo timeout; return; }
        if (( $(echo "$seen > $last" | bc) )); then last=$seen; fi
    done
    printf "%.2f\n" "$(echo "$last - $t0" | bc)"
}

openssl rand -hex 32 >"$WORK/key"
# Runs alternate between the two so background load hits both alike.
declare -A killed=([locality]="" [serf]="") left=([locality]="" [serf]="")
for run in $(seq 1 "$RUNS"); do
    for kind in locality serf; do
        measure "$kind" >"$WORK/result" || echo "failed failed" >"$WORK/result"
        read -r k l <"$WORK/result"
        echo "$kind run $run: kill -9 → all 4 survivors know after $k s; graceful leave → all 3 know after $l s"
        killed[$kind]+="$k "
        left[$kind]+="$l "
    done
done
for kind in locality serf; do
    echo "$kind kill -9 median: $(tr ' ' '\n' <<<"${killed[$kind]}" | grep -E "^[0-9.]+$" | median) s (runs: ${killed[$kind]% })"
    echo "$kind graceful leave median: $(tr ' ' '\n' <<<"${left[$kind]}" | grep -E "^[0-9.]+$" | median) s (runs: ${left[$kind]% })"
done
rm -rf "$WORK"
