#!/usr/bin/env bash
# Shows that scripts/lint catches mistakes: it lints broken copies of the real
# workflows and Dockerfiles and expects each mistake to be reported.
# Usage: lint_rejects_broken_files.sh REPOSITORY_ROOT
set -euo pipefail
root=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# Every broken copy is linted in one run (the linter takes a moment to
# start); each case then looks for its finding among that run's lines.
cases=()
# expect_finding NAME FILE TEXT: linting FILE must report a finding with TEXT.
expect_finding() { cases+=("$1" "$2" "$3"); }

# edit NAME SOURCE SED_SCRIPT: prints the path of a copy of SOURCE with one
# edit; fails (and so stops this script) when the edit changes nothing.
edit() {
  local copy="$work/$1"
  sed "$3" "$2" >"$copy"
  if cmp -s "$2" "$copy"; then echo "FAIL $1: the edit did not apply" >&2; exit 1; fi
  echo "$copy"
}

image_yml="$root/.github/workflows/image.yml"
ci_yml="$root/.github/workflows/ci.yml"
cpu="$root/images/agent/Dockerfile.cpu"
cuda="$root/images/agent/Dockerfile.cuda"

file=$(edit bad-trigger.yml "$ci_yml" 's/^    branches: \[main\]$/    branchs: [main]/')
expect_finding "workflow: unknown trigger key" "$file" 'unexpected key "branchs"'
file=$(edit bad-context.yml "$image_yml" 's/github.event_name != .pull_request. \&\&/github.event_nam != '"'"'pull_request'"'"' \&\&/')
expect_finding "workflow: undefined context property" "$file" 'property "event_nam" is not defined'
file=$(edit bad-output.yml "$image_yml" 's/steps.meta.outputs.tags }}$/steps.metadata.outputs.tags }}/')
expect_finding "workflow: step output that does not exist" "$file" 'property "metadata" is not defined'
file=$(edit bad-pin.yml "$ci_yml" 's/actions\/checkout@[0-9a-f]\{40\} # v4.2.2/actions\/checkout@v4/')
expect_finding "workflow: action pinned to a tag" "$file" 'not pinned to a full commit SHA'
file=$(edit Dockerfile.bad-instruction "$cpu" 's/^EXPOSE 8185$/EXPOSES 8185/')
expect_finding "Dockerfile: misspelt instruction" "$file" 'Unknown instruction'
file=$(edit Dockerfile.bad-flag "$cuda" 's/--start-period=60s/--start-perod=60s/')
expect_finding "Dockerfile: unknown HEALTHCHECK flag" "$file" 'start-perod'
file=$(edit Dockerfile.bad-json "$cpu" 's/"--", "\/usr\/local\/bin\/ferry-entrypoint"/"--" "\/usr\/local\/bin\/ferry-entrypoint"/')
expect_finding "Dockerfile: ENTRYPOINT that is not valid JSON" "$file" 'not a JSON array'
file=$(edit Dockerfile.bad-user "$cuda" '/^USER ferry$/d')
expect_finding "Dockerfile: final image without USER" "$file" 'would run as root'

files=()
for ((i = 0; i < ${#cases[@]}; i += 3)); do files+=("${cases[i + 1]}"); done
if output=$(bash "$root/scripts/lint" "${files[@]}" 2>&1); then
  echo "FAIL lint passed on ${#files[@]} broken files:"; echo "$output" | sed 's/^/    /'; exit 1
fi
for ((i = 0; i < ${#cases[@]}; i += 3)); do
  name=${cases[i]} file=${cases[i + 1]} text=${cases[i + 2]}
  if grep -F -- "$file:" <<<"$output" | grep -q -F -- "$text"; then
    echo "ok   $name"
  else
    echo "FAIL $name: no finding for $file mentions \"$text\""; failures=$((failures + 1))
  fi
done
if [ "$failures" -gt 0 ]; then
  echo "lint output:"; echo "$output" | sed 's/^/    /'
  echo "$failures case(s) failed"; exit 1
fi
echo "every mistake was reported"
