#!/usr/bin/env bash
# The cost of a change to shoji's startup (written for exe_seal, the CVE-2019-5736 re-exec):
# two shoji builds side by side, N sequential `run`s of /bin/true and N `exec`s of /bin/true
# into a running container each, interleaved in rounds; wall time and the CPU time (user +
# system of the runtime and its children, steadier than wall time on a loaded machine).
#   bash bench/exe_seal.sh BASELINE [path/to/shoji] [N]     (root)
#   make bench BASELINE=path/to/main/shoji
set -euo pipefail

BASE=$(realpath "$1")
SHOJI=$(realpath "${2:-$(dirname "$0")/../target/x86_64-unknown-linux-gnu/release/shoji}")
RUNS=${3:-100}
ROUNDS=10
PER=$((RUNS / ROUNDS))
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d /tmp/shoji-bench-seal.XXXXXX)
binary() { case $1 in base) echo "$BASE" ;; shoji) echo "$SHOJI" ;; esac; }
cleanup() {
  for name in base shoji; do
    "$(binary $name)" --root "$work/root-$name" delete --force "exec-$name" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

make_bundle "$work/bundle" '.process.args = ["/bin/true"]'
for name in base shoji; do
  mkdir -p "$work/exec-$name"
  jq --arg root "$work/bundle/rootfs" '.process.args = ["sleep", "100000"] | .root.path = $root' \
    "$work/bundle/config.json" > "$work/exec-$name/config.json"
  "$(binary $name)" --root "$work/root-$name" run -d --bundle "$work/exec-$name" "exec-$name" </dev/null >/dev/null
done

# One batch in its own shell: prints wall nanoseconds and the CPU milliseconds of its children.
loop='rt=$1 root=$2 bundle=$3 runs=$4 tag=$5 mode=$6 name=$7
start=$(date +%s%N)
for i in $(seq "$runs"); do
  if [ "$mode" = exec ]; then
    "$rt" --root "$root" exec "exec-$name" /bin/true </dev/null >/dev/null || exit 1
  else
    "$rt" --root "$root" run --bundle "$bundle" "b-$tag-$i" </dev/null >/dev/null || exit 1
  fi
done
end=$(date +%s%N)
read -r -a stat < /proc/$$/stat
echo $((end - start)) $(( (stat[15] + stat[16]) * 1000 / $(getconf CLK_TCK) ))'

declare -A wall cpu
for mode in run exec; do
  for round in $(seq "$ROUNDS"); do
    for name in base shoji; do
      read -r w c < <(bash -c "$loop" bench "$(binary $name)" "$work/root-$name" "$work/bundle" \
        "$PER" "$round" "$mode" "$name")
      wall[$name-$mode]=$((${wall[$name-$mode]:-0} + w)) cpu[$name-$mode]=$((${cpu[$name-$mode]:-0} + c))
    done
  done
done

n=$((PER * ROUNDS))
section "$n sequential runs and execs of /bin/true, $ROUNDS interleaved rounds"
echo "  base:  $BASE"
echo "  shoji: $SHOJI"
for mode in run exec; do
  printf '  %-5s wall: base %7s ms, shoji %7s ms, difference %7s ms\n' "$mode" \
    "$(calc "${wall[base-$mode]} / 1e6 / $n")" "$(calc "${wall[shoji-$mode]} / 1e6 / $n")" \
    "$(calc "(${wall[shoji-$mode]} - ${wall[base-$mode]}) / 1e6 / $n")"
  printf '  %-5s cpu:  base %7s ms, shoji %7s ms, difference %7s ms\n' "$mode" \
    "$(calc "${cpu[base-$mode]} / $n")" "$(calc "${cpu[shoji-$mode]} / $n")" \
    "$(calc "(${cpu[shoji-$mode]} - ${cpu[base-$mode]}) / $n")"
done
