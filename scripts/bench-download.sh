#!/usr/bin/env bash
# Measures `descview download` against the local stand-in on loopback, side by side with the
# two ways people fetch the same pictures without it:
#
#   sequential   one request after another with curl, API call then each picture, as the API
#                documentation's own examples do (one blocking request at a time)
#   xargs -P 8   `xargs -P 8 curl` over the list of the same picture URLs (the list is made
#                before the clock starts, so this run makes no API calls at all)
#   descview     `descview download` of the offer IDs: API calls and pictures, with a fresh
#                store (every answer is fetched) into a fresh folder
#
# The stand-in serves OFFERS offers of PICTURES pictures (about 64 KiB each) and answers every
# request LATENCY_MS late, like a distant server. One run of each; prints wall times, ratios
# and descview's peak memory (maximum resident set size, from /usr/bin/time -v).
#
# Usage: scripts/bench-download.sh [OFFERS [PICTURES [LATENCY_MS]]]   (default 200 15 20)
# Needs: cargo, curl, jq, GNU time (/usr/bin/time; Debian package `time`).
set -euo pipefail

offers=${1:-200}
pictures=${2:-15}
latency_ms=${3:-20}
jobs=8

cd "$(dirname "$0")/.."
for tool in curl jq /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench-download: $tool is missing" >&2; exit 2; }
done

cargo build --release --quiet
descview=$PWD/target/release/descview

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
token=descview-demo-token   # the stand-in's own token; it opens nothing else

"$descview" mock-server --addr "127.0.0.1:$port" --bench-catalogue "${offers}x${pictures}" \
    --latency-ms "$latency_ms" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -sf "$base/1688/item_desc?item_id=900000000001&apiToken=$token" >/dev/null && break
    sleep 0.1
done

# The offer IDs, and (before any clock starts) the picture URLs their answers list.
seq 900000000001 $((900000000000 + offers)) >"$work/ids.txt"
: >"$work/urls.txt"
while read -r id; do
    curl -s "$base/1688/item_desc?item_id=$id&apiToken=$token" \
        | jq -r --arg id "$id" '.data.detail_imgs | to_entries[]
            | "\(.value) -o '"$work"'/xargs/\($id)_\(.key + 1).jpg"' >>"$work/urls.txt"
done <"$work/ids.txt"
total_pictures=$(wc -l <"$work/urls.txt")

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }

# 1. One request after another, as the documentation's examples do.
mkdir -p "$work/sequential"
start=$(now)
while read -r id; do
    n=0
    curl -s "$base/1688/item_desc?item_id=$id&apiToken=$token" | jq -r '.data.detail_imgs[]' \
        | while read -r url; do
            n=$((n + 1))
            curl -s -o "$work/sequential/${id}_$n.jpg" "$url"
        done
done <"$work/ids.txt"
sequential=$(elapsed "$start" "$(now)")

# 2. xargs -P 8 curl over the same picture URLs.
mkdir -p "$work/xargs"
start=$(now)
xargs -P "$jobs" -n 3 curl -s <"$work/urls.txt"
parallel_curl=$(elapsed "$start" "$(now)")

# 3. descview download, fresh store and folder.
start=$(now)
env -i PATH="$PATH" HOME="$work/home" \
    DESCVIEW_CONFIG_DIR="$work/home/config" DESCVIEW_DATA_DIR="$work/home/data" \
    DESCVIEW_STATE_DIR="$work/home/state" DESCVIEW_CACHE_DIR="$work/home/cache" \
    TMAPI_TOKEN="$token" TMAPI_BASE="$base" \
    /usr/bin/time -v -o "$work/time.txt" \
    "$descview" download --from "$work/ids.txt" --out "$work/descview" --jobs "$jobs" \
    2>"$work/descview.log" || { cat "$work/descview.log" >&2; exit 1; }
descview_time=$(elapsed "$start" "$(now)")
peak_kib=$(awk -F': *' '/Maximum resident set size/ {print $2}' "$work/time.txt")

count() { find "$1" -type f -name '*.jpg' | wc -l; }
echo "pictures fetched: sequential $(count "$work/sequential"), xargs $(count "$work/xargs"), descview $(count "$work/descview") of $total_pictures"
tail -n 2 "$work/descview.log" | head -n 1

printf '\n%s offers x %s pictures, %s ms latency per request, --jobs %s / -P %s\n' \
    "$offers" "$pictures" "$latency_ms" "$jobs" "$jobs"
printf '%-34s %10s %26s\n' "how" "wall (s)" "descview is ... times faster"
printf '%-34s %10.2f %26.1f\n' "sequential curl (API + pictures)" "$sequential" \
    "$(ratio "$sequential" "$descview_time")"
printf '%-34s %10.2f %26.1f\n' "xargs -P $jobs curl (pictures only)" "$parallel_curl" \
    "$(ratio "$parallel_curl" "$descview_time")"
printf '%-34s %10.2f %26s\n' "descview download (API + pictures)" "$descview_time" "1.0"
printf 'descview peak memory (max RSS): %.1f MB\n' "$(ratio "$peak_kib" 1024)"
