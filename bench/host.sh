#!/usr/bin/env bash
# Startup benchmark on this host: N sequential `run`s of a busybox /bin/true container with
# shoji, runc and crun in one invocation (interleaved in rounds), then the ratios.
#   bash bench/host.sh [path/to/shoji] [N]      (root; runc and crun from Debian)
# crun 1.8.1 refuses this hybrid host as long as /sys/fs/cgroup/unified/cgroup.controllers
# lists a controller, so crun runs inside `unshare -m` with an empty file bound over it: a
# private mount namespace, the host's mounts untouched.
set -euo pipefail

SHOJI=${1:-$(dirname "$0")/../target/release/shoji}
RUNS=${2:-100}
SHOJI=$(realpath "$SHOJI")

work=$(mktemp -d /tmp/shoji-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A bundle of busybox whose process is /bin/true; the config is runc's default spec, made
# by runc so all three runtimes read the very same file.
bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" "$bundle/rootfs/dev"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
ln -s busybox "$bundle/rootfs/bin/sh"
(cd "$bundle" && runc spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$bundle/config.json" > "$work/c.json"
mv "$work/c.json" "$bundle/config.json"

# One timed batch of sequential runs inside one shell, so only the runtime is timed; prints
# nanoseconds. The batch number keeps container ids unique across batches.
loop='rt=$1 root=$2 bundle=$3 runs=$4 batch=$5
start=$(date +%s%N)
for i in $(seq "$runs"); do
  "$rt" --root "$root" run --bundle "$bundle" "bench-$batch-$i" </dev/null >/dev/null || { echo "run $i failed" >&2; exit 1; }
done
end=$(date +%s%N)
echo $((end - start))'

batch_plain() { bash -c "$loop" bench "$1" "$work/root-$2" "$bundle" "$3" "$4"; }

batch_crun() {
  : > "$work/empty"
  unshare -m bash -c "mount --bind '$work/empty' /sys/fs/cgroup/unified/cgroup.controllers && $loop" \
    bench "$(command -v crun)" "$work/root-crun" "$bundle" "$1" "$2"
}

# The three runtimes take turns in ROUNDS batches, so a load change on this shared machine
# hits all of them alike instead of whichever happened to run then.
ROUNDS=10
per=$((RUNS / ROUNDS))
ns_shoji=0 ns_runc=0 ns_crun=0
for round in $(seq "$ROUNDS"); do
  ns_shoji=$((ns_shoji + $(batch_plain "$SHOJI" shoji "$per" "$round")))
  ns_runc=$((ns_runc + $(batch_plain "$(command -v runc)" runc "$per" "$round")))
  ns_crun=$((ns_crun + $(batch_crun "$per" "$round")))
done

calc() { awk "BEGIN {printf \"%.2f\", $1}"; }
total=$((per * ROUNDS))
echo "== $total sequential runs of /bin/true each ($ROUNDS interleaved rounds) =="
echo "shoji: $(calc "$ns_shoji / 1e9") s"
echo "runc:  $(calc "$ns_runc / 1e9") s"
echo "crun:  $(calc "$ns_crun / 1e9") s"
echo "shoji/crun: $(calc "$ns_shoji / $ns_crun")x (target <= 0.6x)"
echo "shoji/runc: $(calc "$ns_shoji / $ns_runc")x"
echo "per run: shoji $(calc "$ns_shoji / 1e6 / $total") ms, runc $(calc "$ns_runc / 1e6 / $total") ms, crun $(calc "$ns_crun / 1e6 / $total") ms"
