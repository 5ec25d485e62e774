# captures.sh: sourced by compare.sh and pgo.sh. It names the benchmark
# captures in $OUT (20 MB and 2,000 connections when QUICK=1, else 200 MB and
# 20,000) and generates the missing ones with bench/gen from real library
# traffic. After it, PLAIN, DEFLATE, MANY, REAL and REALDEF (traffic shaped
# like real-time applications: 200 concurrent connections of small messages,
# plain and with permessage-deflate), REALWSS and WSS (the real and the plain
# sessions over TLS, key log in FILE.keylog) hold their paths and gen FILE ARGS...
# generates any other capture.
# shellcheck shell=bash

if [ "$QUICK" = 1 ]; then SIZE=20MB CONNS=2000 REALCONC=40; else SIZE=200MB CONNS=20000 REALCONC=200; fi
PLAIN=$OUT/plain-$SIZE.pcap
DEFLATE=$OUT/deflate-$SIZE.pcap
MANY=$OUT/conns-$CONNS.pcap
REAL=$OUT/real-$SIZE.pcap
REALDEF=$OUT/real-deflate-$SIZE.pcap
gen() { # gen FILE ARGS...: generate FILE unless it exists
  local file=$1
  shift
  if [ ! -s "$file" ]; then
    echo "== generating $file" >&2
    go run ./bench/gen -o "$file" "$@" >&2
  fi
}
gen "$PLAIN" -kind plain -size "$SIZE"
gen "$DEFLATE" -kind deflate -size "$SIZE"
gen "$MANY" -kind conns -count "$CONNS"
gen "$REAL" -kind real -size "$SIZE" -concurrent "$REALCONC"
gen "$REALDEF" -kind real-deflate -size "$SIZE" -concurrent "$REALCONC"
# The same sessions over TLS, each with the key log bench/gen writes beside it
# (FILE.keylog): the real ones, and the plain capture's (wss).
REALWSS=$OUT/real-wss-$SIZE.pcap
WSS=$OUT/wss-$SIZE.pcap
gen "$REALWSS" -kind real-wss -size "$SIZE" -concurrent "$REALCONC"
gen "$WSS" -kind wss -size "$SIZE"
