#!/usr/bin/env bash
# seccomp benchmark on this host, shoji beside runc and crun:
#  1. N sequential `run`s of /bin/true with docker's default profile (as docker sends it,
#     integration/fixtures/seccomp/docker.json) and without: the time the filter adds per run;
#  2. inside the container under that profile, a loop of getpid alone (where the filter's cost
#     shows) and of getpid/openat/read/close (the test probe,
#     integration/fixtures/seccomp/probe.c): ns per iteration, and without a filter.
#   bash bench/seccomp.sh [path/to/shoji] [N]      (root; runc, crun, gcc and jq installed)
# crun runs in a private mount namespace with cgroup.controllers emptied (see bench/host.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SHOJI=$(realpath "${1:-$here/../target/x86_64-unknown-linux-gnu/release/shoji}")
RUNS=${2:-100}
fixtures=$here/../integration/fixtures/seccomp
LOOPS=${LOOPS:-200000}
GETPIDS=${GETPIDS:-2000000}

work=$(mktemp -d /tmp/shoji-bench-seccomp.XXXXXX)
trap 'rm -rf "$work"' EXIT

make_bundle() { # dir, seccomp profile file or "none"
  local b=$1
  mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev" "$b/rootfs/etc"
  cp /bin/busybox "$b/rootfs/bin/busybox"
  ln -s busybox "$b/rootfs/bin/true"
  cp "$work/probe" "$b/rootfs/bin/probe"
  echo "root:x:0:0:root:/root:/bin/sh" > "$b/rootfs/etc/passwd"
  (cd "$b" && runc spec)
  local filter='.'
  [ "$2" != none ] && filter=".linux.seccomp = \$p[0]"
  jq --slurpfile p "${2/none//dev/null}" ".process.terminal = false | .process.args = [\"/bin/true\"] | $filter" \
    "$b/config.json" > "$b/c.json"
  mv "$b/c.json" "$b/config.json"
}

gcc -static -O2 -o "$work/probe" "$fixtures/probe.c"
make_bundle "$work/plain" none
make_bundle "$work/docker" "$fixtures/docker.json"

# Run `"$rt" --root R ARGS…` for runtime name $1; crun in its private mount namespace.
rt_cmd() {
  local name=$1; shift
  case $name in
    shoji) "$SHOJI" --root "$work/root-shoji" "$@" ;;
    runc) runc --root "$work/root-runc" "$@" ;;
    crun) : > "$work/empty"
          unshare -m bash -c 'mount --bind "$1" /sys/fs/cgroup/unified/cgroup.controllers && shift && exec "$@"' \
            x "$work/empty" crun --root "$work/root-crun" "$@" ;;
  esac
}

# One run of bundle $2 with runtime $1 as id $3; prints its nanoseconds.
one_run() {
  local start end
  start=${EPOCHREALTIME/./} # bash's clock: no fork and exec of `date` in the timing
  rt_cmd "$1" run --bundle "$work/$2" "$3" </dev/null >/dev/null || { echo "$1 $2 run $3 failed" >&2; exit 1; }
  end=${EPOCHREALTIME/./}
  echo $(((end - start) * 1000))
}

# Runs alternate runtime by runtime and profile by profile, so load changes on this shared
# machine hit all alike; the figure is each series' median (a run is ~10 ms, the noise here
# is larger than what a filter adds, and a median ignores the spikes). Which profile goes
# first alternates too: the first run after another runtime's pays for what that one left
# the kernel to clean up (with a fixed order shoji's runs without a filter measured 3-4 ms
# slower than with one).
for i in $(seq "$RUNS"); do
  order="plain docker"
  ((i % 2)) && order="docker plain"
  for rt in shoji runc crun; do
    for b in $order; do
      one_run "$rt" "$b" "r-$b-$i" >> "$work/$rt-$b.ns"
    done
  done
done

median_ms() { sort -n "$1" | awk '{v[NR]=$1} END {printf "%.2f", v[int((NR+1)/2)] / 1e6}'; }
calc() { awk "BEGIN {printf \"%.2f\", $1}"; }
echo "== $RUNS runs of /bin/true each, without seccomp and with docker's default profile (medians) =="
for rt in shoji runc crun; do
  plain=$(median_ms "$work/$rt-plain.ns")
  docker=$(median_ms "$work/$rt-docker.ns")
  echo "$rt: $plain ms without, $docker ms with; added $(calc "$docker - $plain") ms per run (target <= 1 ms)"
done

# The syscall loops: the median of 5 runs, per runtime, with the profile and without.
loop_ns() { # runtime, bundle, probe op, result label
  jq ".process.args = [\"/bin/probe\", \"$3\"]" "$work/$2/config.json" > "$work/$2/c.json"
  mv "$work/$2/c.json" "$work/$2/config.json"
  for i in 1 2 3 4 5; do
    rt_cmd "$1" run --bundle "$work/$2" "loop-$2-$i" </dev/null | awk -v l="$4" '$1 == l {print $3}'
  done | sort -n | sed -n 3p
}
echo "== in the container, ns per iteration (median of 5 runs) =="
for rt in shoji runc crun; do
  echo "$rt getpid x $GETPIDS: $(loop_ns "$rt" docker "getpid:$GETPIDS" getpid) with docker's profile, $(loop_ns "$rt" plain "getpid:$GETPIDS" getpid) without"
  echo "$rt getpid/openat/read/close x $LOOPS: $(loop_ns "$rt" docker "loop:$LOOPS" loop) with docker's profile, $(loop_ns "$rt" plain "loop:$LOOPS" loop) without"
done
