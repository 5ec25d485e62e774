#!/usr/bin/env bash
# Regenerates the README's table of hostile captures: builds wsdissect (and,
# given a git revision as $1, the wsdissect of that revision to compare
# with), then measures both on every attack of internal/attackgen at
# SCALE (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/wsdissect" .
before=()
if [ $# -gt 0 ]; then
  mkdir "$tmp/before"
  git archive "$1" | tar -x -C "$tmp/before"
  (cd "$tmp/before" && go build -o "$tmp/wsdissect-before" .)
  before=(-before "$tmp/wsdissect-before")
fi
go run ./tools/attacks -bin "$tmp/wsdissect" "${before[@]}" -scale "${SCALE:-16}"
