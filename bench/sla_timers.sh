#!/usr/bin/env bash
# SLA timers at scale (docs/PERFORMANCE.md, issue 13). Seeds N tickets
# (default 100,000) and makes every one open and recent, then creates a
# 24/7 policy (resolution in 7 days, warning at 75 %): the background
# re-evaluation gives each ticket a warning and a breach job in the future.
# Of them, 1,000 are made to breach and 1,000 to warn between 3 and 6
# minutes after the start. Measures:
#   - how late each of those fired: the breach's recording (or the warning's
#     event) after its due instant, p50 / p99 / max;
#   - the server's CPU over 60 s once they fired, with every other job in the future;
#   - ticket creation throughput with the policy and notifications on (8 connections, 10 s).
#
#   bash bench/sla_timers.sh [N] [sqlite|postgres]
#
# Needs `make build`, wrk, jq and sqlite3 or psql. Takes about 9 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

n=${1:-100000}
backend=${2:-sqlite}
port=${BENCH_PORT:-3196}
. bench/lib.sh

$bin seed --tickets "$n" >/dev/null
# Ticket i (in id order): 1..1000 breach, 1001..2000 warn, from 3 to 6
# minutes from now; the rest were created in the last three days.
week=604800 warn=453600 # 7 days; 75 % of them
if [ "$backend" = postgres ]; then
  sql "WITH n AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM tickets)
    UPDATE tickets t SET status = 'open', created_at = CASE
      WHEN n.i <= 1000 THEN now() + (180 - $week + n.i * 0.18) * interval '1 second'
      WHEN n.i <= 2000 THEN now() + (180 - $warn + (n.i - 1000) * 0.18) * interval '1 second'
      ELSE now() - random() * interval '3 days' END
    FROM n WHERE n.id = t.id"
else
  sql "WITH n AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM tickets)
    UPDATE tickets SET status = 'open', created_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', printf('%+.3f seconds', CASE
      WHEN n.i <= 1000 THEN 180 - $week + n.i * 0.18
      WHEN n.i <= 2000 THEN 180 - $warn + (n.i - 1000) * 0.18
      ELSE -(abs(random()) % 259200) END))
    FROM n WHERE n.id = tickets.id"
fi
t_start=$(date +%s)

start_server
admin="Authorization: Bearer $(login admin@scale.test)"
calendar=$(curl -sf "$base/api/v1/sla/calendars" -H "$admin" -H 'content-type: application/json' \
  -d '{"name": "Around the clock", "always_open": true}' | jq -r .id)
curl -sf "$base/api/v1/sla/policies" -H "$admin" -H 'content-type: application/json' -d "{\"name\": \"A week\",
  \"calendar_id\": \"$calendar\", \"resolution_minutes\": 10080, \"business_hours\": false, \"warning_percent\": 75}" >/dev/null
t0=$(date +%s%N)
while [ "$(sql "SELECT COUNT(*) FROM jobs WHERE kind = 'sla.reevaluate'")" != 0 ]; do sleep 0.2; done
walk_s=$(awk -v ns=$(( $(date +%s%N) - t0 )) 'BEGIN {printf "%.1f", ns / 1e9}')
timers=$(sql "SELECT COUNT(*) FROM jobs WHERE kind IN ('sla.warning', 'sla.breach')")
echo "$n open tickets on $backend; the re-evaluation planned $timers timer jobs in $walk_s s"

# Wait for the 2,000 to come due and fire (the last at 6 minutes).
sleep $(( t_start + 6 * 60 + 10 - $(date +%s) ))
if [ "$backend" = postgres ]; then
  late_breach="SELECT EXTRACT(EPOCH FROM recorded_at - due_at) FROM ticket_sla_breaches"
  late_warning="SELECT EXTRACT(EPOCH FROM o.created_at - t.sla_warning_at) FROM outbox o
    JOIN tickets t ON t.id = o.aggregate_id WHERE o.topic = 'ticket.sla_warning'"
else
  late_breach="SELECT (julianday(recorded_at) - julianday(due_at)) * 86400 FROM ticket_sla_breaches"
  late_warning="SELECT (julianday(o.created_at) - julianday(t.sla_warning_at)) * 86400 FROM outbox o
    JOIN tickets t ON t.id = o.aggregate_id WHERE o.topic = 'ticket.sla_warning'"
fi
stats() { sort -n | awk '{v[NR]=$1} END {if (NR == 0) {print "none"; exit} printf "%d fired: p50 %.2f s, p99 %.2f s, max %.2f s", NR, v[int(NR*0.5)+(NR*0.5>int(NR*0.5))], v[int(NR*0.99)+(NR*0.99>int(NR*0.99))], v[NR]}'; }
echo "breaches after their due time: $(sql "$late_breach" | stats)"
echo "warnings after their instant: $(sql "$late_warning" | stats)"

# Idle: every remaining job is days away.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
c0=$(ticks); sleep 60; c1=$(ticks)
echo "server CPU over 60 s idle with $(sql "SELECT COUNT(*) FROM jobs WHERE kind IN ('sla.warning', 'sla.breach')") SLA jobs queued: $(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "%.2f %% of one core", 100 * d / hz / 60}')"

agent="Authorization: Bearer $(login agent0001@scale.test)"
create=$(wrk -t2 -c8 -d10s -s bench/create_ticket.lua -H "$agent" "$base/api/v1/tickets")
echo "ticket creation with the policy and notifications on ($backend): $(awk '$1=="rps" {print $2}' <<<"$create") tickets/s, errors $(awk '$1=="errors" {print $2}' <<<"$create")"
