#!/usr/bin/env bash
# Print (on stdout, and nothing else) a PostgreSQL admin URL for the tests.
#
#   scripts/test-postgres.sh          print a URL, starting a throwaway cluster if needed
#   scripts/test-postgres.sh stop     stop and delete the throwaway cluster (if any)
#
# Order:
#   1. $FIELDESK_TEST_PG_URL, if set;
#   2. a server on 127.0.0.1:5432 that accepts user postgres;
#   3. a throwaway cluster (initdb + pg_ctl) in target/pg-throwaway/, on a free
#      port, trust auth, fsync off. Its state is recorded so `stop` can remove it;
#      a second call while it runs prints the same URL again.
# FIELDESK_PG_FORCE_THROWAWAY=1 skips 1 and 2 (used to test the throwaway path).
# If no URL can be produced this exits non-zero: PostgreSQL tests never skip silently.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE="$ROOT/target/pg-throwaway"
STATE="$BASE/state.env"
FALLBACK_USER="fieldesk-pg"

log() { printf 'test-postgres: %s\n' "$*" >&2; }
die() { printf 'test-postgres: ERROR: %s\n' "$*" >&2; exit 1; }

have() { command -v "$1" >/dev/null 2>&1; }

# Does a server at host:port accept `postgres` (trust) and answer `select 1`?
pg_answers() {
    local host="$1" port="$2"
    if have psql; then
        [ "$(PGCONNECT_TIMEOUT=3 psql -X -q -w -h "$host" -p "$port" -U postgres -d postgres \
            -Atc 'select 1' 2>/dev/null)" = "1" ]
    elif have pg_isready; then
        pg_isready -q -t 3 -h "$host" -p "$port" -U postgres
    else
        # No client tools at all: a bare TCP probe.
        (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
    fi
}

# Directory holding initdb/pg_ctl/postgres (PATH first, then the newest Debian one).
find_pg_bindir() {
    local d
    if have initdb && have pg_ctl; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -n -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif have sudo; then sudo "$@"
    else return 1
    fi
}

install_postgres() {
    log "no initdb/pg_ctl found; installing Debian package postgresql"
    have apt-get || die "no initdb/pg_ctl and no apt-get to install PostgreSQL"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update >&2 \
        || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2 \
        || die "apt-get install postgresql failed"
}

# Run a command as the cluster owner ($RUNAS, empty = current user).
run_as() {
    if [ -z "$RUNAS" ]; then
        "$@"
    elif have runuser; then
        runuser -u "$RUNAS" -- "$@"
    else
        su -s /bin/sh "$RUNAS" -c "$(printf '%q ' "$@")"
    fi
}

# initdb refuses to run as root: pick an unprivileged owner.
pick_owner() {
    if [ "$(id -u)" -ne 0 ]; then
        RUNAS=""
    elif id postgres >/dev/null 2>&1; then
        RUNAS="postgres"
    else
        if ! id "$FALLBACK_USER" >/dev/null 2>&1; then
            log "creating system user $FALLBACK_USER to own the throwaway cluster"
            useradd --system --no-create-home --shell /usr/sbin/nologin "$FALLBACK_USER" \
                || die "could not create user $FALLBACK_USER"
        fi
        RUNAS="$FALLBACK_USER"
    fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p
    for p in $(seq 54329 54429); do
        if ! port_in_use "$p"; then echo "$p"; return 0; fi
    done
    return 1
}

url_for_port() { printf 'postgres://postgres@127.0.0.1:%s/postgres\n' "$1"; }

load_state() {
    # shellcheck disable=SC1090
    [ -f "$STATE" ] && . "$STATE"
}

stop_throwaway() {
    local PG_BINDIR="" PG_DATA="" PG_SOCK="" PG_DIR="" PG_PORT="" PG_RUNAS=""
    load_state || return 0  # nothing recorded: nothing to stop
    RUNAS="$PG_RUNAS"
    if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
        log "stopping throwaway cluster on port $PG_PORT"
        run_as "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || log "pg_ctl stop failed (already stopped?)"
    fi
    [ -n "$PG_DIR" ] && rm -rf -- "$PG_DIR"
    [ -n "$PG_SOCK" ] && rm -rf -- "$PG_SOCK"
    rm -f -- "$STATE"
}

# A recorded cluster that still answers: print its URL and succeed.
reuse_throwaway() {
    local PG_BINDIR="" PG_DATA="" PG_SOCK="" PG_DIR="" PG_PORT="" PG_RUNAS=""
    load_state || return 1
    if [ -n "$PG_PORT" ] && pg_answers 127.0.0.1 "$PG_PORT"; then
        log "reusing throwaway cluster on port $PG_PORT"
        url_for_port "$PG_PORT"
        return 0
    fi
    log "recorded throwaway cluster is gone; cleaning up"
    stop_throwaway
    return 1
}

start_throwaway() {
    local bindir dir data sock port
    bindir="$(find_pg_bindir)" || { install_postgres; bindir="$(find_pg_bindir)"; } \
        || die "PostgreSQL server binaries not found even after installing"
    pick_owner
    port="$(free_port)" || die "no free TCP port in 54329-54429"

    mkdir -p "$BASE"
    dir="$(mktemp -d "$BASE/cluster.XXXXXX")"
    # The owner must be able to reach the directory (e.g. a repo under /root is not).
    if [ -n "$RUNAS" ]; then
        chown "$RUNAS" "$dir"
        if ! run_as test -w "$dir"; then
            rm -rf -- "$dir"
            dir="$(mktemp -d "${TMPDIR:-/tmp}/fieldesk-pg.XXXXXX")"
            chown "$RUNAS" "$dir"
            log "repo not reachable by $RUNAS; using $dir"
        fi
    fi
    data="$dir/data"
    # Unix socket paths are limited to ~107 bytes: keep the socket in a short /tmp dir.
    sock="$(mktemp -d "${TMPDIR:-/tmp}/fieldesk-pgsock.XXXXXX")"
    [ -n "$RUNAS" ] && chown "$RUNAS" "$sock"

    cat >"$STATE" <<EOF
PG_BINDIR=$(printf '%q' "$bindir")
PG_DIR=$(printf '%q' "$dir")
PG_DATA=$(printf '%q' "$data")
PG_SOCK=$(printf '%q' "$sock")
PG_PORT=$port
PG_RUNAS=$(printf '%q' "$RUNAS")
EOF

    log "initdb ($bindir, owner ${RUNAS:-$(id -un)}) in $dir"
    if ! run_as "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        stop_throwaway
        die "initdb failed"
    fi

    log "starting throwaway cluster on 127.0.0.1:$port"
    if ! run_as "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null 2>&1; then
        cat "$dir/server.log" >&2 || true
        stop_throwaway
        die "pg_ctl start failed"
    fi
    pg_answers 127.0.0.1 "$port" || { stop_throwaway; die "throwaway cluster does not answer on port $port"; }
    url_for_port "$port"
}

main() {
    case "${1:-url}" in
        stop) stop_throwaway; return 0 ;;
        url) ;;
        *) die "usage: $0 [url|stop]" ;;
    esac

    if [ "${FIELDESK_PG_FORCE_THROWAWAY:-0}" != "1" ]; then
        if [ -n "${FIELDESK_TEST_PG_URL:-}" ]; then
            printf '%s\n' "$FIELDESK_TEST_PG_URL"
            return 0
        fi
        if pg_answers 127.0.0.1 5432; then
            url_for_port 5432
            return 0
        fi
        log "no PostgreSQL answering as postgres on 127.0.0.1:5432"
    else
        log "FIELDESK_PG_FORCE_THROWAWAY=1: ignoring FIELDESK_TEST_PG_URL and port 5432"
    fi
    reuse_throwaway && return 0
    start_throwaway
}

main "$@"
