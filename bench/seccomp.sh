#!/usr/bin/env bash
# seccomp benchmark on this host, shoji beside runc and crun:
#  1. N sequential `run`s of /bin/true with docker's default profile (as docker sends it,
#     integration/fixtures/seccomp/docker.json) and without: the time the filter adds per run;
#  2. inside the container under that profile, a loop of getpid/openat/read/close (the test
#     probe, integration/fixtures/seccomp/probe.c): ns per iteration, and without a filter.
#   bash bench/seccomp.sh [path/to/shoji] [N]      (root; runc, crun, gcc and jq installed)
# crun runs in a private mount namespace with cgroup.controllers emptied (see bench/host.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SHOJI=$(realpath "${1:-$here/../target/release/shoji}")
RUNS=${2:-100}
fixtures=$here/../integration/fixtures/seccomp
LOOPS=${LOOPS:-200000}

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

# Nanoseconds for $3 sequential runs of bundle $2 with runtime $1 (batch $4 keeps ids unique).
batch() {
  local start end
  start=$(date +%s%N)
  for i in $(seq "$3"); do
    rt_cmd "$1" run --bundle "$work/$2" "b-$2-$4-$i" </dev/null >/dev/null || { echo "$1 $2 run $i failed" >&2; exit 1; }
  done
  end=$(date +%s%N)
  echo $((end - start))
}

ROUNDS=10
per=$((RUNS / ROUNDS))
declare -A ns
for rt in shoji runc crun; do ns[$rt-plain]=0; ns[$rt-docker]=0; done
for round in $(seq "$ROUNDS"); do
  for rt in shoji runc crun; do
    for b in plain docker; do
      ns[$rt-$b]=$((ns[$rt-$b] + $(batch "$rt" "$b" "$per" "$round")))
    done
  done
done

calc() { awk "BEGIN {printf \"%.2f\", $1}"; }
total=$((per * ROUNDS))
echo "== $total sequential runs of /bin/true, without seccomp and with docker's default profile =="
for rt in shoji runc crun; do
  plain=$(calc "${ns[$rt-plain]} / 1e6 / $total")
  docker=$(calc "${ns[$rt-docker]} / 1e6 / $total")
  echo "$rt: $plain ms without, $docker ms with; added $(calc "$docker - $plain") ms per run (target <= 1 ms)"
done

# The syscall loop: the median of 5 runs' ns per iteration, per runtime, under the profile.
loop_ns() { # runtime, bundle
  jq ".process.args = [\"/bin/probe\", \"loop:$LOOPS\"]" "$work/$2/config.json" > "$work/$2/c.json"
  mv "$work/$2/c.json" "$work/$2/config.json"
  for i in 1 2 3 4 5; do
    rt_cmd "$1" run --bundle "$work/$2" "loop-$2-$i" </dev/null | awk '/^loop ns/ {print $3}'
  done | sort -n | sed -n 3p
}
echo "== in-container loop of getpid/openat/read/close, ns per iteration (median of 5 x $LOOPS) =="
for rt in shoji runc crun; do
  echo "$rt: $(loop_ns "$rt" docker) ns with docker's profile, $(loop_ns "$rt" plain) ns without"
done
