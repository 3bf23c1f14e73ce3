#!/usr/bin/env bash
# Fails when an agent Dockerfile's packages drift from scripts/setup.
#
# Usage: check_package_drift.sh SETUP_SCRIPT DOCKERFILE...
#
# Each Dockerfile maps every package of scripts/setup to what one of its
# stages installs for it, in comment lines:
#   # runtime-of <setup package>: <packages, or "-">   (stage "runtime")
#   # build-of <setup package>: <packages, or "-">     (stage "build")
#   # runtime-extra: <packages>   /   # build-extra: <packages>
# Text in parentheses after the packages is a note. For each stage that has a
# map, this script checks that the map names exactly the packages of
# scripts/setup, and that the stage's `apt-get install` names exactly the
# mapped packages plus the extras. A Dockerfile without a build map must run
# scripts/setup in its build stage instead. Every Dockerfile needs a runtime map.
set -euo pipefail

if [ "$#" -lt 2 ]; then
  echo "usage: $0 SETUP_SCRIPT DOCKERFILE..." >&2
  exit 2
fi
setup=$1
shift

# The words of the packages=( ... ) array of the set-up script, comments removed.
setup_packages() {
  awk '
    /^[[:space:]]*packages=\(/ { inside = 1; sub(/^[^(]*\(/, "") }
    inside {
      line = $0
      sub(/#.*/, "", line)
      done = sub(/\).*/, "", line)
      n = split(line, words, /[[:space:]]+/)
      for (i = 1; i <= n; i++) if (words[i] != "") print words[i]
      if (done) exit
    }' "$1"
}

# Reads a Dockerfile and prints one record per line:
#   map STAGE KEY [PACKAGE...]   extra STAGE PACKAGE...
#   install STAGE PACKAGE...     setup STAGE
describe_dockerfile() {
  awk '
    function emit_install(stage, text,    n, words, i, started, out) {
      n = split(text, words, /[[:space:]]+/)
      started = 0; out = ""
      for (i = 1; i <= n; i++) {
        if (words[i] == "install" && words[i - 1] == "apt-get") { started = 1; continue }
        if (!started) continue
        if (words[i] == "&&" || words[i] == ";" || words[i] == "||") break
        if (words[i] == "" || words[i] ~ /^-/) continue
        out = out " " words[i]
      }
      if (started) print "install " stage out
    }
    function finish(text) {
      if (text ~ /^[[:space:]]*FROM[[:space:]]/) {
        stage = ""
        if (match(text, /[[:space:]][Aa][Ss][[:space:]]+[^[:space:]]+/)) {
          stage = substr(text, RSTART, RLENGTH); sub(/^[[:space:]]+[Aa][Ss][[:space:]]+/, "", stage)
        }
      } else if (text ~ /^[[:space:]]*RUN[[:space:]]/) {
        if (text ~ /apt-get[[:space:]]+install/) emit_install(stage, text)
        if (text ~ /scripts\/setup/) print "setup " stage
      }
    }
    /^#[[:space:]]*(build|runtime)-of[[:space:]]/ {
      line = $0
      sub(/\(.*/, "", line); sub(/^#[[:space:]]*/, "", line)
      split(line, head, /-of[[:space:]]+/)
      key = line; sub(/^[a-z]+-of[[:space:]]+/, "", key); sub(/:.*/, "", key)
      values = line; sub(/^[^:]*:/, "", values); gsub(/(^|[[:space:]])-([[:space:]]|$)/, " ", values)
      gsub(/[[:space:]]+/, " ", values); sub(/ $/, "", values)
      print "map " head[1] " " key values
      next
    }
    /^#[[:space:]]*(build|runtime)-extra:/ {
      line = $0
      sub(/\(.*/, "", line); sub(/^#[[:space:]]*/, "", line)
      kind = line; sub(/-extra:.*/, "", kind)
      values = line; sub(/^[^:]*:/, "", values); gsub(/[[:space:]]+/, " ", values); sub(/ $/, "", values)
      print "extra " kind values
      next
    }
    /^[[:space:]]*#/ { next }
    {
      text = (pending == "" ? $0 : pending " " $0)
      if (text ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, "", text); pending = text; next }
      pending = ""
      finish(text)
    }
    END { if (pending != "") finish(pending) }' "$1"
}

# Compares one Dockerfile's records with the set-up packages (one per line in
# the file named by the first argument) and prints one line per problem.
compare_with_setup() {
  awk -v setup_name="$2" '
    FNR == NR { setup[$1] = 1; next }
    $1 == "map" {
      if (($2, $3) in key) print "\"" $3 "\" is mapped twice for the " $2 " stage"
      key[$2, $3] = 1; has_map[$2] = 1
      for (i = 4; i <= NF; i++) wanted[$2, $i] = 1
    }
    $1 == "extra" { for (i = 3; i <= NF; i++) wanted[$2, $i] = 1 }
    $1 == "install" { has_install[$2] = 1; for (i = 3; i <= NF; i++) installed[$2, $i] = 1 }
    $1 == "setup" { runs_setup[$2] = 1 }
    END {
      split("build runtime", stages, " ")
      for (s = 1; s <= 2; s++) {
        stage = stages[s]
        if (!(stage in has_map)) {
          if (stage == "runtime") print "no \"# runtime-of PACKAGE: ...\" lines: map every package of " setup_name
          else if (!("build" in runs_setup)) print "the build stage neither runs scripts/setup nor has \"# build-of PACKAGE: ...\" lines"
          continue
        }
        for (p in setup) if (!((stage, p) in key)) print "\"" p "\" is in " setup_name " but not in the " stage " map"
        for (k in key) { split(k, part, SUBSEP); if (part[1] == stage && !(part[2] in setup)) print "\"" part[2] "\" is in the " stage " map but not in " setup_name }
        if (!(stage in has_install)) { print "the " stage " stage has no apt-get install"; continue }
        for (k in wanted) { split(k, part, SUBSEP); if (part[1] == stage && !(k in installed)) print "\"" part[2] "\" is in the " stage " map and extras but not in the " stage " stage'"'"'s apt-get install" }
        for (k in installed) { split(k, part, SUBSEP); if (part[1] == stage && !(k in wanted)) print "\"" part[2] "\" is in the " stage " stage'"'"'s apt-get install but not in the " stage " map and extras" }
      }
    }' "$1" -
}

setup_list=$(mktemp)
trap 'rm -f "$setup_list"' EXIT
setup_packages "$setup" >"$setup_list"
if [ ! -s "$setup_list" ]; then
  echo "$setup: no packages=( ... ) array found" >&2
  exit 2
fi

failures=0
for dockerfile in "$@"; do
  if [ ! -f "$dockerfile" ]; then
    echo "$dockerfile: file not found" >&2; failures=$((failures + 1)); continue
  fi
  problems=$(describe_dockerfile "$dockerfile" | compare_with_setup "$setup_list" "$setup" | sort)
  if [ -n "$problems" ]; then
    echo "$problems" | sed "s|^|$dockerfile: |" >&2
    failures=$((failures + $(echo "$problems" | wc -l)))
  fi
done

if [ "$failures" -gt 0 ]; then
  echo "package drift: $failures problem(s); update the Dockerfile's package map and apt-get lines together with scripts/setup" >&2
  exit 1
fi
echo "package drift: $# Dockerfile(s) agree with $setup"
