# Fieldesk: the build-time environment cargo-leptos would set, for plain cargo.
#
# Source it (bash):  . scripts/leptos-env.sh
#
# cargo-leptos 0.3.10 runs every cargo command with these variables, taken
# from [package.metadata.leptos] in Cargo.toml (its `to_envs` for a release
# build). The Leptos crates read LEPTOS_OUTPUT_NAME at compile time
# (`option_env!`): with it, HydrationScripts asks for /pkg/<name>.wasm, without
# it for <name>_bg.wasm, and cargo rebuilds the whole leptos stack whenever the
# value changes. The others are only read at run time (and Fieldesk builds its
# LeptosOptions itself), but are set too so a build here matches one by
# cargo-leptos. scripts/build.sh and every cargo command of the Makefile
# (test, clippy) source this file, so they all compile with the same
# environment and never invalidate each other's artifacts.
#
# Also sets (not exported) LEPTOS_STYLE_FILE_SRC, LEPTOS_ASSETS_DIR_SRC and
# LEPTOS_LIB_PROFILE for scripts/build.sh.

# Value of `key = "..."` or `key = 123` in [package.metadata.leptos].
_fieldesk_leptos_meta() {
    awk -v key="$1" '
        /^\[/ { in_section = ($0 == "[package.metadata.leptos]"); next }
        in_section {
            line = $0
            sub(/[[:space:]]*#.*$/, "", line)
            n = index(line, "=")
            if (n == 0) next
            k = substr(line, 1, n - 1); v = substr(line, n + 1)
            gsub(/^[[:space:]]+|[[:space:]]+$/, "", k)
            gsub(/^[[:space:]]+|[[:space:]]+$/, "", v)
            gsub(/^"|"$/, "", v)
            if (k == key) { print v; exit }
        }
    ' "${FIELDESK_ROOT:-.}/Cargo.toml"
}

export LEPTOS_OUTPUT_NAME="$(_fieldesk_leptos_meta output-name)"
export LEPTOS_SITE_ROOT="$(_fieldesk_leptos_meta site-root)"
export LEPTOS_SITE_PKG_DIR="$(_fieldesk_leptos_meta site-pkg-dir)"
export LEPTOS_SITE_ADDR="$(_fieldesk_leptos_meta site-addr)"
export LEPTOS_RELOAD_PORT="$(_fieldesk_leptos_meta reload-port)"
# The crate is the workspace root: both packages' directories are ".".
export LEPTOS_LIB_DIR=.
export LEPTOS_BIN_DIR=.
# cargo-leptos's values for a release build (js-minify defaults to true,
# hash-files to false); nothing reads them at compile time.
export LEPTOS_JS_MINIFY=true
export LEPTOS_HASH_FILES=false

# `cargo leptos build --split` links the WASM with relocations kept, which
# wasm-split needs to cut it at the `#[lazy]` / `#[lazy_route]` split points
# (cargo-leptos appends it to RUSTFLAGS). Both builds set `erase_components`:
# Leptos then erases each component's view type (AnyView), which makes the
# WASM smaller (all modules together by a fifth, the ticket page by 13 %:
# docs/PERFORMANCE.md); the server must render with the same setting, or
# hydration fails.
# Per-target variables, so no RUSTFLAGS is needed; a RUSTFLAGS of your own
# overrides both (the split then fails, and cargo rebuilds every crate).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Clink-args=--emit-relocs --cfg=erase_components"
_fieldesk_host="$(rustc -vV | sed -n 's/^host: //p')"
export "CARGO_TARGET_$(printf '%s' "$_fieldesk_host" | tr 'a-z.-' 'A-Z__')_RUSTFLAGS=--cfg=erase_components"
unset _fieldesk_host

LEPTOS_STYLE_FILE_SRC="$(_fieldesk_leptos_meta style-file)"
LEPTOS_ASSETS_DIR_SRC="$(_fieldesk_leptos_meta assets-dir)"
LEPTOS_LIB_PROFILE="$(_fieldesk_leptos_meta lib-profile-release)"

# Defaults as cargo-leptos's, should a key be missing.
: "${LEPTOS_OUTPUT_NAME:=fieldesk}" "${LEPTOS_SITE_ROOT:=target/site}" "${LEPTOS_SITE_PKG_DIR:=pkg}"
: "${LEPTOS_SITE_ADDR:=127.0.0.1:3000}" "${LEPTOS_RELOAD_PORT:=3001}" "${LEPTOS_LIB_PROFILE:=release}"
unset -f _fieldesk_leptos_meta
