#!/usr/bin/env bash
# compare.sh: measures wsdissect against tshark and a bare pcapgo loop.
#
#   bench/compare.sh            # 200 MB plain and deflate captures, 20,000 connections
#   bench/compare.sh --quick    # 20 MB captures, 2,000 connections
#   bench/compare.sh --big      # also the 1 GB capture (peak RSS)
#   ROUNDS=5 bench/compare.sh   # rounds per measurement (default 3)
#   bench/compare.sh --save     # also put the results first in bench/RESULTS.md
#
# It builds wsdissect, bench/pcaploop and bench/inflatefloor, generates the
# captures into bench/out/ with bench/gen (real coder/gorilla traffic,
# replicated) when they are missing, then runs each pair of commands
# alternately ROUNDS times and prints median wall times, MB/s (capture bytes
# per second) and ratios as a markdown table, also written to
# bench/out/results.md. On permessage-deflate captures the floor of -q is the
# bare read (pcaploop) plus inflating the same messages alone over the cores
# (inflatefloor, run in the same rounds). Peak RSS is the "Maximum resident
# set size" of GNU time (/usr/bin/time, Debian package "time", installed
# when missing and possible).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
QUICK=0
BIG=0
SAVE=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    --big) BIG=1 ;;
    --save) SAVE=1 ;;
    -h | --help)
      sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "compare.sh: unknown argument $arg (see --help)" >&2
      exit 2
      ;;
  esac
done
case $ROUNDS in '' | *[!0-9]* | 0) echo "compare.sh: ROUNDS must be a positive number" >&2; exit 2 ;; esac

