#!/usr/bin/env bash
# Shows that check_package_drift.sh fails for drift in either direction: it
# runs the check on edited copies of scripts/setup and the Dockerfiles and
# expects each edit to be reported, naming the package concerned.
# Usage: package_drift_is_detected.sh REPOSITORY_ROOT
set -euo pipefail
root=$1
check="$(dirname "$0")/check_package_drift.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
fresh_copies() {
  rm -rf "$work/case" && mkdir -p "$work/case"
  cp "$root/scripts/setup" "$root/images/agent/Dockerfile.cpu" "$root/images/agent/Dockerfile.cuda" "$work/case/"
}
run_check() { bash "$check" "$work/case/setup" "$work/case/Dockerfile.cpu" "$work/case/Dockerfile.cuda"; }

# expect_drift NAME WORD: the check must fail and its report must name WORD.
expect_drift() {
  local name=$1 word=$2 output
  if output=$(run_check 2>&1); then
    echo "FAIL $name: the check passed"; failures=$((failures + 1)); return
  fi
  if ! grep -q -- "$word" <<<"$output"; then
    echo "FAIL $name: the report does not name $word:"; echo "$output" | sed 's/^/    /'
    failures=$((failures + 1)); return
  fi
  echo "ok   $name"
}

fresh_copies
if ! output=$(run_check 2>&1); then
  echo "FAIL the unedited copies do not pass:"; echo "$output" | sed 's/^/    /'; exit 1
fi
echo "ok   unedited copies pass"

fresh_copies
# Appends a package to the first line of the list, whatever the list holds.
sed -i '0,/^  build-essential /s/^\(  build-essential .*\)$/\1 libzstd-dev/' "$work/case/setup"
grep -q 'libzstd-dev' "$work/case/setup" || { echo "FAIL could not edit the setup copy"; exit 1; }
expect_drift "a package added to scripts/setup" libzstd-dev

fresh_copies
sed -i 's/ libfmt-dev / /' "$work/case/setup"
expect_drift "a package removed from scripts/setup" libfmt-dev

fresh_copies
sed -i 's/^\(      ca-certificates libcurl4 libssl3\) libyaml-cpp0.7 /\1 /' "$work/case/Dockerfile.cpu"
expect_drift "a runtime package dropped from the CPU image" libyaml-cpp0.7

fresh_copies
sed -i 's/^\(      curl tini\) \\$/\1 libzstd1 \\/' "$work/case/Dockerfile.cpu"
expect_drift "an unmapped runtime package added to the CPU image" libzstd1

fresh_copies
sed -i 's/^# runtime-of libfmt-dev: libfmt9$/# runtime-of libfmt-dev: libfmt10/' "$work/case/Dockerfile.cuda"
expect_drift "a CUDA runtime map entry changed without its apt-get line" libfmt10

fresh_copies
sed -i '/^# build-of libsqlite3-dev:/d' "$work/case/Dockerfile.cuda"
expect_drift "a package missing from the CUDA build map" libsqlite3-dev

fresh_copies
sed -i 's/^RUN bash scripts\/setup /RUN true /' "$work/case/Dockerfile.cpu"
expect_drift "a CPU build stage that no longer runs scripts/setup" scripts/setup

if [ "$failures" -gt 0 ]; then echo "$failures case(s) failed"; exit 1; fi
echo "every drift was detected"
