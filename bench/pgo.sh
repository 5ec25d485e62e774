#!/usr/bin/env bash
# pgo.sh: regenerates default.pgo, the CPU profile that "go build" uses for
# profile-guided optimization of wsdissect (Go's -pgo=auto picks up
# default.pgo in the main package's directory).
#
#   bench/pgo.sh            # 200 MB captures and 20,000 connections (as compare.sh)
#   bench/pgo.sh --quick    # 20 MB captures and 2,000 connections
#
# It builds wsdissect without PGO, generates the benchmark captures with
# bench/gen when they are missing (the same files compare.sh uses), runs the
# main output modes on them (and on the real sessions over TLS) with the hidden
# --cpuprofile flag, on one core and on all, and merges the profiles into
# default.pgo. Re-run it when the hot path changes a lot; a stale profile
# costs a little speed, never correctness.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h | --help)
      sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "pgo.sh: unknown argument $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

OUT=bench/out
PROF=$OUT/pgo
mkdir -p "$OUT" "$PROF"
rm -f "$PROF"/*.prof

# shellcheck source=bench/captures.sh
. bench/captures.sh

echo "== building without PGO" >&2
go build -pgo=off -o "$OUT/wsdissect-nopgo" .

n=0
profile() { # profile PROCS CAPTURE FLAGS...: one profiled run
  local procs=$1 cap=$2
  shift 2
  n=$((n + 1))
  GOMAXPROCS=$procs "$OUT/wsdissect-nopgo" read "$cap" "$@" --cpuprofile "$PROF/$n.prof" >/dev/null
}
for procs in "$(nproc)" 1; do
  echo "== profiling with GOMAXPROCS=$procs" >&2
  for _ in 1 2; do
    profile "$procs" "$PLAIN"
    profile "$procs" "$PLAIN" -q
    profile "$procs" "$PLAIN" --json
    profile "$procs" "$PLAIN" --messages
    profile "$procs" "$DEFLATE"
    profile "$procs" "$DEFLATE" --json
    profile "$procs" "$MANY"
    profile "$procs" "$MANY" --json
    profile "$procs" "$REAL"
    profile "$procs" "$REAL" -q
    profile "$procs" "$REAL" --json
    profile "$procs" "$REALDEF"
    profile "$procs" "$REALDEF" --json
    profile "$procs" "$REALWSS" -q --keylog "$REALWSS.keylog"
    profile "$procs" "$REALWSS" --keylog "$REALWSS.keylog"
  done
done
profile "$(nproc)" "$PLAIN" -V

go tool pprof -proto "$PROF"/*.prof >default.pgo
echo "== wrote default.pgo ($(wc -c <default.pgo) bytes from $n runs)" >&2
