#!/usr/bin/env bash
# Tickets at scale (docs/PERFORMANCE.md): seeds N tickets with
# `fieldesk seed --tickets N`, then measures, each next to the bare SQL it
# runs: the agent queue (first page, and a page 10,000 rows deep), full-text
# search, the ticket page with 50 messages (SSR), and ticket creation
# throughput. Prints Markdown rows.
#
#   bash bench/tickets.sh [N] [sqlite|postgres]      (default: 1000000 sqlite)
#   FIELDESK_BENCH_BIN=/path/to/fieldesk bash bench/tickets.sh …   (another build, for A/B)
#
# Needs `make build`, wrk, jq, python3 and sqlite3 or psql. Latency is measured with one
# connection (requests in sequence), so it is the server's time plus a
# loopback round trip; creation throughput uses 8 connections.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

n=${1:-1000000}
backend=${2:-sqlite}
port=${BENCH_PORT:-3198}
. bench/lib.sh

t0=$(date +%s%N)
$bin seed --tickets "$n" >/dev/null
seed_s=$(awk -v ns=$(( $(date +%s%N) - t0 )) 'BEGIN {printf "%.0f", ns / 1e9}')
db_size=$( [ "$backend" = sqlite ] && du -sh "$data/fieldesk.db" | cut -f1 || sql "SELECT pg_size_pretty(pg_database_size(current_database()))")

$bin serve >/dev/null & pid=$!
for _ in $(seq 1 2000); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.01; done

token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"agent0001@scale.test","password":"bench-password"}' | jq -r .access_token)
auth="Authorization: Bearer $token"
# The browser's session cookie, for the server-rendered ticket page.
jar=$data/cookies
curl -sf -c "$jar" "$base/api/login" -H 'accept: application/json' \
  --data-urlencode email=agent0001@scale.test --data-urlencode password=bench-password >/dev/null
cookie="Cookie: $(awk '$6 ~ /^fd_/ {printf "%s=%s; ", $6, $7}' "$jar")"

# Walk 10,000 rows into the default queue (open statuses, newest first),
# or as deep as it goes on a small database.
cursor=
depth=0
for _ in $(seq 1 100); do
  next=$(curl -sf -H "$auth" "$base/api/v1/tickets?limit=100${cursor:+&cursor=$cursor}" | jq -r .next_cursor)
  [ "$next" = null ] && break
  cursor=$next; depth=$((depth + 100))
done
if [ "$backend" = sqlite ]; then
  long_id=$(sql "SELECT lower(substr(hex(id),1,8)||'-'||substr(hex(id),9,4)||'-'||substr(hex(id),13,4)||'-'||substr(hex(id),17,4)||'-'||substr(hex(id),21)) FROM tickets WHERE number = 10000")
else
  long_id=$(sql "SELECT id FROM tickets WHERE number = 10000")
fi

# wrk with one connection for $2 seconds; prints "p50 p95 rps".
measure() {
  local out
  out=$(wrk -t1 -c1 -d"${2:-10}"s -s bench/percentiles.lua -H "$auth" -H "$cookie" -H 'Accept: text/html' "$1")
  awk '$1=="p50_ms"{a=$2} $1=="p95_ms"{b=$2} $1=="rps"{c=$2} $1=="errors"{e=$2} END {printf "%s %s %s %s", a, b, c, e}' <<<"$out"
}

# The bare query, 30 times, with the database's own timer; prints p95 in ms.
bare() {
  local times
  if [ "$backend" = sqlite ]; then
    times=$(python3 - "$data/fieldesk.db" "$1" <<'PY'
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1])
for _ in range(30):
    t = time.perf_counter()
    con.execute(sys.argv[2]).fetchall()
    print((time.perf_counter() - t) * 1000)
PY
)
  else
    times=$(for _ in $(seq 1 30); do psql -qAt "$DATABASE_URL" -c "EXPLAIN ANALYZE $1"; done \
      | awk '/Execution Time/ {print $3}')
  fi
  sort -n <<<"$times" | awk '{v[NR]=$1} END {i=int(NR*0.95); if (i<1) i=1; printf "%.2f", v[i]}'
}

if [ "$backend" = sqlite ]; then
  org="X'$(sql "SELECT hex(id) FROM organizations WHERE slug = 'scale'")'"
else
  org="'$(sql "SELECT id FROM organizations WHERE slug = 'scale'")'"
