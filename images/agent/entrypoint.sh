#!/bin/sh
# Container entry point of ferry-agent (run under tini, which forwards
# SIGTERM and reaps children). For `serve` it fills in the image's defaults
# for the flags the caller left out and checks that the jobs and models
# folders are writable: a volume mounted as root is the usual mistake, and it
# should fail here with a clear message rather than at the first job. It
# then replaces itself with the agent, so the agent gets the signals.
set -eu

# FERRY_AGENT_BIN lets tests stand in a fake agent.
agent=${FERRY_AGENT_BIN:-/usr/local/bin/ferry-agent}
[ "$#" -gt 0 ] || set -- serve

if [ "$1" = serve ]; then
  port_given=no jobs_dir="" models_dir=""
  previous=""
  for arg in "$@"; do
    case "$previous" in
      --jobs) jobs_dir=$arg ;;
      --models) models_dir=$arg ;;
    esac
    case "$arg" in
      --port | --port=*) port_given=yes ;;
      --jobs=*) jobs_dir=${arg#--jobs=} ;;
      --models=*) models_dir=${arg#--models=} ;;
    esac
    previous=$arg
  done
  [ "$port_given" = yes ] || set -- "$@" --port 8185
  if [ -z "$jobs_dir" ]; then jobs_dir=${FERRY_JOBS_DIR:-/var/lib/ferry/jobs}; set -- "$@" --jobs "$jobs_dir"; fi
  if [ -z "$models_dir" ]; then models_dir=${FERRY_MODELS_DIR:-/models}; set -- "$@" --models "$models_dir"; fi

  for dir in "$jobs_dir" "$models_dir"; do
    mkdir -p "$dir" 2>/dev/null || true
    if [ ! -d "$dir" ] || [ ! -w "$dir" ]; then
      echo "ferry-entrypoint: $dir is not a writable folder for user $(id -un) (uid $(id -u))." >&2
      echo "ferry-entrypoint: give the volume to that uid (chown $(id -u):$(id -g)) or run with --user matching its owner." >&2
      exit 78 # EX_CONFIG
    fi
  done
fi

exec "$agent" "$@"
