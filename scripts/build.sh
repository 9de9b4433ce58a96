#!/usr/bin/env bash
# Fieldesk release build without cargo-leptos: what `cargo leptos build
# --release --split` (0.3.10) does for this project, with the same output.
#
#   target/release/fieldesk        the server (features: ssr)
#   target/site/pkg/fieldesk.js    wasm-bindgen's JS glue (--target web)
#   target/site/pkg/fieldesk.wasm  the browser build's main module (features: hydrate):
#                                  everything /login needs, after wasm-opt
#   target/site/pkg/split_*.wasm,  the lazy routes' code (`lazy_page!` in src/app.rs),
#     chunk_*.wasm                 cut out by wasm-split, loaded by the page that needs it
#   target/site/pkg/__wasm_split.js  wasm-split's loader for those (imported by fieldesk.js)
#   target/site/pkg/fieldesk.css   style/main.css
#   target/site/*                  a copy of public/
#
# Names and directories come from [package.metadata.leptos] in Cargo.toml
# (scripts/leptos-env.sh), which also sets the build-time LEPTOS_* variables
# cargo-leptos sets, and the link flag wasm-split needs. Needs the tools of
# scripts/setup.sh: the wasm32-unknown-unknown target, wasm-bindgen (the
# version pinned in Cargo.lock), wasm-split-cli (wasm_split_cli_support, the
# version cargo-leptos 0.3.10 uses), end2end/node_modules/.bin/wasm-opt, and
# brotli for the size report (optional; bench/bundle.sh).
#
# Differences from cargo-leptos: the JS glue and the CSS are not minified
# (cargo-leptos runs swc and lightningcss, which are not standalone tools
# here); both are small and served compressed. wasm-bindgen runs with
# --no-typescript, so there are no fieldesk.d.ts / fieldesk_bg.wasm.d.ts in
# pkg/ (nothing uses them). The WASM is built into
# target/wasm32-unknown-unknown/ rather than target/front/. The splitter is
# wasm-split-cli, which names its loader __wasm_split.js and writes no
# __wasm_split_manifest.json (cargo-leptos calls the same library with a
# placeholder name for file hashing, and writes the manifest): without the
# manifest Leptos does not add <link rel=preload> for a lazy route's chunks
# to the server-rendered page, so they are fetched when hydration reaches
# the route rather than alongside fieldesk.wasm.
#
# Usage: scripts/build.sh            (`make build` runs setup first, then this)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"

FIELDESK_ROOT="$ROOT"
# shellcheck source=scripts/leptos-env.sh
. scripts/leptos-env.sh

NAME="$LEPTOS_OUTPUT_NAME"
SITE="$LEPTOS_SITE_ROOT"
PKG="$SITE/$LEPTOS_SITE_PKG_DIR"
WASM_TARGET=wasm32-unknown-unknown
WASM_IN="target/$WASM_TARGET/$LEPTOS_LIB_PROFILE/$NAME.wasm"
WASM_OPT="$ROOT/end2end/node_modules/.bin/wasm-opt"
# cargo-leptos's wasm-opt arguments (without wasm-opt-features in the metadata).
WASM_OPT_FLAGS=(-Oz --enable-bulk-memory --enable-nontrapping-float-to-int)
STAMP_DIR="target/fieldesk-build"

say() { printf 'build: %s\n' "$*"; }
die() { printf 'build: ERROR: %s\n' "$*" >&2; exit 1; }

