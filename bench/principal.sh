#!/usr/bin/env bash
# The cost of reading the caller's standing (role, active flag) on every
# request (docs/PERFORMANCE.md, "Platform part 2"): the same cheap
# authenticated routes against two builds, one after the other, each on a
# fresh demo database. Usage: bench/principal.sh BEFORE_BIN AFTER_BIN.
# Prints Markdown rows. Needs wrk and jq (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ $# -eq 2 ] || { echo "usage: $0 BEFORE_BIN AFTER_BIN" >&2; exit 2; }
port=${BENCH_PORT:-3198}
base=http://127.0.0.1:$port
export LEPTOS_SITE_ROOT=target/site FIELDESK_ADDR=127.0.0.1:$port
export FIELDESK_DEMO_PASSWORD=bench-password RUST_LOG=warn

# One connection (latency without queueing behind wrk), then 16 (throughput).
measure() { # bin label
  local data pid token
  data=$(mktemp -d)
  FIELDESK_DATA_DIR=$data "$1" serve >/dev/null & pid=$!
  for _ in $(seq 1 1000); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.01; done
  token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"agent@acme.test","password":"bench-password"}' | jq -r .access_token)
  for route in /api/v1/users/me /api/v1/categories; do
    local one many
    one=$(wrk -t1 -c1 -d8s -s bench/percentiles.lua -H "Authorization: Bearer $token" "$base$route")
    many=$(wrk -t2 -c16 -d8s -s bench/percentiles.lua -H "Authorization: Bearer $token" "$base$route")
    get() { awk -v k="$1" '$1==k {print $2}' <<<"$2"; }
    printf '| %s | `GET %s` | %s / %s ms | %s req/s | %s |\n' "$2" "$route" \
      "$(get p50_ms "$one")" "$(get p99_ms "$one")" "$(get rps "$many")" "$(get errors "$many")"
  done
  kill -TERM $pid; wait $pid || true
  rm -rf "$data"
}

echo '| build | route | 1 connection p50 / p99 | 16 connections | errors |'
echo '| --- | --- | --- | --- | --- |'
measure "$1" before
measure "$2" after
measure "$1" "before (again)"
measure "$2" "after (again)"
