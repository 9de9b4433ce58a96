#!/usr/bin/env bash
# Fieldesk developer / CI setup. Idempotent: every step checks first and
# skips when already satisfied, so a second run takes a few seconds.
#
# Usage: scripts/setup.sh [step ...]
#   default steps, in this order: rust-target wasm-bindgen wasm-split apt npm echarts
#   optional step, only when named: cargo-leptos (for `cargo leptos watch`;
#   `make build` does not need it, see scripts/build.sh)
#
# PostgreSQL is handled separately by scripts/test-postgres.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CARGO_LEPTOS_VERSION="0.3.10"
WASM_BINDGEN_VERSION="0.2.130"
# The WASM splitter cargo-leptos 0.3.10 links (its Cargo.lock), as a CLI.
WASM_SPLIT_VERSION="0.2.3"
WASM_TARGET="wasm32-unknown-unknown"

export PATH="$HOME/.cargo/bin:$PATH"

say() { printf 'setup: %-13s %s\n' "$1" "$2"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# Run a noisy command with its output captured; show the output only on failure.
quiet() {
    local log rc=0
    log="$(mktemp "${TMPDIR:-/tmp}/fieldesk-setup.XXXXXX")"
    "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$log" >&2
        rm -f "$log"
        die "command failed (exit $rc): $*"
    fi
    rm -f "$log"
}

# Run a command as root (directly, or through sudo when not root).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

step_rust_target() {
    command -v rustup >/dev/null 2>&1 || die "rustup not found (install the Rust toolchain with rustup first)"
    if rustup target list --installed | grep -qx "$WASM_TARGET"; then
        say rust-target "ok ($WASM_TARGET installed)"
    else
        say rust-target "adding $WASM_TARGET"
        rustup target add "$WASM_TARGET"
    fi
}

step_cargo_leptos() {
    local have=""
    have="$(cargo-leptos --version 2>/dev/null | awk '{print $2}')" || true
    if [ "$have" = "$CARGO_LEPTOS_VERSION" ]; then
        say cargo-leptos "ok ($have)"
    else
        say cargo-leptos "installing $CARGO_LEPTOS_VERSION (found: ${have:-none}; takes several minutes)"
        cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked
    fi
}

step_wasm_bindgen() {
    local have=""
    have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
    if [ "$have" = "$WASM_BINDGEN_VERSION" ]; then
        say wasm-bindgen "ok ($have)"
    else
        say wasm-bindgen "installing $WASM_BINDGEN_VERSION (found: ${have:-none}; takes several minutes)"
        # No --locked on purpose: wasm-bindgen-cli's own lock file pins old deps.
        cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
    fi
}

# wasm-split-cli cuts the WASM into lazily loaded chunks (scripts/build.sh).
# It is the library cargo-leptos runs for `--split`, built alone: a minute
# and a half rather than all of cargo-leptos.
step_wasm_split() {
    local have=""
    have="$(cargo install --list 2>/dev/null \
        | awk '$1 == "wasm_split_cli_support" {sub(/^v/, "", $2); sub(/:$/, "", $2); print $2}')" || true
    if [ "$have" = "$WASM_SPLIT_VERSION" ] && command -v wasm-split-cli >/dev/null 2>&1; then
        say wasm-split "ok ($have)"
    else
        say wasm-split "installing wasm_split_cli_support $WASM_SPLIT_VERSION (found: ${have:-none}; takes a minute or two)"
        cargo install --locked wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary
    fi
}

step_apt() {
    # command name -> Debian package
    local -a missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v brotli >/dev/null 2>&1 || missing+=(brotli)
    command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
    if [ "${#missing[@]}" -eq 0 ]; then
        say apt "ok (chromium wrk brotli npm present)"
        return
    fi
    say apt "installing ${missing[*]}"
    quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get update
    quiet as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

step_npm() {
    local dir="$ROOT/end2end"
    local stamp="$dir/node_modules/.fieldesk-setup-stamp"
    [ -f "$dir/package.json" ] || die "end2end/package.json missing"
    command -v npm >/dev/null 2>&1 || die "npm not found"
    if [ -f "$stamp" ] && [ -f "$dir/package-lock.json" ] \
        && [ ! "$dir/package-lock.json" -nt "$stamp" ] \
        && [ ! "$dir/package.json" -nt "$stamp" ]; then
        say npm "ok (end2end/node_modules up to date)"
    else
        if [ -f "$dir/package-lock.json" ]; then
            say npm "npm ci in end2end/"
            (cd "$dir" && quiet env PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
        else
            say npm "npm install in end2end/ (no lock file yet)"
            (cd "$dir" && quiet env PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund)
        fi
        touch "$stamp"
    fi
    # The release WASM build runs wasm-opt from binaryen (a Node program).
    "$dir/node_modules/.bin/wasm-opt" --version >/dev/null 2>&1 \
        || die "end2end/node_modules/.bin/wasm-opt does not run"
}

step_echarts() {
    local src="$ROOT/end2end/node_modules/echarts/dist/echarts.min.js"
    local dst="$ROOT/public/echarts.min.js"
    [ -f "$src" ] || die "$src missing (run: scripts/setup.sh npm)"
    if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
        say echarts "ok (public/echarts.min.js current)"
    else
        mkdir -p "$ROOT/public"
        cp "$src" "$dst"
        say echarts "copied echarts.min.js to public/"
    fi
}

DEFAULT_STEPS=(rust-target wasm-bindgen wasm-split apt npm echarts)
OPTIONAL_STEPS=(cargo-leptos)
steps=("$@")
[ "${#steps[@]}" -gt 0 ] || steps=("${DEFAULT_STEPS[@]}")

now() { date +%s%N; }
# Seconds since a `now` value, one decimal.
since() { local ms=$((($(now) - $1) / 1000000)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

setup_start="$(now)"
for s in "${steps[@]}"; do
    step_start="$(now)"
    case "$s" in
        rust-target) step_rust_target ;;
        cargo-leptos) step_cargo_leptos ;;
        wasm-bindgen) step_wasm_bindgen ;;
        wasm-split) step_wasm_split ;;
        apt) step_apt ;;
        npm) step_npm ;;
        echarts) step_echarts ;;
        *) die "unknown step '$s' (known: ${DEFAULT_STEPS[*]} ${OPTIONAL_STEPS[*]})" ;;
    esac
    say "$s" "took $(since "$step_start")"
done
say total "$(since "$setup_start") (${steps[*]})"