OUT=bench/out
TMP=$OUT/tmp
mkdir -p "$OUT" "$TMP"
rm -f "$TMP"/*

install_pkg() { # install_pkg PACKAGE: apt-get install when root
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing $1" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
  fi
}
[ -x /usr/bin/time ] || install_pkg time
if [ ! -x /usr/bin/time ]; then
  echo "compare.sh: /usr/bin/time (GNU time) is needed: apt-get install time" >&2
  exit 1
fi
command -v tshark >/dev/null 2>&1 || install_pkg tshark || true
HAVE_TSHARK=0
command -v tshark >/dev/null 2>&1 && HAVE_TSHARK=1

echo "== building" >&2
go build -o "$OUT/wsdissect" .
go build -o "$OUT/pcaploop" ./bench/pcaploop
go build -o "$OUT/shape" ./bench/shape
go build -o "$OUT/inflatefloor" ./bench/inflatefloor
WSD=$OUT/wsdissect
LOOP=$OUT/pcaploop
FLOOR=$OUT/inflatefloor

# shellcheck source=bench/captures.sh
. bench/captures.sh
BIGCAP=$OUT/plain-1GB.pcap
[ $BIG = 1 ] && gen "$BIGCAP" -kind plain -size 1GB

TSHARK_JSON="-T json -e frame.number -e tcp.stream -e websocket.fin -e websocket.opcode -e websocket.mask -e websocket.payload_length -e websocket.masking_key -e websocket.payload.text -e data.data"

# run1 KEY COMMAND...: runs the command once (stdout to /dev/null) and appends
# "seconds max-rss-KiB" to $TMP/KEY (wall time to the microsecond).
run1() {
  local key=$1 start end
  shift
  start=$EPOCHREALTIME
  if ! /usr/bin/time -o "$TMP/time" -f '%M' "$@" >/dev/null 2>"$TMP/stderr"; then
    echo "compare.sh: failed: $*" >&2
    cat "$TMP/stderr" >&2
    exit 1
  fi
  end=$EPOCHREALTIME
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b-a}') $(tail -n 1 "$TMP/time")" >>"$TMP/$key"
}

# floor1 KEY FILE: runs bench/inflatefloor on FILE once and appends the
# inflation time it prints to $TMP/KEY (not its wall time: it first collects
# the compressed messages through the dissector, untimed).
floor1() {
  local key=$1 file=$2
  if ! "$FLOOR" "$file" >"$TMP/floor" 2>"$TMP/stderr"; then
    echo "compare.sh: failed: $FLOOR $file" >&2
    cat "$TMP/stderr" >&2
    exit 1
  fi
  awk '$1 == "inflate" { sub(/s$/, "", $2); print $2 }' "$TMP/floor" >>"$TMP/$key"
}

# pair KEY "COMMAND A" "COMMAND B" [FILE]: runs A and B alternately ROUNDS
# times, after reading the captures they name once, so that they are in the
# page cache (the kernel here may reclaim the cache of files not read for a
# while). With FILE, each round also measures inflating FILE's compressed
# messages alone (floor1 KEY.c FILE).
pair() {
  local key=$1 a b w
  read -r -a a <<<"$2"
  read -r -a b <<<"$3"
  for w in "${a[@]}" "${b[@]}"; do
    if [[ $w == *.pcap && -f $w ]]; then cat "$w" >/dev/null; fi
  done
  for _ in $(seq "$ROUNDS"); do
    run1 "$key.a" "${a[@]}"
    run1 "$key.b" "${b[@]}"
    if [ $# -ge 4 ]; then floor1 "$key.c" "$4"; fi
  done
}

median() { # median KEY: median seconds of $TMP/KEY
  awk '{print $1}' "$TMP/$1" | sort -n | awk '{v[NR]=$1} END {if (NR%2) printf "%.3f\n", v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'
}
peak() { # peak KEY: largest max RSS of $TMP/KEY in MB
  awk '$2>m {m=$2} END {printf "%.0f\n", m/1024}' "$TMP/$1"
}
mbs() { # mbs FILE SECONDS: capture MB per second
  awk -v b="$(stat -c %s "$1")" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", b/1e6/s; else print "-" }'
}
ratio() { # ratio X Y: X/Y, two decimals below 10 so that 1.56 is not shown as 1.6
  awk -v x="$1" -v y="$2" 'BEGIN { if (y <= 0) print "-"; else if (x/y < 10) printf "%.2f", x/y; else printf "%.1f", x/y }'
}

ROWS=()
# row TITLE FILE KEY A-NAME B-NAME HOW TARGET: HOW is "b/a" (speed-up of A)
# or "a/b" (A's time relative to B).
row() {
  local title=$1 file=$2 key=$3 an=$4 bn=$5 how=$6 target=$7 ta tb r
  ta=$(median "$key.a")
  tb=$(median "$key.b")
  if [ "$how" = b/a ]; then r=$(ratio "$tb" "$ta"); else r=$(ratio "$ta" "$tb"); fi
  ROWS+=("| $title | $(basename "$file") | $an ${ta}s ($(mbs "$file" "$ta") MB/s) | $bn ${tb}s ($(mbs "$file" "$tb") MB/s) | **${r}×** | $target |")
}

# floor_row TITLE FILE KEY TARGET: wsdissect's median time (KEY.a, from pair
# with FILE) against its floor: the bare read's median (KEY.b) plus the
# median time of inflating the same messages alone over the cores (KEY.c).
floor_row() {
  local title=$1 file=$2 key=$3 target=$4 ta tb tc fl
  ta=$(median "$key.a")
  tb=$(median "$key.b")
  tc=$(median "$key.c")
  fl=$(awk -v b="$tb" -v c="$tc" 'BEGIN {printf "%.3f", b+c}')
  ROWS+=("| $title | $(basename "$file") | wsdissect ${ta}s ($(mbs "$file" "$ta") MB/s) | floor ${fl}s (pcaploop ${tb}s + inflate ${tc}s) | **$(ratio "$ta" "$fl")×** | $target |")
}

if [ $HAVE_TSHARK = 1 ]; then
  for cap in "$PLAIN" "$DEFLATE" "$REAL" "$REALDEF" "$MANY"; do
    k=$(basename "$cap" .pcap)
    echo "== $k: --json vs tshark -T json (ROUNDS=$ROUNDS)" >&2
    pair "$k.json" "$WSD read $cap --json" "tshark -n -r $cap -Y websocket $TSHARK_JSON"
    row "\`--json\` vs \`tshark -T json -e ...\`" "$cap" "$k.json" wsdissect tshark b/a "≥ 30×"
    echo "== $k: summary vs tshark -Y websocket" >&2
    pair "$k.sum" "$WSD read $cap" "tshark -n -r $cap -Y websocket"
    row "summary vs \`tshark -Y websocket\`" "$cap" "$k.sum" wsdissect tshark b/a "≥ 30×"
  done
else
  ROWS+=("| tshark comparisons | - | skipped: tshark is not installed | | | |")
fi
for cap in "$PLAIN" "$DEFLATE" "$REAL" "$REALDEF" "$MANY"; do
  k=$(basename "$cap" .pcap)
  case $cap in
    "$DEFLATE" | "$REALDEF")
      # With permessage-deflate the floor is the read plus inflating the
      # same messages alone, split over the cores.
      echo "== $k: -q vs pcaploop and vs its floor" >&2
      pair "$k.q" "$WSD read $cap -q" "$LOOP $cap" "$cap"
      row "\`-q\` vs bare pcapgo loop" "$cap" "$k.q" wsdissect pcaploop a/b "(floor: next row)"
      floor_row "\`-q\` vs its floor (bare read + inflate alone over the cores)" "$cap" "$k.q" "≤ 1.2×"
      ;;
    *)
      echo "== $k: -q vs pcaploop" >&2
      pair "$k.q" "$WSD read $cap -q" "$LOOP $cap"
      row "\`-q\` vs bare pcapgo loop" "$cap" "$k.q" wsdissect pcaploop a/b "≤ 2×"
      ;;
  esac
done
# wss against the same sessions in clear: what decryption adds.
for tc in "$REALWSS:$REAL" "$WSS:$PLAIN"; do
  tls=${tc%%:*}
  clear=${tc#*:}
  k=$(basename "$tls" .pcap)
  echo "== $k: -q and summary against the same traffic in clear" >&2
  pair "$k.tls" "$WSD read $tls -q --keylog $tls.keylog" "$WSD read $clear -q"
  row "wss \`-q\` vs the same sessions in clear ($(basename "$clear"))" "$tls" "$k.tls" "wss" "clear" a/b "≤ 1.5×"
  pair "$k.tlssum" "$WSD read $tls --keylog $tls.keylog" "$WSD read $clear"
  row "wss summary vs the same sessions in clear ($(basename "$clear"))" "$tls" "$k.tlssum" "wss" "clear" a/b "≤ 1.5×"
done
# Two cores against one: on the 20,000 short connections, and on the plain
# capture's fewer, longer ones (4,048 in the 200 MB one).
for cap in "$MANY" "$PLAIN" "$REAL"; do
  k=$(basename "$cap" .pcap)
  for mode in "" "--json"; do
    echo "== $k: GOMAXPROCS=1 vs 2 ${mode:-summary}" >&2
    pair "$k.cores$mode" "env GOMAXPROCS=2 $WSD read $cap $mode" "env GOMAXPROCS=1 $WSD read $cap $mode"
    row "GOMAXPROCS=2 vs 1, ${mode:-summary}" "$cap" "$k.cores$mode" "2 cores" "1 core" b/a "≥ 1.6×"
  done
done

RSS=()
rss_row() { # rss_row FILE MODE...: peak RSS of wsdissect over ROUNDS runs
  local file=$1 key
  shift
  key=rss.$(basename "$file" .pcap).$*
  key=${key// /_}
  echo "== peak RSS: $(basename "$file") ${*:-summary}" >&2
  cat "$file" >/dev/null # into the page cache, as in pair
  for _ in $(seq "$ROUNDS"); do run1 "$key" "$WSD" read "$file" "$@"; done
  RSS+=("| $(basename "$file") | $(du -m "$file" | cut -f1) MB | \`${*:-(summary)}\` | $(peak "$key") MB | $(median "$key")s |")
}
rss_row "$PLAIN" --json
rss_row "$PLAIN" -q
rss_row "$DEFLATE" --json
rss_row "$MANY" --json
rss_row "$REAL" --json
rss_row "$REALDEF" --json
if [ $BIG = 1 ]; then
  rss_row "$BIGCAP" --json
  rss_row "$BIGCAP" -q
fi

{
  echo "## Results"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo) memory, $(go version | cut -d' ' -f3), $([ $HAVE_TSHARK = 1 ] && tshark --version 2>/dev/null | head -1 | sed -E 's/^TShark \(Wireshark\) ([^ ]+).*/tshark \1/' || echo 'no tshark'), $(uname -sr)."
  echo "Median wall time of $ROUNDS alternating runs (output to /dev/null, captures in the page cache); MB/s is capture bytes per second; $(date -u +%Y-%m-%d)."
  echo
  echo "Captures (connections, frames, mean and median frame payload):"
  echo
  for cap in "$PLAIN" "$DEFLATE" "$REAL" "$REALDEF" "$MANY"; do
    echo "- $(basename "$cap"), $(du -m "$cap" | cut -f1) MB: $("$OUT/shape" "$cap")"
  done
  echo
  echo "| comparison | capture | wsdissect / first | other | ratio | target |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Peak RSS of \`wsdissect read\` (Maximum resident set size, \`/usr/bin/time\`):"
  echo
  echo "| capture | size | flags | peak RSS | median time |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${RSS[@]}"
} >"$OUT/results.md"
cat "$OUT/results.md"
if [ $SAVE = 1 ]; then
  # The new results go first; the earlier ones, and the notes of every
  # round after them, stay (the former first heading says what replaced it).
  {
    cat "$OUT/results.md"
    if [ -f bench/RESULTS.md ]; then
      echo
      sed "1s/^## Results\$/## Results before those of $(date -u +%F) (build $(git rev-parse --short HEAD 2>/dev/null || echo unknown))/" bench/RESULTS.md
    fi
  } >"$OUT/RESULTS.new.md"
  mv "$OUT/RESULTS.new.md" bench/RESULTS.md
  echo "(saved to bench/RESULTS.md, before the earlier results)" >&2
fi
