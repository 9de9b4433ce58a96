#!/usr/bin/env bash
# SLA re-evaluation at scale (docs/PERFORMANCE.md, issue 13): seeds N
# tickets (`fieldesk seed --tickets N`), then, with the server running,
# times the background walk over the open tickets after (1) a first policy
# is created and (2) its calendar's hours change (every due time moves),
# while one connection reads the agent queue's first page without pause
# (its p50 / p95 / p99 during the walk, next to the same measure before).
# Last, ticket creation throughput with the policy on (8 connections, 10 s).
#
#   bash bench/sla_reevaluate.sh [N] [sqlite|postgres]   (default: 1000000 sqlite)
#   FIELDESK_BENCH_SEED_CACHE=dir   keeps the seeded SQLite database there and reuses it
#
# Needs `make build`, wrk, jq and sqlite3 or psql.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

n=${1:-1000000}
backend=${2:-sqlite}
port=${BENCH_PORT:-3197}
cache=${FIELDESK_BENCH_SEED_CACHE:-}
RUST_LOG=warn,fieldesk::server::sla=info
. bench/lib.sh

if [ "$backend" = sqlite ] && [ -n "$cache" ] && [ -f "$cache/fieldesk-$n.db" ]; then
  cp "$cache/fieldesk-$n.db" "$data/fieldesk.db"
  echo "reused the seeded database from $cache"
else
  $bin seed --tickets "$n" >/dev/null
  if [ "$backend" = sqlite ] && [ -n "$cache" ]; then
    mkdir -p "$cache"
    sqlite3 "$data/fieldesk.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    cp "$data/fieldesk.db" "$cache/fieldesk-$n.db"
  fi
fi
open_tickets=$(sql "SELECT COUNT(*) FROM tickets WHERE status NOT IN ('resolved', 'closed')")

start_server
admin="Authorization: Bearer $(login admin@scale.test)"
agent="Authorization: Bearer $(login agent0001@scale.test)"

# wrk with one connection on the queue's first page for $1 seconds; prints "p50 p95 p99 requests errors".
queue() {
  wrk -t1 -c1 -d"$1"s -s bench/percentiles.lua -H "$agent" "$base/api/v1/tickets?limit=25" |
    awk '$1=="p50_ms"{a=$2} $1=="p95_ms"{b=$2} $1=="p99_ms"{c=$2} $1=="requests"{r=$2} $1=="errors"{e=$2} END {printf "%s %s %s %s %s", a, b, c, r, e}'
}
walking() { [ "$(sql "SELECT COUNT(*) FROM jobs WHERE kind = 'sla.reevaluate'")" != 0 ]; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Starts the change ($1: method, $2: path, $3: body), then measures the
# queue in 5-second slices until the walk is done; prints one row.
change() {
  local label=$1 t0 t1 slices=0 p50s=() p95s=() p99s=()
  rm -f "$data/walked"
  t0=$(now_ms)
  curl -sf -X "$2" "$base/api/v1$3" -H "$admin" -H 'content-type: application/json' -d "$4" >/dev/null
  # Its end, to a fifth of a second, while the queue is read in slices.
  (while walking; do sleep 0.2; done; now_ms >"$data/walked") &
  while [ ! -f "$data/walked" ]; do
    read -r p50 p95 p99 _ _ <<<"$(queue 5)"
    p50s+=("$p50"); p95s+=("$p95"); p99s+=("$p99"); slices=$((slices + 1))
  done
  t1=$(cat "$data/walked")
  local changed
  changed=$(sed "s/\x1b\[[0-9;]*m//g" "$data/server.log" | grep -o "changed=[0-9]*" | tail -1 | cut -d= -f2 || true)
  local worst95 worst99 median50
  worst95=$(printf '%s\n' "${p95s[@]:-0}" | sort -n | tail -1)
  worst99=$(printf '%s\n' "${p99s[@]:-0}" | sort -n | tail -1)
  median50=$(printf '%s\n' "${p50s[@]:-0}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  awk -v l="$label" -v ms=$((t1 - t0)) -v c="$changed" -v s="$slices" -v a="$median50" -v b="$worst95" -v d="$worst99" \
    'BEGIN {printf "| %s | %.1f s | %s | %s / %s / %s ms (%d slices of 5 s) |\n", l, ms / 1000, c, a, b, d, s}'
}

read -r b50 b95 b99 _ _ <<<"$(queue 10)"
echo "seeded $n tickets on $backend, of which $open_tickets open"
echo "queue first page before any policy: p50 / p95 / p99 $b50 / $b95 / $b99 ms"
echo
echo "| change | walk over $open_tickets open tickets | tickets re-stored | queue during: median p50 / worst p95 / worst p99 |"
echo "| --- | --- | --- | --- |"
calendar=$(curl -sf "$base/api/v1/sla/calendars" -H "$admin" -H 'content-type: application/json' -d '{
  "name": "Berlin office", "timezone": "Europe/Berlin",
  "hours": {"mon": [["08:00","12:00"],["13:00","18:00"]], "tue": [["08:00","12:00"],["13:00","18:00"]],
    "wed": [["08:00","12:00"],["13:00","18:00"]], "thu": [["08:00","12:00"],["13:00","18:00"]],
    "fri": [["08:00","12:00"],["13:00","18:00"]]},
  "holidays": ["2026-12-24", "12-25", "12-26", "01-01"]}' | jq -r .id)
change "a first policy (every ticket)" POST /sla/policies "{\"name\": \"Everyone\", \"calendar_id\": \"$calendar\",
  \"first_response_minutes\": 240, \"next_response_minutes\": 120, \"resolution_minutes\": 960, \"business_hours\": true}"
change "its calendar's hours change" PUT "/sla/calendars/$calendar" '{
  "name": "Berlin office", "timezone": "Europe/Berlin",
  "hours": {"mon": [["07:00","19:00"]], "tue": [["07:00","19:00"]], "wed": [["07:00","19:00"]],
    "thu": [["07:00","19:00"]], "fri": [["07:00","19:00"]], "sat": [["09:00","13:00"]]},
  "holidays": ["2026-12-24", "12-25", "12-26", "01-01"]}'
with_policy=$(sql "SELECT COUNT(*) FROM tickets WHERE status NOT IN ('resolved', 'closed') AND sla_policy_id IS NOT NULL")
echo
echo "open tickets under the policy afterwards: $with_policy of $open_tickets"

create=$(wrk -t2 -c8 -d10s -s bench/create_ticket.lua -H "$agent" "$base/api/v1/tickets")
echo "ticket creation with the policy on ($backend): $(awk '$1=="rps" {print $2}' <<<"$create") tickets/s, errors $(awk '$1=="errors" {print $2}' <<<"$create")"
