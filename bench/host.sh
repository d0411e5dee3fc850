#!/usr/bin/env bash
# Startup benchmark on this host: N sequential `run`s of a busybox /bin/true container with
# shoji, runc and crun, one after the other in one invocation, then the ratios.
#   bash bench/host.sh [path/to/shoji] [N]      (root; runc and crun from Debian)
# crun 1.8.1 refuses a hybrid cgroup host whose /sys/fs/cgroup/unified lists no
# controllers, so crun runs inside `unshare -m` with an empty file bound over
# unified/cgroup.controllers: a private mount namespace, the host's mounts untouched.
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

# The loop runs inside one shell so only the runtime is timed; prints seconds.
loop='rt=$1 root=$2 bundle=$3 runs=$4
start=$(date +%s%N)
for i in $(seq "$runs"); do
  "$rt" --root "$root" run --bundle "$bundle" "bench-$i" </dev/null >/dev/null || { echo "run $i failed" >&2; exit 1; }
done
end=$(date +%s%N)
awk -v ns=$((end - start)) "BEGIN {printf \"%.3f\", ns / 1e9}"'

time_plain() { bash -c "$loop" bench "$1" "$work/root-$2" "$bundle" "$RUNS"; }

time_crun() {
  : > "$work/empty"
  unshare -m bash -c "mount --bind '$work/empty' /sys/fs/cgroup/unified/cgroup.controllers && $loop" \
    bench "$(command -v crun)" "$work/root-crun" "$bundle" "$RUNS"
}

echo "== $RUNS sequential runs of /bin/true =="
t_shoji=$(time_plain "$SHOJI" shoji)
echo "shoji: ${t_shoji} s"
t_runc=$(time_plain "$(command -v runc)" runc)
echo "runc:  ${t_runc} s"
t_crun=$(time_crun)
echo "crun:  ${t_crun} s"
calc() { awk "BEGIN {printf \"%.2f\", $1}"; }
echo "shoji/crun: $(calc "$t_shoji / $t_crun")x (target <= 0.6x)"
echo "shoji/runc: $(calc "$t_shoji / $t_runc")x"
echo "per run: shoji $(calc "$t_shoji * 1000 / $RUNS") ms, runc $(calc "$t_runc * 1000 / $RUNS") ms, crun $(calc "$t_crun * 1000 / $RUNS") ms"
