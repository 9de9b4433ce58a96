#!/usr/bin/env bash
# Creation throughput of one build on a seeded data dir, for A/B runs of two
# builds on the same machine (docs/PERFORMANCE.md, "Creation, continued").
#   bash bench/create_ab.sh BIN SEEDDIR [perf]
# SEEDDIR: a data dir made once with `FIELDESK_DATA_DIR=SEEDDIR FIELDESK_DEMO_PASSWORD=bench-password BIN seed --tickets 20000`;
# it is copied for each run. With "perf", records a call-graph profile to /tmp/perf.data.
# With POLICY=1, a 24/7 SLA policy (resolution in a week) covers every new ticket.
# LUA=script.lua runs another wrk script; the server log is left in /tmp/create_ab_server.log.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$1; seed=$2; prof=${3:-}
data=$(mktemp -d); cp -a "$seed"/. "$data"/
addr=127.0.0.1:3197; base=http://$addr
export FIELDESK_DATA_DIR=$data FIELDESK_ADDR=$addr LEPTOS_SITE_ROOT=$root/target/site
export FIELDESK_DEMO_PASSWORD=bench-password RUST_LOG=warn FIELDESK_LOGIN_RATE_PER_MINUTE=100000
$bin serve >/tmp/create_ab_server.log 2>&1 & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf $data' EXIT
for _ in $(seq 1 2000); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.01; done
if [ "${POLICY:-}" = 1 ]; then
  admin="Authorization: Bearer $(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"admin@scale.test","password":"bench-password"}' | jq -r .access_token)"
  calendar=$(curl -sf "$base/api/v1/sla/calendars" -H "$admin" -H 'content-type: application/json' \
    -d '{"name": "Around the clock", "always_open": true}' | jq -r .id)
  curl -sf "$base/api/v1/sla/policies" -H "$admin" -H 'content-type: application/json' -d "{\"name\": \"A week\",
    \"calendar_id\": \"$calendar\", \"resolution_minutes\": 10080, \"business_hours\": false, \"warning_percent\": 75}" >/dev/null
  # The seeded tickets' re-evaluation runs first, alone.
  while [ "$(sqlite3 "$data/fieldesk.db" "SELECT COUNT(*) FROM jobs WHERE kind = 'sla.reevaluate'")" != 0 ]; do sleep 0.2; done
fi
token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"agent0001@scale.test","password":"bench-password"}' | jq -r .access_token)
cd "$root"
wrk -t1 -c8 -d3s -s bench/create_ticket.lua -H "Authorization: Bearer $token" "$base/api/v1/tickets" >/dev/null
if [ -n "$prof" ]; then perf record -F 999 -g -o /tmp/perf.data -p $pid -- sleep 12 >/dev/null 2>&1 & ppid=$!; fi
wrk -t1 -c8 -d15s -s ${LUA:-bench/create_ticket.lua} -H "Authorization: Bearer $token" "$base/api/v1/tickets" | grep -E "rps|errors"
[ -n "$prof" ] && wait $ppid || true
# What the run left: tickets under a policy and their timers (a check that POLICY=1 took effect).
sqlite3 "$data/fieldesk.db" "SELECT 'under a policy ' || COUNT(*) FROM tickets WHERE sla_policy_id IS NOT NULL; SELECT 'timers ' || COUNT(*) FROM jobs WHERE kind LIKE 'sla.%'"
