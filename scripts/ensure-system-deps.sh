#!/usr/bin/env bash
# Makes sure the system programs the browser tests need are installed: Chromium and Firefox ESR (always), iproute2's
# `ip` and util-linux's `unshare` (for scripts/netns.sh), and optionally coturn (`--with-turn`), Redis
# (`--with-redis`) and the Janus WebRTC server (`--with-janus`, its VideoRoom plugin backs rooms in SFU mode).
#
# A browser given through CHROME_PATH / FIREFOX_PATH is used as is (it must be an executable file).
# Anything missing is installed with apt-get when running as root on a Debian-like system (one `apt-get update`,
# quiet, the log printed only on failure); otherwise the script exits 1 with one line naming what to install.
# Fast (no apt at all) when everything is present.
set -euo pipefail

with_turn=0
with_redis=0
with_janus=0
for arg in "$@"; do
  case "$arg" in
    --with-turn) with_turn=1 ;;
    --with-redis) with_redis=1 ;;
    --with-janus) with_janus=1 ;;
    -h | --help)
      echo "usage: $0 [--with-turn] [--with-redis] [--with-janus]"
      exit 0
      ;;
    *)
      echo "ensure-system-deps: unknown option '$arg' (usage: $0 [--with-turn] [--with-redis] [--with-janus])" >&2
      exit 2
      ;;
  esac
done

missing_pkgs=()   # Debian packages to install
missing_cmds=()   # the commands they provide, for messages

# need COMMAND PACKAGE [OVERRIDE_VAR]
need() {
  local cmd=$1 pkg=$2 var=${3:-}
  if [[ -n "$var" && -n "${!var:-}" ]]; then
    if [[ -x "${!var}" && ! -d "${!var}" ]]; then return 0; fi
    echo "ensure-system-deps: $var=${!var} is not an executable file; unset it or point it at the $cmd binary" >&2
    exit 1
  fi
  if ! command -v "$cmd" >/dev/null 2>&1; then
    missing_pkgs+=("$pkg")
    missing_cmds+=("$cmd")
  fi
}

need chromium chromium CHROME_PATH
need firefox-esr firefox-esr FIREFOX_PATH
need ip iproute2
need unshare util-linux
if ((with_turn)); then need turnserver coturn; fi
if ((with_redis)); then need redis-server redis-server; fi
if ((with_janus)); then need janus janus; fi

if ((${#missing_pkgs[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: missing ${missing_cmds[*]}; install them, e.g. 'sudo apt-get install -y ${missing_pkgs[*]}' (or set CHROME_PATH / FIREFOX_PATH)" >&2
  exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/ensure-system-deps.XXXXXX.log")
echo "ensure-system-deps: installing ${missing_pkgs[*]} with apt-get (log: $log)"
export DEBIAN_FRONTEND=noninteractive
if ! {
  apt-get update -qq &&
    apt-get install -y -qq "${missing_pkgs[@]}"
} >"$log" 2>&1; then
  cat "$log" >&2
  echo "ensure-system-deps: apt-get failed installing ${missing_pkgs[*]} (log above, also in $log)" >&2
  exit 1
fi

# Re-check: a package can install without providing the expected command.
for cmd in "${missing_cmds[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "ensure-system-deps: '$cmd' is still missing after installing ${missing_pkgs[*]} (log: $log)" >&2
    exit 1
  fi
done
rm -f "$log"
echo "ensure-system-deps: installed ${missing_pkgs[*]}"
