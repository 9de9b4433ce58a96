#!/usr/bin/env bash
# WASM download per page, against the budgets of issue 12 (docs/PERFORMANCE.md).
# Needs `make build` first, and brotli (scripts/setup.sh). Prints Markdown;
# scripts/build.sh prints the same table after every build.
#
# Every page loads the main module (pkg/fieldesk.wasm). A lazy route loads, on
# top, its split module and the chunks it shares with other modules, as listed
# in pkg/__wasm_split.js (written by wasm-split). One row per split module
# (`lazy_page!` in src/app.rs: most hold one page; `back_office` holds the
# administrators' and managers' pages): what the browser
# fetches for a page of it, main + those files, each compressed on its own
# with brotli -q 11, KB = 1000 B. Budgets: sign-in, registration, the
# magic-link pages and the customer portal < 250 KB; the desk < 400 KB; the
# other areas are reported only. An overrun is printed, not an error.
#
# Usage: bench/bundle.sh [--chunks]   (--chunks: also one row per file)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FIELDESK_ROOT=.
# shellcheck source=scripts/leptos-env.sh
. scripts/leptos-env.sh
NAME="$LEPTOS_OUTPUT_NAME"
PKG="$LEPTOS_SITE_ROOT/$LEPTOS_SITE_PKG_DIR"
LOADER="$PKG/__wasm_split.js"
[ -f "$PKG/$NAME.wasm" ] && [ -f "$LOADER" ] || { echo "bundle: no split build in $PKG (run: make build)" >&2; exit 1; }
command -v brotli >/dev/null 2>&1 || { echo "bundle: brotli missing (run: bash scripts/setup.sh apt)" >&2; exit 1; }

# brotli -q 11 of all modules takes ~15 s: cache each file's result by size and mtime.
CACHE=target/fieldesk-build/bundle-sizes
mkdir -p "$(dirname "$CACHE")"
touch "$CACHE"
declare -A RAW BR
while read -r file key raw br; do
    [ "$(stat -c '%s.%Y' "$file" 2>/dev/null)" = "$key" ] && RAW[$file]=$raw BR[$file]=$br
done <"$CACHE"
measure() {
    [ -n "${BR[$1]:-}" ] && return
    RAW[$1]=$(stat -c %s "$1")
    BR[$1]=$(brotli -q 11 -c "$1" | wc -c)
}

# One line per split point: its name, then the files it loads (without .wasm).
splits="$(awk '
    /^const __chunk_[0-9]+ = makeLoad/ { cur = $2; split_point = 0; next }
    /^export const __wasm_split_load_/ {
        cur = $3; sub(/^__wasm_split_load_/, "", cur); split_point = 1; own[cur] = ""; next
    }
    /fetch\(new URL\("\.\// {
        match($0, /"\.\/[^"]+\.wasm"/)
        f = substr($0, RSTART + 3, RLENGTH - 9)
        if (split_point) own[cur] = f; else file[cur] = f
        next
    }
    /^, \[/ && split_point {
        line = cur " " own[cur]
        deps = $0
        gsub(/^, \[|\]\)\);$/, "", deps)
        n = split(deps, d, /, */)
        for (i = 1; i <= n; i++) if (d[i] != "") line = line " " file[d[i]]
        print line
    }
' "$LOADER" | sort)"

kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000 }'; }
budget_of() {
    case "$1" in
        main | register | request_link | access | portal_*) echo 250 ;;
        desk_*) echo 400 ;;
        *) echo "" ;;
    esac
}
row() { # label files raw br
    local budget verdict
    budget="$(budget_of "$1")"
    if [ -z "$budget" ]; then
        verdict="reported"
    elif [ "$4" -lt $((budget * 1000)) ]; then
        verdict="< $budget ok"
    else
        verdict="< $budget OVER by $(kb $(($4 - budget * 1000)))"
    fi
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$(kb "$3")" "$(kb "$4")" "$verdict"
}

main="$PKG/$NAME.wasm"
measure "$main"
for js in "$PKG/$NAME.js" "$LOADER"; do measure "$js"; done

echo "| page (split module) | WASM files | raw KB | brotli KB | budget (brotli KB) |"
echo "| --- | --- | --- | --- | --- |"
row main "1 (/login, /, 404; every page)" "${RAW[$main]}" "${BR[$main]}"
while read -r split own deps; do
    [ -n "$split" ] || continue
    # desk_home_123 -> desk_home (a #[lazy_route] would be __desk_home_route_view_123).
    label="$(sed -E 's/^__//; s/_route_view_[0-9]+$//; s/_[0-9]+$//' <<<"$split")"
    raw=${RAW[$main]} br=${BR[$main]} n=1
    for f in $own $deps; do
        measure "$PKG/$f.wasm"
        raw=$((raw + RAW[$PKG/$f.wasm])) br=$((br + BR[$PKG/$f.wasm])) n=$((n + 1))
    done
    row "$label" "main + $((n - 1))" "$raw" "$br"
done <<<"$splits"

all_raw=0 all_br=0 n=0
for f in "$PKG"/*.wasm; do
    measure "$f"
    all_raw=$((all_raw + RAW[$f])) all_br=$((all_br + BR[$f])) n=$((n + 1))
done
printf '| all modules together | %s | %s | %s | |\n' "$n" "$(kb "$all_raw")" "$(kb "$all_br")"
printf '| JS: %s + __wasm_split.js (every page) | | %s | %s | |\n' "$NAME.js" \
    "$(kb $((RAW[$PKG/$NAME.js] + RAW[$LOADER])))" "$(kb $((BR[$PKG/$NAME.js] + BR[$LOADER])))"

if [ "${1:-}" = "--chunks" ]; then
    echo
    echo "| file | raw KB | brotli KB |"
    echo "| --- | --- | --- |"
    for f in "$PKG"/*.wasm; do
        printf '| %s | %s | %s |\n' "${f##*/}" "$(kb "${RAW[$f]}")" "$(kb "${BR[$f]}")"
    done
fi

for f in "${!BR[@]}"; do
    printf '%s %s %s %s\n' "$f" "$(stat -c '%s.%Y' "$f")" "${RAW[$f]}" "${BR[$f]}"
done >"$CACHE"
