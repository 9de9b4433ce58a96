#!/usr/bin/env bash
# Foundation benchmarks (docs/PERFORMANCE.md): cold start, idle memory, login
# page SSR latency under 50 connections, WASM bundle size. Needs `make build`
# first, and wrk + brotli (installed by scripts/setup.sh). Prints Markdown.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=target/release/fieldesk
port=${BENCH_PORT:-3199}
addr=127.0.0.1:$port
data=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
export FIELDESK_DATA_DIR=$data FIELDESK_ADDR=$addr LEPTOS_SITE_ROOT=target/site
export FIELDESK_DEMO_PASSWORD=bench-password RUST_LOG=warn

wait_healthy() {
  for _ in $(seq 1 1000); do
    curl -sf "http://$addr/healthz" >/dev/null && return 0
    sleep 0.005
  done
  echo "server did not come up" >&2
  return 1
}

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# First start: creates the database, migrates, seeds (argon2 once).
t0=$(date +%s%N); $bin serve >/dev/null & pid=$!
wait_healthy; first_ms=$(ms_since "$t0")
kill -TERM $pid; wait $pid || true

# Cold start on an existing database (the usual restart), best of 5.
best=999999
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N); $bin serve >/dev/null & pid=$!
  wait_healthy; ms=$(ms_since "$t0")
  (( ms < best )) && best=$ms
  kill -TERM $pid; wait $pid || true
done

$bin serve >/dev/null & pid=$!
wait_healthy
for _ in $(seq 1 20); do curl -sf "http://$addr/login" -H 'accept: text/html' >/dev/null; done
sleep 1
idle_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

wrk_out=$(wrk -t2 -c50 -d15s --latency -s bench/percentiles.lua -H 'Accept: text/html' "http://$addr/login")
get() { awk -v k="$1" '$1==k {print $2}' <<<"$wrk_out"; }
loaded_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
# Server-side time from our own histogram: share of /login requests done within 1, 2.5 and 5 ms.
metrics=$(curl -sf "http://$addr/metrics")
bucket() { grep -F 'http_request_duration_seconds_bucket{method="GET",route="/login",status="200",le="'"$1"'"}' <<<"$metrics" | awk '{print $2}'; }
total=$(grep -F 'http_request_duration_seconds_count{method="GET",route="/login",status="200"}' <<<"$metrics" | awk '{print $2}')
share() { awk -v a="$(bucket "$1")" -v t="$total" 'BEGIN {printf "%.1f%%", 100 * a / t}'; }

wasm=target/site/pkg/fieldesk.wasm
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
br=$(brotli -q 11 -c "$wasm" | wc -c)
js=target/site/pkg/fieldesk.js
js_br=$(brotli -q 11 -c "$js" | wc -c)

cat <<MD
| measure | value |
| --- | --- |
| first start (create DB, migrate, seed demo) to healthy | ${first_ms} ms |
| cold start on existing SQLite DB to healthy (best of 5) | ${best} ms |
| idle RSS after 20 page loads | $(( idle_rss_kb / 1024 )) MB |
| RSS after the load test | $(( loaded_rss_kb / 1024 )) MB |
| GET /login SSR, 50 connections, 2 threads, 15 s: requests/s | $(get rps) |
| GET /login p50 / p95 / p99 | $(get p50_ms) / $(get p95_ms) / $(get p99_ms) ms |
| GET /login errors | $(get errors) of $(get requests) |
| GET /login server time (handler + middleware) within 1 / 2.5 / 5 ms | $(share 0.001) / $(share 0.0025) / $(share 0.005) |
| WASM main module (every page; lazy routes: bench/bundle.sh) raw / gzip -9 / brotli -q 11 | $(( raw / 1024 )) KB / $(( gz / 1024 )) KB / $(( br / 1024 )) KB |
| JS glue brotli | $(( js_br / 1024 )) KB |
MD
