#!/usr/bin/env bash
# Live updates under load (docs/PERFORMANCE.md): WebSocket clients on
# loopback, from `loadgen ws` (src/bin/loadgen.rs), against the release
# server. Seeds the demo data once (the first start) into this run's data
# directory or database, restarts the server(s) on it for each scenario
# (so each one's memory starts from the same point) and prints Markdown rows.
#
#   bash bench/ws.sh                      sqlite a b c, then postgres d
#   bash bench/ws.sh sqlite [a] [b] [c]   one instance on SQLite
#   bash bench/ws.sh postgres [a] [b] [c] [d]
#   PERF=/tmp/ws.perf C_SECONDS=20 bash bench/ws.sh sqlite c   (profiles c)
#
# a: 10,000 idle connections, server RSS growth (target < 200 MB)
# b: one update at a time to 1,000 clients following `org`, 5 a second for
#    20 s (the last client's receipt: p50 < 20 ms, p99 < 100 ms)
# c: 500 updates/s over 50 tickets to 1,000 clients for 60 s (p99 < 250 ms,
#    no client dropped)
# d: b and c with two instances on one PostgreSQL database: updates through
#    A, the clients on B
#
# Latency runs from the moment loadgen sends the PATCH (stamped in the
# subject) to a client's receipt of the `ticket.updated` event: the commit
# happens inside that request, so this is an upper bound (the PATCH round
# trip is printed beside it). Needs `cargo build --release
# --no-default-features --features ssr --bins`, curl, jq (and psql).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ $# -eq 0 ]; then
  bash "$0" sqlite a b c
  bash "$0" postgres d
  exit
fi
backend=$1; shift
scenarios=${*:-a b c}
port=${BENCH_PORT:-3196}
. bench/lib.sh
loadgen=${FIELDESK_LOADGEN_BIN:-target/release/loadgen}

# Ten thousand sockets on each side of loopback.
ulimit -n "$(ulimit -Hn)"
export FIELDESK_WS_MAX_CONNECTIONS=20000 FIELDESK_WS_MAX_PER_USER=20000
export LOADGEN_PASSWORD=bench-password

# Instance B (scenario d): the same database and data directory (so the
# same signing key), the next port.
port_b=$((port + 1))
base_b=http://127.0.0.1:$port_b
pid_b=
start_b() {
  FIELDESK_ADDR=127.0.0.1:$port_b $bin serve >"$data/server-b.log" 2>&1 & pid_b=$!
  for _ in $(seq 1 2000); do curl -sf "$base_b/healthz" >/dev/null && return; sleep 0.01; done
  echo "instance B did not start; its log:" >&2; cat "$data/server-b.log" >&2; exit 1
}
stop_all() {
  for p in $pid $pid_b; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pid= pid_b=
}
trap 'stop_all; cleanup' EXIT

# The first start seeds the demo organizations; later starts find them.
start_server
stop_all

# Runs loadgen, prints its RESULT line's fields as "key=value" words.
run() {
  local out
  out=$("$loadgen" ws "$@" 2> >(sed 's/^/  loadgen: /' >&2))
  grep '^RESULT ' <<<"$out" | cut -d' ' -f2-
}
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

echo "| backend | scenario | clients | updates/s (achieved) | PATCH p50 / p99 | delivery p50 / p99 / max | last client p50 / p99 / max | delivered / expected | dropped | server RSS before → with clients (KiB per connection) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
row() { # backend, scenario, result
  local r=$3 rss="" i=0
  while [ -n "$(field "$r" "rss${i}_before_mb")" ]; do
    rss+="$(field "$r" "rss${i}_before_mb") → $(field "$r" "rss${i}_connected_mb") MiB ($(field "$r" "rss${i}_kb_per_conn")) "
    i=$((i + 1))
  done
  if [ -n "$(field "$r" updates)" ]; then
    echo "| $1 | $2 | $(field "$r" connected) | $(field "$r" update_rate) | $(field "$r" patch_p50_ms) / $(field "$r" patch_p99_ms) ms | $(field "$r" p50_ms) / $(field "$r" p99_ms) / $(field "$r" max_ms) ms | $(field "$r" last_p50_ms) / $(field "$r" last_p99_ms) / $(field "$r" last_max_ms) ms | $(field "$r" delivered) / $(field "$r" expected) | $(field "$r" dropped) | $rss|"
  else
    echo "| $1 | $2 | $(field "$r" connected) | – | – | – | – | – | $(field "$r" dropped) | $rss|"
  fi
}

for s in $scenarios; do
  case $s in
    a)
      start_server
      row "$backend" "a: 10,000 idle" "$(run --url "$base" --clients 10000 --settle 10 --server-pid "$pid")"
      ;;
    b)
      start_server
      row "$backend" "b: 1 update at a time, 5/s" "$(run --url "$base" --clients 1000 --tickets 1 --rate 5 --duration 20 --server-pid "$pid")"
      ;;
    c)
      start_server
      # PERF=FILE: a call-graph profile of the server's first 30 s of load.
      if [ -n "${PERF:-}" ]; then
        (sleep 5; perf record -F 499 -g -o "$PERF" -p "$pid" -- sleep 30 >/dev/null 2>&1) &
      fi
      row "$backend" "c: 500 updates/s, 60 s" "$(run --url "$base" --clients 1000 --tickets 50 --rate 500 --duration "${C_SECONDS:-60}" --server-pid "$pid")"
      ;;
    d)
      [ "$backend" = postgres ] || { echo "scenario d needs postgres" >&2; exit 2; }
      start_server; start_b
      row "$backend" "d/b: A → B, 1 at a time, 5/s" "$(run --url "$base_b" --publish-url "$base" --clients 1000 --tickets 1 --rate 5 --duration 20 --server-pid "$pid" --server-pid "$pid_b")"
      stop_all; start_server; start_b
      row "$backend" "d/c: A → B, 500/s, 60 s" "$(run --url "$base_b" --publish-url "$base" --clients 1000 --tickets 50 --rate 500 --duration 60 --server-pid "$pid" --server-pid "$pid_b")"
      ;;
    *) echo "unknown scenario $s" >&2; exit 2 ;;
  esac
  stop_all
done
