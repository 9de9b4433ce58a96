#!/usr/bin/env bash
# Creation throughput of one build on a seeded data dir, for A/B runs of two
# builds on the same machine (docs/PERFORMANCE.md, "Creation, continued").
#   bash bench/create_ab.sh BIN SEEDDIR [perf]
# SEEDDIR: a data dir made once with `FIELDESK_DATA_DIR=SEEDDIR FIELDESK_DEMO_PASSWORD=bench-password BIN seed --tickets 20000`;
# it is copied for each run. With "perf", records a call-graph profile to /tmp/perf.data.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$1; seed=$2; prof=${3:-}
data=$(mktemp -d); cp -a "$seed"/. "$data"/
addr=127.0.0.1:3197; base=http://$addr
export FIELDESK_DATA_DIR=$data FIELDESK_ADDR=$addr LEPTOS_SITE_ROOT=$root/target/site
export FIELDESK_DEMO_PASSWORD=bench-password RUST_LOG=warn FIELDESK_LOGIN_RATE_PER_MINUTE=100000
$bin serve >/dev/null 2>&1 & pid=$!
trap 'kill $pid 2>/dev/null; rm -rf $data' EXIT
for _ in $(seq 1 2000); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.01; done
token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"agent0001@scale.test","password":"bench-password"}' | jq -r .access_token)
cd "$root"
wrk -t1 -c8 -d3s -s bench/create_ticket.lua -H "Authorization: Bearer $token" "$base/api/v1/tickets" >/dev/null
if [ -n "$prof" ]; then perf record -F 999 -g -o /tmp/perf.data -p $pid -- sleep 12 >/dev/null 2>&1 & ppid=$!; fi
wrk -t1 -c8 -d15s -s bench/create_ticket.lua -H "Authorization: Bearer $token" "$base/api/v1/tickets" | grep -E "rps|errors"
[ -n "$prof" ] && wait $ppid || true
