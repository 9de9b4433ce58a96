#!/usr/bin/env bash
# Event delivery (docs/PERFORMANCE.md): how long after a ticket's commit its
# `ticket.created` event reaches a subscriber (`notifications`, which mails the customer), read
# from the server's `fieldesk_event_delivery_seconds` histogram. Two runs:
# tickets created one at a time (paced, 20 ms apart), and at full speed
# with 8 connections. Prints Markdown rows.
#
#   bash bench/events.sh [sqlite|postgres]      (default: sqlite)
#
# Needs `make build`, wrk, curl, jq, python3 (and psql for postgres).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

backend=${1:-sqlite}
port=${BENCH_PORT:-3197}
. bench/lib.sh

start_server
auth="Authorization: Bearer $(login agent@acme.test)"

# Cumulative bucket counts of the notifications subscriber's delivery times.
snapshot() {
  curl -sf "$base/metrics" | grep '^fieldesk_event_delivery_seconds_bucket{.*subscriber="notifications"' || true
}
# Percentiles (as "≤ bucket") of the observations between two snapshots.
report() {
  python3 - "$1" "$2" "$3" <<'PY'
import re, sys
def parse(text):
    out = {}
    for line in text.splitlines():
        m = re.search(r'le="([^"]+)"\} (\S+)', line)
        if m: out[m.group(1)] = float(m.group(2))
    return out
before, after, label = parse(sys.argv[1]), parse(sys.argv[2]), sys.argv[3]
les = sorted(after, key=lambda le: float('inf') if le == '+Inf' else float(le))
counts = [(le, after[le] - before.get(le, 0)) for le in les]
total = counts[-1][1] if counts else 0
def pct(p):
    for le, c in counts:
        if total and c >= p * total:
            return "≤ %s ms" % ("∞" if le == "+Inf" else "%g" % (float(le) * 1000))
    return "n/a"
print(f"| {label} | {int(total)} | {pct(0.5)} | {pct(0.95)} | {pct(0.99)} |")
PY
}

echo "| run ($backend) | events | p50 | p95 | p99 |"
echo "| --- | --- | --- | --- | --- |"
s0=$(snapshot)
for i in $(seq 1 300); do
  curl -sf "$base/api/v1/tickets" -H "$auth" -H 'content-type: application/json' \
    -d "{\"subject\":\"Paced $i\",\"description\":\"bench/events.sh\"}" >/dev/null
  sleep 0.02
done
sleep 1
s1=$(snapshot)
report "$s0" "$s1" "one at a time, 20 ms apart"
wrk -t2 -c8 -d10s -s bench/create_ticket.lua -H "$auth" "$base/api/v1/tickets" | grep '^rps' | sed 's/^/creation /' >&2
sleep 2
s2=$(snapshot)
report "$s1" "$s2" "8 connections, full speed"
