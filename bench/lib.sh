# Sourced by bench scripts: a throwaway data directory (and PostgreSQL
# database) removed on exit, the server, and sign-in. Set `backend`
# (sqlite | postgres) and `port` first; gives `bin`, `base`, `data`,
# `sql QUERY`, `start_server` and `login EMAIL` (password bench-password).
bin=${FIELDESK_BENCH_BIN:-target/release/fieldesk}
addr=127.0.0.1:$port
base=http://$addr
data=$(mktemp -d)
pg_admin=${FIELDESK_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_db=fieldesk_bench_$$
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$data"
  if [ "$backend" = postgres ]; then psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
export FIELDESK_DATA_DIR=$data FIELDESK_ADDR=$addr LEPTOS_SITE_ROOT=target/site
export FIELDESK_DEMO_PASSWORD=bench-password FIELDESK_LOGIN_RATE_PER_MINUTE=100000
export RUST_LOG=${RUST_LOG:-warn}

if [ "$backend" = postgres ]; then
  psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
  export DATABASE_URL="${pg_admin%/*}/$pg_db"
  sql() { psql -qAt "$DATABASE_URL" -c "$1"; }
else
  sql() { sqlite3 "$data/fieldesk.db" "$1"; }
fi

# Starts the server (its log in $data/server.log) and waits until it answers.
start_server() {
  $bin serve >"$data/server.log" 2>&1 & pid=$!
  for _ in $(seq 1 2000); do curl -sf "$base/healthz" >/dev/null && return; sleep 0.01; done
  echo "the server did not start; its log:" >&2; cat "$data/server.log" >&2; exit 1
}

# An access token for EMAIL.
login() {
  curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"bench-password\"}" | jq -r .access_token
}
