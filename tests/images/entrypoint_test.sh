#!/usr/bin/env bash
# Runs the image's entry point with a stand-in agent that records its
# arguments and process id: defaults are filled in only where the caller gave
# none, other commands pass through untouched, an unusable folder stops the
# start with a clear message, and the agent replaces the script (so the
# signals tini forwards reach the agent itself).
# Usage: entrypoint_test.sh ENTRYPOINT_SCRIPT
set -euo pipefail
entrypoint=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

cat >"$work/fake-agent" <<'AGENT'
#!/bin/sh
echo "$$" >"$FAKE_AGENT_OUT.pid"
printf '%s\n' "$*" >"$FAKE_AGENT_OUT"
AGENT
chmod +x "$work/fake-agent"

export FERRY_AGENT_BIN="$work/fake-agent" FAKE_AGENT_OUT="$work/args"
export FERRY_MODELS_DIR="$work/models" FERRY_JOBS_DIR="$work/jobs"

# expect_args NAME EXPECTED ARGS...: the agent must be started with EXPECTED.
expect_args() {
  local name=$1 expected=$2
  shift 2
  rm -f "$work/args"
  if ! sh "$entrypoint" "$@" 2>"$work/stderr"; then
    echo "FAIL $name: entry point failed: $(cat "$work/stderr")"; failures=$((failures + 1)); return
  fi
  if [ "$(cat "$work/args")" != "$expected" ]; then
    echo "FAIL $name: agent got \"$(cat "$work/args")\", expected \"$expected\""; failures=$((failures + 1)); return
  fi
  echo "ok   $name"
}

expect_args "no arguments start the server with the image defaults" \
  "serve --port 8185 --jobs $work/jobs --models $work/models"
if [ ! -d "$work/jobs" ] || [ ! -d "$work/models" ]; then
  echo "FAIL the folders were not created"; failures=$((failures + 1))
fi
expect_args "flags given by the caller are kept and not repeated" \
  "serve --port 9000 --models=$work/m2 --jobs $work/jobs" serve --port 9000 "--models=$work/m2"
expect_args "other commands pass through unchanged" \
  "models fetch htdemucs" models fetch htdemucs

touch "$work/not-a-folder"
rm -f "$work/args"
if sh "$entrypoint" serve --models "$work/not-a-folder/models" 2>"$work/stderr"; then
  echo "FAIL an unusable models folder was accepted"; failures=$((failures + 1))
elif [ -e "$work/args" ]; then
  echo "FAIL the agent was started despite an unusable models folder"; failures=$((failures + 1))
elif ! grep -q "not-a-folder/models is not a writable folder" "$work/stderr"; then
  echo "FAIL the message does not name the folder: $(cat "$work/stderr")"; failures=$((failures + 1))
else
  echo "ok   an unusable models folder stops the start with a clear message"
fi

sh "$entrypoint" &
shell_pid=$!
wait "$shell_pid"
if [ "$(cat "$work/args.pid")" = "$shell_pid" ]; then
  echo "ok   the agent replaces the entry point (same process id)"
else
  echo "FAIL the agent runs as a child (pid $(cat "$work/args.pid"), entry point $shell_pid)"; failures=$((failures + 1))
fi

if [ "$failures" -gt 0 ]; then echo "$failures case(s) failed"; exit 1; fi
echo "entry point behaves"
