#!/usr/bin/env bash
# ab.sh: compares two builds of wsdissect, before and after a change.
#
#   bench/ab.sh OLDREV [NEWREV] [CAPTURE...]   # NEWREV defaults to the work tree
#   ROUNDS=7 bench/ab.sh 75b3efe               # rounds per measurement (default 5)
#
# It builds OLDREV (a git revision, in a temporary worktree) and NEWREV (or
# the work tree), then runs `read -q`, the default summary and `--json` of
# each build alternately ROUNDS times per capture (default: the bench/out
# captures present) with output to /dev/null, and prints the median wall
# times and new/old ratios as a markdown table (above 1.00: the new build is
# slower). Both builds read the same files from the page cache.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
[ $# -ge 1 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
OLD=$1; shift
NEW=
if [ $# -ge 1 ] && git rev-parse --verify -q "$1^{commit}" >/dev/null; then NEW=$1; shift; fi
TMP=$(mktemp -d)
trap 'git worktree remove --force "$TMP/old" >/dev/null 2>&1 || true; git worktree remove --force "$TMP/new" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT
build() { # build REV OUT
  git worktree add -q --detach "$TMP/$2" "$1"
  (cd "$TMP/$2" && go build -o "$TMP/ws-$2" .)
}
build "$OLD" old
if [ -n "$NEW" ]; then build "$NEW" new; else go build -o "$TMP/ws-new" .; fi
CAPS=("$@")
if [ ${#CAPS[@]} -eq 0 ]; then
  for f in bench/out/real-20MB.pcap bench/out/real-deflate-20MB.pcap bench/out/plain-20MB.pcap bench/out/conns-2000.pcap; do
    [ -f "$f" ] && CAPS+=("$f")
  done
fi
[ ${#CAPS[@]} -gt 0 ] || { echo "ab.sh: no captures (run bench/compare.sh --quick once to make them)" >&2; exit 1; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "| capture | mode | old | new | new/old |"
echo "|---|---|---|---|---|"
for cap in "${CAPS[@]}"; do
  cat "$cap" >/dev/null
  for mode in "-q" "" "--json"; do
    : >"$TMP/t-old"; : >"$TMP/t-new"
    for _ in $(seq "$ROUNDS"); do
      for b in old new; do
        s=$(now); "$TMP/ws-$b" read "$cap" $mode >/dev/null; e=$(now)
        awk -v s="$s" -v e="$e" 'BEGIN { print e - s }' >>"$TMP/t-$b"
      done
    done
    o=$(median <"$TMP/t-old"); n=$(median <"$TMP/t-new")
    printf '| %s | %s | %.3fs | %.3fs | %.2f |\n' "$(basename "$cap")" "${mode:-summary}" "$o" "$n" "$(awk -v n="$n" -v o="$o" 'BEGIN { print n / o }')"
  done
done
