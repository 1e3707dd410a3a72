#!/usr/bin/env bash
# usage: scripts/netns.sh CMD [ARGS...]
#
# Runs CMD inside a fresh private network namespace (see the project's browser-testing notes): only loopback, plus a
# dead-end veth pair (dflt0/dflt1, 10.255.255.1/30 and fd99::1/64) that holds the IPv4 and IPv6 default routes so that
# Firefox's ICE does not give up. Nothing inside can reach any other host. CMD sees VIDEO_CHAT_NETNS=1.
#
# As root: `unshare --net`; otherwise `unshare --map-root-user --net` (needs unprivileged user namespaces). When
# possible a PID namespace is added, so every process CMD started (browsers, servers) is killed when CMD ends; in any
# case processes left in the network namespace are terminated when CMD exits.
# If no namespace can be made: with CI set this fails (exit 1); otherwise it warns and runs CMD directly, without
# VIDEO_CHAT_NETNS.
# The exit status is CMD's (128+N if it died from signal N). TERM/HUP/INT are forwarded to CMD.
set -euo pipefail

self=$(readlink -f -- "${BASH_SOURCE[0]}")
warn() { echo "netns.sh: $*" >&2; }
die() {
  warn "$*"
  exit 1
}

# Runs "$@" as a child and sets `rc` to its exit status, forwarding TERM/HUP/INT to the process that
# `signal_target` prints (default: the child itself).
signal_target() { echo "$child"; }
forward() {
  local t
  t=$(signal_target)
  [[ -n "$t" ]] && kill -s "$1" "$t" 2>/dev/null || true
}
run_forwarding() {
  # A background job of a non-interactive shell would get /dev/null as stdin (the explicit redirection keeps it) and
  # would ignore INT/QUIT (the trap reset undoes that).
  (
    trap - INT QUIT
    exec "$@"
  ) <&0 &
  child=$!
  trap 'forward TERM' TERM
  trap 'forward HUP' HUP
  trap 'forward INT' INT
  while :; do
    if wait "$child"; then rc=0; else rc=$?; fi
    # wait returns >128 when a trapped signal interrupts it; keep waiting while the child lives.
    if ((rc > 128)) && kill -0 "$child" 2>/dev/null; then continue; fi
    break
  done
  trap - TERM HUP INT
}

# ---- inside the namespace (re-executed by unshare) ----
if [[ "${_VIDEO_CHAT_NETNS_STAGE:-}" == inner ]]; then
  unset _VIDEO_CHAT_NETNS_STAGE
  strict=0
  [[ -n "${CI:-}" ]] && strict=1

  ip link set lo up || die "cannot bring up lo in the namespace"
  if ip link add dflt0 type veth peer name dflt1 2>/dev/null; then
    {
      ip addr add 10.255.255.1/30 dev dflt0 &&
        ip link set dflt1 up &&
        ip link set dflt0 up &&
        ip route add default dev dflt0
    } || die "cannot configure the dead-end veth pair (IPv4)"
    if [[ -d /proc/sys/net/ipv6 ]]; then
      { ip -6 addr add fd99::1/64 dev dflt0 nodad && ip -6 route add default dev dflt0; } ||
        die "cannot configure the dead-end veth pair (IPv6)"
    else
      warn "no IPv6 in this kernel: only the IPv4 default route is set"
    fi
  elif ((strict)); then
    die "cannot create the dead-end veth pair (no veth support?); Firefox's ICE needs a default route"
  else
    warn "cannot create the dead-end veth pair (no veth support?): namespace has only lo; Firefox calls may fail"
  fi

  export VIDEO_CHAT_NETNS=1
  run_forwarding "$@"

  # Terminate whatever CMD left behind in this network namespace (with a PID namespace, everything left dies anyway
  # when this init process exits; without one this is what cleans up).
  me=$$
  myns=$(readlink /proc/self/ns/net)
  leftovers=()
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ "$pid" == "$me" ]] && continue
    [[ "$(readlink "$p/ns/net" 2>/dev/null || true)" == "$myns" ]] && leftovers+=("$pid")
  done
  if ((${#leftovers[@]})); then
    kill -TERM "${leftovers[@]}" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      alive=()
      for pid in "${leftovers[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
      ((${#alive[@]})) || break
      sleep 0.2
    done
    ((${#alive[@]})) && kill -KILL "${alive[@]}" 2>/dev/null || true
  fi
  exit "$rc"
fi

# ---- outside ----
if (($# == 0)); then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

# setpriv --pdeathsig: unshare (and so, through --kill-child, the whole namespace) dies even if this script is
# killed with SIGKILL.
base=()
if command -v setpriv >/dev/null 2>&1 && setpriv --pdeathsig KILL true 2>/dev/null; then
  base=(setpriv --pdeathsig KILL)
fi
if [[ $(id -u) -eq 0 ]]; then
  base+=(unshare --net)
else
  base+=(unshare --map-root-user --net)
fi
# Preferred: with a PID namespace (reliable cleanup); else network namespace only.
candidates=(
  "${base[*]} --pid --mount-proc --fork --kill-child"
  "${base[*]} --fork --kill-child"
)
chosen=""
if command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1; then
  for c in "${candidates[@]}"; do
    # shellcheck disable=SC2086 # word splitting of the option list is intended
    if $c true >/dev/null 2>&1; then
      chosen=$c
      break
    fi
  done
fi

if [[ -z "$chosen" ]]; then
  why="cannot create a network namespace ('unshare --net' needs root, or unprivileged user namespaces for 'unshare -rn'; 'ip' from iproute2 is needed too)"
  if [[ -n "${CI:-}" ]]; then
    die "$why; CI is set, refusing to run without network isolation"
  fi
  warn "WARNING: $why; running '$*' WITHOUT network isolation"
  unset VIDEO_CHAT_NETNS
  exec "$@"
fi

# Signals for this process go to the init process inside the namespace, i.e. the child of unshare (unshare itself
# blocks INT/TERM while it waits); until that exists, to unshare.
signal_target() {
  local inner
  inner=$(awk '{print $1}' "/proc/$child/task/$child/children" 2>/dev/null || true)
  echo "${inner:-$child}"
}
export _VIDEO_CHAT_NETNS_STAGE=inner
# shellcheck disable=SC2086 # word splitting of the option list is intended
run_forwarding $chosen -- bash "$self" "$@"
exit "$rc"
