#!/usr/bin/env bash
# Startup benchmark on this host, shoji, runc and crun side by side (interleaved in rounds):
#   run:  N sequential `run`s of a busybox /bin/true container
#   exec: N sequential `exec`s of /bin/true into one running container per runtime
#   bash bench/host.sh [path/to/shoji] [N]      (root; runc and crun from Debian)
# BASELINE=path/to/other/shoji adds a fourth column, e.g. main's build, so the cost of a
# change is measured in the same interleaved rounds.
# crun 1.8.1 refuses this hybrid host as long as /sys/fs/cgroup/unified/cgroup.controllers
# lists a controller, so crun runs inside `unshare -m` with an empty file bound over it: a
# private mount namespace, the host's mounts untouched.
set -euo pipefail

SHOJI=${1:-$(dirname "$0")/../target/release/shoji}
RUNS=${2:-100}
SHOJI=$(realpath "$SHOJI")
BASELINE=${BASELINE:+$(realpath "$BASELINE")}
RUNC=$(command -v runc)
CRUN=$(command -v crun)

work=$(mktemp -d /tmp/shoji-bench.XXXXXX)
names=(shoji runc crun)
[ -n "$BASELINE" ] && names=(shoji base runc crun)
binary() { case $1 in shoji) echo "$SHOJI" ;; base) echo "$BASELINE" ;; runc) echo "$RUNC" ;; crun) echo "$CRUN" ;; esac; }

# Every runtime command goes through here: crun's inside its private mount namespace.
in_ns() {
  local name=$1; shift
  if [ "$name" = crun ]; then
    : > "$work/empty"
    unshare -m bash -c "mount --bind '$work/empty' /sys/fs/cgroup/unified/cgroup.controllers && exec \"\$@\"" bench "$@"
  else
    "$@"
  fi
}

cleanup() {
  for name in "${names[@]}"; do
    in_ns "$name" "$(binary "$name")" --root "$work/root-$name" delete --force "bench-exec-$name" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Bundles of busybox; the configs are runc's default spec, made by runc so all runtimes read
# the very same file. `run` runs /bin/true; `exec` goes into a container sleeping meanwhile.
make_bundle() {
  local bundle=$1 args=$2
  mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" "$bundle/rootfs/dev"
  cp /bin/busybox "$bundle/rootfs/bin/busybox"
  for applet in true sh sleep; do ln -s busybox "$bundle/rootfs/bin/$applet"; done
  (cd "$bundle" && runc spec)
  jq ".process.terminal = false | .process.args = $args" "$bundle/config.json" > "$work/c.json"
  mv "$work/c.json" "$bundle/config.json"
}
make_bundle "$work/bundle" '["/bin/true"]'
make_bundle "$work/bundle-exec" '["/bin/sleep", "100000"]'
for name in "${names[@]}"; do
  in_ns "$name" "$(binary "$name")" --root "$work/root-$name" run --detach \
    --bundle "$work/bundle-exec" "bench-exec-$name" </dev/null >/dev/null
done

# One timed batch of sequential commands inside one shell, so only the runtime is timed;
# prints the wall time in nanoseconds and the CPU time (user + system) the runtime and its
# children used, in milliseconds: on a loaded machine the CPU time is the steadier figure. The batch number keeps container ids unique across batches; the exec
# containers' ids (and so their cgroups) are one per runtime.
loop='rt=$1 root=$2 bundle=$3 runs=$4 batch=$5 mode=$6 name=$7
start=$(date +%s%N)
for i in $(seq "$runs"); do
  if [ "$mode" = exec ]; then
    "$rt" --root "$root" exec "bench-exec-$name" /bin/true </dev/null >/dev/null || { echo "exec $i failed" >&2; exit 1; }
  else
    "$rt" --root "$root" run --bundle "$bundle" "bench-$batch-$i" </dev/null >/dev/null || { echo "run $i failed" >&2; exit 1; }
  fi
done
end=$(date +%s%N)
read -r -a stat < /proc/$$/stat
echo $((end - start)) $(( (stat[15] + stat[16]) * 1000 / $(getconf CLK_TCK) ))'

batch() { # name mode runs round
  in_ns "$1" bash -c "$loop" bench "$(binary "$1")" "$work/root-$1" "$work/bundle" "$3" "$4" "$2" "$1"
}

# The runtimes take turns in ROUNDS batches, so a load change on this shared machine hits all
# of them alike instead of whichever happened to run then.
ROUNDS=10
per=$((RUNS / ROUNDS))
total=$((per * ROUNDS))
declare -A ns cpu
for mode in run exec; do
  for name in "${names[@]}"; do ns[$name-$mode]=0 cpu[$name-$mode]=0; done
  for round in $(seq "$ROUNDS"); do
    for name in "${names[@]}"; do
      read -r wall used < <(batch "$name" "$mode" "$per" "$round")
      ns[$name-$mode]=$((ns[$name-$mode] + wall)) cpu[$name-$mode]=$((cpu[$name-$mode] + used))
    done
  done
done

calc() { awk "BEGIN {printf \"%.2f\", $1}"; }
for mode in run exec; do
  echo "== $total sequential ${mode}s of /bin/true each ($ROUNDS interleaved rounds) =="
  line="per $mode:" cpuline="cpu per $mode:"
  for name in "${names[@]}"; do
    line="$line $name $(calc "${ns[$name-$mode]} / 1e6 / $total") ms,"
    cpuline="$cpuline $name $(calc "${cpu[$name-$mode]} / $total") ms,"
  done
  echo "${line%,}"
  echo "${cpuline%,}"
  echo "shoji/crun: $(calc "${ns[shoji-$mode]} / ${ns[crun-$mode]}")x, shoji/runc: $(calc "${ns[shoji-$mode]} / ${ns[runc-$mode]}")x"
  if [ -n "$BASELINE" ]; then
    echo "shoji - base: $(calc "(${ns[shoji-$mode]} - ${ns[base-$mode]}) / 1e6 / $total") ms wall, $(calc "(${cpu[shoji-$mode]} - ${cpu[base-$mode]}) / $total") ms cpu per $mode"
  fi
done
echo "(target for run: shoji/crun <= 0.6x)"
