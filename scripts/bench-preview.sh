#!/usr/bin/env bash
# Measures `descview show` against the tools people use to look at a picture in a terminal,
# each drawing the same file as 80 columns of half-blocks, the height following the picture:
#
#   descview   descview show FILE --width 80 --protocol halfblocks
#   viu        viu -w 80 -b -s FILE
#   chafa      chafa --animate off -f symbols -c full -s 80x1000 FILE
#   timg       timg --frames=1 -g80x40 -W -ph FILE
#
# The pictures are drawn by `examples/bench_pictures.rs` to look like description pictures
# (panels, gradients, lines of text-like glyphs): a 790x8000 baseline JPEG, the same picture
# as a progressive JPEG (converted with jpegtran), a 750x1000 PNG and a 790x1500 WebP.
#
# Every tool draws every file RUNS times, output to /dev/null; the tools take turns within
# each round, so a change in the machine's load falls on all of them alike. Prints the median
# wall time and the peak memory (maximum resident set size, from GNU time) of each, and how
# many times faster descview is than each peer (peer's median / descview's median), then
# checks the targets: on the tall JPEG at least 3 times faster than the fastest peer, on the
# PNG no slower than the fastest, and peak memory below every peer's.
#
# Usage: scripts/bench-preview.sh [RUNS]   (default 15)
# Installs what is missing: viu (cargo install), chafa, timg, jpegtran and GNU time (Debian).
set -euo pipefail

runs=${1:-15}
cd "$(dirname "$0")/.."

# --- tools --------------------------------------------------------------------------------
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
debian_missing=()
command -v chafa >/dev/null 2>&1 || debian_missing+=(chafa)
command -v timg >/dev/null 2>&1 || debian_missing+=(timg)
command -v jpegtran >/dev/null 2>&1 || debian_missing+=(libjpeg-turbo-progs)
[ -x /usr/bin/time ] || debian_missing+=(time)
if [ "${#debian_missing[@]}" -gt 0 ]; then
    echo "bench-preview: installing ${debian_missing[*]}" >&2
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${debian_missing[@]}" >/dev/null
fi
if ! command -v viu >/dev/null 2>&1; then
    echo "bench-preview: installing viu (cargo install viu; a few minutes)" >&2
    cargo install --quiet viu
    export PATH="$HOME/.cargo/bin:$PATH"
fi

cargo build --release --quiet
cargo build --release --quiet --example bench_pictures
descview=$PWD/target/release/descview

# --- pictures -------------------------------------------------------------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/examples/bench_pictures "$work"
jpegtran -progressive -copy all -outfile "$work/tall-progressive.jpg" "$work/tall.jpg"
files=(tall.jpg tall-progressive.jpg sheet.png panel.webp)
tools=(descview viu chafa timg)

command_for() { # TOOL FILE: sets `cmd`
    case "$1" in
    descview) cmd=("$descview" show "$2" --width 80 --protocol halfblocks) ;;
    viu) cmd=(viu -w 80 -b -s "$2") ;;
    chafa) cmd=(chafa --animate off -f symbols -c full -s 80x1000 "$2") ;;
    timg) cmd=(timg --frames=1 -g80x40 -W -ph "$2") ;;
    esac
}

# One timed run: appends "MICROSECONDS KB" (wall time, peak resident set) to the tool's
# record for the file, or "failed" when the tool exits with an error. GNU time adds the same
# fork and exec to every tool's wall time.
measure() { # TOOL FILE
    local record="$work/$1.$2.txt" start end kb
    command_for "$1" "$work/$2"
    start=$(date +%s%N)
    if /usr/bin/time -v -o "$work/time.txt" "${cmd[@]}" >/dev/null 2>"$work/stderr.txt"; then
        end=$(date +%s%N)
        kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
        echo "$(((end - start) / 1000)) $kb" >>"$record"
    else
        echo failed >>"$record"
        echo "bench-preview: $1 failed on $2: $(head -c 300 "$work/stderr.txt")" >&2
    fi
}

# Warm the page cache and every tool's libraries before the clock starts.
for file in "${files[@]}"; do
    for tool in "${tools[@]}"; do
        command_for "$tool" "$work/$file"
        "${cmd[@]}" >/dev/null 2>&1 || true
    done
done
for _ in $(seq 1 "$runs"); do
    for file in "${files[@]}"; do
        for tool in "${tools[@]}"; do
            measure "$tool" "$file"
        done
    done
done

# --- report ---------------------------------------------------------------------------------
median_ms() { # RECORD
    grep -v failed "$1" | awk '{ print $1 }' | sort -n \
        | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) printf "%.1f\n", v[(NR + 1) / 2] / 1000; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2000 }'
}
peak_mb() { # RECORD
    grep -v failed "$1" | awk '{ if ($2 > m) m = $2 } END { if (NR == 0) print "nan"; else printf "%.1f\n", m / 1024 }'
}

echo
echo "descview show against peers: 80 columns of half-blocks, $runs runs each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %-9s %10s %9s  %s\n' file tool "median ms" "peak MB" "descview against it"
verdicts=()
for file in "${files[@]}"; do
    own_ms=$(median_ms "$work/descview.$file.txt")
    own_mb=$(peak_mb "$work/descview.$file.txt")
    fastest=nan
    for tool in "${tools[@]}"; do
        ms=$(median_ms "$work/$tool.$file.txt")
        mb=$(peak_mb "$work/$tool.$file.txt")
        failures=$(grep -c failed "$work/$tool.$file.txt" || true)
        note=""
        if [ "$tool" != descview ] && [ "$ms" != nan ]; then
            note=$(awk -v own="$own_ms" -v peer="$ms" -v ownm="$own_mb" -v peerm="$mb" \
                'BEGIN { printf "%.2fx faster, %.2fx the memory", peer / own, ownm / peerm }')
            fastest=$(awk -v a="$fastest" -v b="$ms" 'BEGIN { print (a == "nan" || b < a) ? b : a }')
            if awk -v own="$own_mb" -v peer="$mb" 'BEGIN { exit !(own >= peer) }'; then
                verdicts+=("MISSED memory on $file: descview $own_mb MB, $tool $mb MB")
            fi
        fi
        [ "$failures" -gt 0 ] && note="$note ($failures runs failed)"
        printf '%-22s %-9s %10s %9s  %s\n' "$file" "$tool" "$ms" "$mb" "$note"
    done
    case "$file" in
    tall.jpg) want=3 ;;
    sheet.png) want=1 ;;
    *) want="" ;;
    esac
    if [ -n "$want" ] && [ "$fastest" != nan ]; then
        ratio=$(awk -v own="$own_ms" -v peer="$fastest" 'BEGIN { printf "%.2f", peer / own }')
        if awk -v r="$ratio" -v w="$want" 'BEGIN { exit !(r >= w) }'; then
            verdicts+=("met     speed on $file: ${ratio}x the fastest peer (target ${want}x)")
        else
            verdicts+=("MISSED  speed on $file: ${ratio}x the fastest peer (target ${want}x)")
        fi
    fi
done
echo
printf '%s\n' "${verdicts[@]}"
if ! printf '%s\n' "${verdicts[@]}" | grep -q "MISSED memory"; then
    echo "met     memory: descview's peak is below every peer's on every file"
fi