fi
cols="id, organization_id, number, subject, status, priority, created_at"
open="status IN ('new','open','pending','on_hold')"
deep=$(python3 -c 'import base64, sys; c = sys.argv[1]; print(base64.urlsafe_b64decode(c + "=" * (-len(c) % 4)).decode())' "$cursor")
deep_at=${deep%|*}; deep_id=${deep#*|}
if [ "$backend" = sqlite ]; then
  deep_at_sql="'$(sql "SELECT created_at FROM tickets WHERE id = X'$(tr -d - <<<"$deep_id")'")'"
  deep_id_sql="X'$(tr -d - <<<"$deep_id")'"
  search_sql="SELECT $cols FROM (SELECT hit_id FROM (SELECT tickets.id AS hit_id FROM tickets_fts JOIN search_keys k ON k.key = tickets_fts.rowid CROSS JOIN tickets ON tickets.id = k.item_id WHERE tickets_fts MATCH '\"printer\"* \"berlin\"*' AND deleted_at IS NULL AND organization_id = $org ORDER BY created_at DESC, id DESC LIMIT 26) UNION SELECT hit_id FROM (SELECT tickets.id AS hit_id FROM (SELECT ticket_id FROM comments_fts WHERE comments_fts MATCH '\"printer\"* \"berlin\"*' AND (public OR 1)) AS c CROSS JOIN tickets ON tickets.id = c.ticket_id WHERE deleted_at IS NULL AND organization_id = $org ORDER BY created_at DESC, id DESC LIMIT 26) AS message_hits) AS hits CROSS JOIN tickets ON tickets.id = hits.hit_id ORDER BY created_at DESC, id DESC LIMIT 26"
  page_sql="SELECT c.id, c.body, u.name FROM ticket_comments c JOIN users u ON u.id = c.author_id WHERE c.ticket_id = X'$(tr -d - <<<"$long_id")' ORDER BY c.created_at, c.id"
else
  deep_at_sql="'$deep_at'"
  deep_id_sql="'$deep_id'"
  # The first of the server's two steps (db/tickets.rs), which answers when the newest tickets hold a page of hits.
  search_sql="SELECT $cols FROM (SELECT * FROM tickets WHERE deleted_at IS NULL AND organization_id = $org ORDER BY created_at DESC, id DESC LIMIT 5000) AS recent WHERE search @@ to_tsquery('simple', 'printer:* & berlin:*') OR EXISTS (SELECT 1 FROM ticket_comments c WHERE c.ticket_id = recent.id AND c.search @@ to_tsquery('simple', 'printer:* & berlin:*') AND (c.public OR true) OFFSET 0) ORDER BY created_at DESC, id DESC LIMIT 26"
  page_sql="SELECT c.id, c.body, u.name FROM ticket_comments c JOIN users u ON u.id = c.author_id WHERE c.ticket_id = '$long_id' ORDER BY c.created_at, c.id"
fi
queue_sql="SELECT $cols FROM tickets WHERE deleted_at IS NULL AND organization_id = $org AND $open ORDER BY created_at DESC, id DESC LIMIT 26"
deep_sql="SELECT $cols FROM tickets WHERE deleted_at IS NULL AND organization_id = $org AND $open AND (created_at < $deep_at_sql OR (created_at = $deep_at_sql AND id < $deep_id_sql)) ORDER BY created_at DESC, id DESC LIMIT 26"

row() { # name, url, bare sql, target
  read -r p50 p95 rps errors <<<"$(measure "$2")"
  local b; b=$(bare "$3")
  awk -v n="$1" -v p50="$p50" -v p95="$p95" -v b="$b" -v t="$4" -v e="$errors" -v be="$backend" \
    'BEGIN {printf "| %s | %s | %.2f / %.2f ms | %s ms | %.1fx | %s | %s |\n", be, n, p50, p95, b, (b > 0 ? p95 / b : 0), t, e}'
}

echo "seeded $n tickets on $backend in ${seed_s} s; database $db_size"
echo "| backend | measure | HTTP p50 / p95 | bare SQL p95 | ratio | target (p95) | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
row "queue, first page" "$base/api/v1/tickets?limit=25" "$queue_sql" "< 20 ms"
row "queue, $depth rows deep" "$base/api/v1/tickets?limit=25&cursor=$cursor" "$deep_sql" "< 20 ms"
row "full-text search" "$base/api/v1/tickets?status=all&limit=25&q=printer%20berlin" "$search_sql" "< 100 ms"
row "ticket page, 50 messages (SSR)" "$base/desk/tickets/$long_id" "$page_sql" "< 25 ms"

# Creation throughput: 8 connections posting new tickets for 10 s.
create=$(wrk -t2 -c8 -d10s -s bench/create_ticket.lua -H "$auth" "$base/api/v1/tickets")
echo
echo "ticket creation ($backend): $(awk '$1=="rps" {print $2}' <<<"$create") tickets/s, errors $(awk '$1=="errors" {print $2}' <<<"$create") (target on SQLite: >= 1,000/s)"
