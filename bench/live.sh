#!/usr/bin/env bash
# live.sh: does "wsdissect live -i lo" keep up with WebSocket traffic?
#
#   sudo bench/live.sh                      # rates 100, 250, 500, 1000 Mbit/s, then unlimited
#   RATES="800 1000" DURATION=10 bench/live.sh
#   LIVEFLAGS="-B 65536" bench/live.sh      # extra wsdissect live flags (a 64 MiB kernel buffer)
#
# For each rate (Mbit/s of WebSocket payload; 0 means as fast as possible) it
# starts "wsdissect live -i lo -q tcp port PORT", sends DURATION seconds of
# traffic with bench/livesend (gorilla/websocket clients and server on
# 127.0.0.1), and prints the kernel drop count from wsdissect's summary line
# ("N packets captured, R received by filter, D dropped by kernel; ...").
# Live capture needs root (or CAP_NET_RAW) and, for the filter, libpcap.
set -euo pipefail
cd "$(dirname "$0")/.."

RATES=${RATES:-"100 250 500 1000 0"}
DURATION=${DURATION:-5}
PORT=${PORT:-18080}
CONNS=${CONNS:-4}
SIZE=${SIZE:-1400}
LIVEFLAGS=${LIVEFLAGS:-}
OUT=bench/out
mkdir -p "$OUT/tmp"

go build -o "$OUT/wsdissect" .
go build -o "$OUT/livesend" ./bench/livesend

echo "wsdissect live -i lo -q ${LIVEFLAGS:+$LIVEFLAGS }tcp port $PORT; $CONNS connections, $SIZE-byte messages, ${DURATION}s per rate"
echo
echo "| target | achieved | packets captured | received by filter | dropped by kernel |"
echo "|---|---|---|---|---|"
for rate in $RATES; do
  # shellcheck disable=SC2086 # LIVEFLAGS is split into flags on purpose
  "$OUT/wsdissect" live -i lo -q --duration "$((DURATION + 3))s" $LIVEFLAGS tcp port "$PORT" >/dev/null 2>"$OUT/tmp/live.err" &
  pid=$!
  sleep 1.5
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "live.sh: wsdissect live did not start:" >&2
    cat "$OUT/tmp/live.err" >&2
    exit 1
  fi
  sent=$("$OUT/livesend" -port "$PORT" -conns "$CONNS" -size "$SIZE" -rate "$rate" -duration "${DURATION}s")
  wait "$pid" || true
  summary=$(grep 'packets captured' "$OUT/tmp/live.err" || true)
  captured=$(sed -nE 's/^([0-9]+) packets captured.*/\1/p' <<<"$summary")
  received=$(sed -nE 's/.* ([0-9]+) received by filter.*/\1/p' <<<"$summary")
  dropped=$(sed -nE 's/.* ([0-9]+) dropped by kernel.*/\1/p' <<<"$summary")
  achieved=$(sed -nE 's/.*: ([0-9]+) Mbit\/s$/\1/p' <<<"$sent")
  target=$rate
  [ "$rate" = 0 ] && target="unlimited"
  echo "| $target Mbit/s | $achieved Mbit/s | ${captured:-?} | ${received:-?} | ${dropped:-?} |"
done