now() { date +%s%N; }
# Seconds since a `now` value, one decimal.
since() { local ms=$((($(now) - $1) / 1000000)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

BUILD_START="$(now)"
STEP_START=""
step() { STEP_START="$(now)"; say "[$1] $2"; }
done_step() { say "[$1] ${2:-done} in $(since "$STEP_START")"; }

# Run a silent tool, printing a line every 10 s so a long run shows it is alive.
# (A background job ignores Ctrl-C in a script, hence the trap.)
BG_PID=""
trap '[ -z "$BG_PID" ] || kill "$BG_PID" 2>/dev/null || true' EXIT
with_heartbeat() {
    local label="$1" rc=0 t0 waited=0
    shift
    t0="$(now)"
    "$@" &
    BG_PID=$!
    while kill -0 "$BG_PID" 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        if [ $((waited % 10)) -eq 0 ] && kill -0 "$BG_PID" 2>/dev/null; then
            say "      $label still running ($(since "$t0"))"
        fi
    done
    wait "$BG_PID" || rc=$?
    BG_PID=""
    return "$rc"
}

# ---------------------------------------------------------------- tools
# Step 5 empties the site root: never let that be the repository or above.
case "$SITE" in
    '' | . | ./ | /* | ..*) die "refusing site-root '$SITE' (must be a directory inside the repository, e.g. target/site)" ;;
esac
pinned_wasm_bindgen="$(awk '
    $0 == "name = \"wasm-bindgen\"" { found = 1; next }
    found && /^version = / { gsub(/^version = "|"$/, ""); print; exit }
' Cargo.lock)"
[ -n "$pinned_wasm_bindgen" ] || die "wasm-bindgen not found in Cargo.lock"
have_wasm_bindgen="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
[ "$have_wasm_bindgen" = "$pinned_wasm_bindgen" ] \
    || die "wasm-bindgen CLI ${have_wasm_bindgen:-not found}, Cargo.lock pins $pinned_wasm_bindgen (run: bash scripts/setup.sh wasm-bindgen)"
[ -x "$WASM_OPT" ] || die "$WASM_OPT missing (run: bash scripts/setup.sh npm)"
pinned_wasm_split="$(awk -F'"' '/^WASM_SPLIT_VERSION=/ {print $2}' scripts/setup.sh)"
have_wasm_split="$(cargo install --list 2>/dev/null | awk '$1 == "wasm_split_cli_support" {sub(/^v/, "", $2); sub(/:$/, "", $2); print $2}')" || true
[ "$have_wasm_split" = "$pinned_wasm_split" ] && command -v wasm-split-cli >/dev/null 2>&1 \
    || die "wasm-split-cli ${have_wasm_split:-not found}, scripts/setup.sh pins $pinned_wasm_split (run: bash scripts/setup.sh wasm-split)"

# ---------------------------------------------------------------- 1. server
step 1/5 "server: cargo build --release --bin $NAME --features ssr"
cargo build --package="$NAME" --bin="$NAME" --no-default-features --features=ssr --release
done_step 1/5 "server target/release/$NAME"

# ---------------------------------------------------------------- 2. browser
step 2/5 "browser: cargo build --lib --target $WASM_TARGET --features hydrate --profile $LEPTOS_LIB_PROFILE"
cargo build --package="$NAME" --lib --target="$WASM_TARGET" --no-default-features --features=hydrate \
    --profile="$LEPTOS_LIB_PROFILE"
[ -f "$WASM_IN" ] || die "cargo did not produce $WASM_IN"
done_step 2/5 "browser $WASM_IN"

# ---------------------------------------------------------------- 3. wasm-split + wasm-bindgen + wasm-opt
# As `cargo leptos build --release --split`: wasm-split cuts the cargo output
# at the `#[lazy]` / `#[lazy_route]` split points into the main module and
# chunks (split_*.wasm, chunk_*.wasm) plus __wasm_split.js, which loads a
# route's chunks when it is first shown; wasm-bindgen then runs on the main
# module only, keeping the linker's exports the chunks import; wasm-opt runs
# on every module, two at a time.
# Redone only when the cargo output's content changed (cargo re-links it after
# any change to the crate, comments included, but the bytes often stay the
# same), when a site file is missing, or when the tools or flags changed.
mkdir -p "$PKG" "$STAMP_DIR"
stamp="$STAMP_DIR/front.stamp"
stamp_want="wasm-split-cli $have_wasm_split --target web --out-name $NAME
wasm-bindgen $have_wasm_bindgen --target web --no-typescript --keep-lld-exports --no-demangle --out-name $NAME
wasm-opt $("$WASM_OPT" --version 2>/dev/null | head -n1) ${WASM_OPT_FLAGS[*]}
input $(sha256sum "$WASM_IN" | cut -d' ' -f1)"

# wasm-opt one module in place; its output only when it fails (it warns about
# the name subsections wasm-split writes, harmlessly, for every chunk).
opt_one() {
    local log="$1.log"
    if "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$1" -o "$1.opt" 2>"$log"; then
        mv "$1.opt" "$1"
        rm -f "$log"
    else
        cat "$log" >&2
        return 1
    fi
}
# wasm-opt every module given, as many at a time as there are cores.
opt_all() {
    local max running=0 f
    max="$(nproc 2>/dev/null || echo 2)"
    for f in "$@"; do
        opt_one "$f" &
        running=$((running + 1))
        if [ "$running" -ge "$max" ]; then
            wait -n
            running=$((running - 1))
        fi
    done
    while [ "$running" -gt 0 ]; do
        wait -n
        running=$((running - 1))
    done
}

step 3/5 "wasm-split + wasm-bindgen + wasm-opt -> $PKG/$NAME.js, $PKG/$NAME.wasm and chunks"
if [ -f "$PKG/$NAME.wasm" ] && [ -f "$PKG/$NAME.js" ] && [ -f "$PKG/__wasm_split.js" ] \
    && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_want" ]; then
    done_step 3/5 "up to date (skipped: same $WASM_IN as last time)"
else
    # Work in a staging directory and move the results in at the end, so an
    # interrupted run never leaves a half-written site that looks current.
    stage="$STAMP_DIR/pkg.staging"
    rm -rf "$stage"
    mkdir -p "$stage/split"
    t0="$(now)"
    # Writes split/$NAME.wasm (the main module, for wasm-bindgen), the chunks
    # and __wasm_split.js, which imports initSync from ./$NAME.js. Its
    # warnings go to a log: one of them means the lazy routes' constants all
    # stayed in the main module (WASM_SPLIT_DATA_SLACK in src/lib.rs).
    split_log="$STAMP_DIR/wasm-split.log"
    with_heartbeat wasm-split \
        wasm-split-cli --target web --out-name "$NAME" "$WASM_IN" "$stage/split" 2>"$split_log" \
        || { cat "$split_log" >&2; die "wasm-split failed"; }
    if grep -q 'Overlong segment' "$split_log"; then
        say "      WARNING: wasm-split left all data in the main module ($(grep -o 'Overlong segment.*' "$split_log" | head -n1));"
        say "      raise WASM_SPLIT_DATA_SLACK in src/lib.rs"
    fi
    say "      wasm-split $(since "$t0"): $(find "$stage/split" -name '*.wasm' ! -name "$NAME.wasm" | wc -l) chunks"
    t0="$(now)"
    with_heartbeat wasm-bindgen \
        wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
        --out-name "$NAME" --out-dir "$stage" "$stage/split/$NAME.wasm"
    # cargo-leptos renames wasm-bindgen's <name>_bg.wasm to <name>.wasm: the
    # name Leptos's HydrationScripts asks for when LEPTOS_OUTPUT_NAME is set
    # at compile time. The JS glue is told the URL at run time, so it needs
    # no change.
    mv "$stage/${NAME}_bg.wasm" "$stage/$NAME.wasm"
    rm "$stage/split/$NAME.wasm"
    mv "$stage/split/"* "$stage/"
    rmdir "$stage/split"
    say "      wasm-bindgen $(since "$t0")"
    t0="$(now)"
    # The main module first: it takes longest.
    with_heartbeat wasm-opt \
        opt_all "$stage/$NAME.wasm" $(find "$stage" -maxdepth 1 -name '*.wasm' ! -name "$NAME.wasm" | sort)
    say "      wasm-opt ${WASM_OPT_FLAGS[*]} $(since "$t0")"
    # Out with the last build's modules (chunk names change between builds)
    # and wasm-bindgen's inline JS snippets, if any crate has some.
    find "$PKG" -maxdepth 1 \( -name '*.wasm' -o -name '__wasm_split*.js' \) -delete
    rm -rf "$PKG/snippets"
    [ -d "$stage/snippets" ] && mv "$stage/snippets" "$PKG/snippets"
    mv "$stage/"* "$PKG/"
    rmdir "$stage"
    printf '%s\n' "$stamp_want" >"$stamp"
    done_step 3/5
fi

# ---------------------------------------------------------------- 4. style
step 4/5 "style: $LEPTOS_STYLE_FILE_SRC -> $PKG/$NAME.css"
if [ -n "$LEPTOS_STYLE_FILE_SRC" ]; then
    if cmp -s "$LEPTOS_STYLE_FILE_SRC" "$PKG/$NAME.css"; then
        done_step 4/5 "up to date (skipped)"
    else
        cp "$LEPTOS_STYLE_FILE_SRC" "$PKG/$NAME.css.tmp"
        mv "$PKG/$NAME.css.tmp" "$PKG/$NAME.css"
        done_step 4/5
    fi
else
    done_step 4/5 "no style-file configured (skipped)"
fi

# ---------------------------------------------------------------- 5. assets
# As cargo-leptos: the site root mirrors the assets dir, except the pkg dir
# (ours) and an index.html (reserved by cargo-leptos).
step 5/5 "assets: $LEPTOS_ASSETS_DIR_SRC/ -> $SITE/"
if [ -n "$LEPTOS_ASSETS_DIR_SRC" ] && [ -d "$LEPTOS_ASSETS_DIR_SRC" ]; then
    find "$SITE" -mindepth 1 -maxdepth 1 ! -name "$LEPTOS_SITE_PKG_DIR" -exec rm -rf -- {} +
    find "$LEPTOS_ASSETS_DIR_SRC" -mindepth 1 -maxdepth 1 \
        ! -name "$LEPTOS_SITE_PKG_DIR" ! -name index.html -exec cp -R -p -- {} "$SITE/" \;
    done_step 5/5 "$(find "$SITE" -mindepth 1 -maxdepth 1 ! -name "$LEPTOS_SITE_PKG_DIR" | wc -l) entries"
else
    done_step 5/5 "no assets dir (skipped)"
fi

# ---------------------------------------------------------------- sizes
# What each page downloads, against the budgets of issue 12 (bench/bundle.sh;
# reported only: an overrun does not fail the build).
if command -v brotli >/dev/null 2>&1; then
    say "WASM per page, brotli -q 11 (KB = 1000 B):"
    bash bench/bundle.sh | sed 's/^/build:   /'
else
    say "no brotli (bash scripts/setup.sh apt), so no size report"
fi
say "done in $(since "$BUILD_START")"
