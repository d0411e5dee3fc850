#!/usr/bin/env bash
# Issue 11's host figures, shoji beside runc and crun in one invocation (root; Debian's runc
# and crun). Every timing interleaves the runtimes round by round, so a load change on the
# machine hits all of them alike; ratios are medians of per-round paired ratios.
#   bash bench/host.sh [path/to/shoji] [RUNS]
# Sections: sequential `run` (with the floor and the v1 migration grace period beside it),
# `exec` into a running container, 16 parallel run loops, peak RSS of `run`, binary size.
# crun 1.8.1 refuses this hybrid host as long as /sys/fs/cgroup/unified/cgroup.controllers
# lists a controller, so crun runs inside `unshare -m` with an empty file bound over it: a
# private mount namespace, the host's mounts untouched.
set -euo pipefail

SHOJI=$(realpath "${1:-$(dirname "$0")/../target/x86_64-unknown-linux-gnu/release/shoji}")
RUNS=${2:-100}
RUNC=$(command -v runc)
CRUN=$(command -v crun)
ROUNDS=10
PER=$((RUNS / ROUNDS))
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d /tmp/shoji-bench.XXXXXX)
cleanup() {
  for rt in shoji runc crun; do
    for id in $(ls "$work/root-$rt" 2>/dev/null); do runtime_of "$rt" --root "$work/root-$rt" delete --force "$id" 2>/dev/null || true; done
  done
  rmdir /sys/fs/cgroup/*/shoji-bench-grace-* 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# runtime_of NAME ARGS...: the runtime NAME with ARGS; crun in its private mount namespace.
: > "$work/empty"
runtime_of() {
  local rt=$1
  shift
  case $rt in
    shoji) "$SHOJI" "$@" ;;
    runc) "$RUNC" "$@" ;;
    crun) unshare -m sh -c 'mount --bind "$0" /sys/fs/cgroup/unified/cgroup.controllers && exec "$@"' \
            "$work/empty" "$CRUN" "$@" ;;
  esac
}

# The bundle: busybox with /bin/true, runc's default spec so all three read the same file.
bundle=$work/bundle
make_bundle "$bundle" '.process.args = ["/bin/true"]'

# run_batch RT N TAG: N sequential `run`s; prints nanoseconds. crun's loop runs in one
# private mount namespace so its unshare is not timed per run.
run_loop='rt=$1 root=$2 bundle=$3 runs=$4 tag=$5
start=$(date +%s%N)
for i in $(seq "$runs"); do
  "$rt" --root "$root" run --bundle "$bundle" "b-$tag-$i" </dev/null >/dev/null || { echo "run $i of $rt failed" >&2; exit 1; }
done
echo $(( $(date +%s%N) - start ))'
run_batch() {
  case $1 in
    crun) unshare -m bash -c "mount --bind '$work/empty' /sys/fs/cgroup/unified/cgroup.controllers && $run_loop" \
            bench "$CRUN" "$work/root-crun" "$bundle" "$2" "$3" ;;
    shoji) bash -c "$run_loop" bench "$SHOJI" "$work/root-shoji" "$bundle" "$2" "$3" ;;
    runc) bash -c "$run_loop" bench "$RUNC" "$work/root-runc" "$bundle" "$2" "$3" ;;
  esac
}

# floor_batch N: what any runtime must do at least: new pid, mount, uts, ipc and net
# namespaces, a chroot into the rootfs and the exec of the same /bin/true; no cgroup.
floor_batch() {
  local start
  start=$(date +%s%N)
  for _ in $(seq "$1"); do
    unshare --fork --pid --mount --uts --ipc --net chroot "$bundle/rootfs" /bin/true
  done
  echo $(($(date +%s%N) - start))
}

# grace_batch N: the v1 migration cost alone: a new cgroup in the pids hierarchy and a fresh
# process moved into it (cgroup_threadgroup_rwsem waits for an RCU grace period), minus the
# same without the move.
grace_batch() {
  local start with without d
  start=$(date +%s%N)
  for i in $(seq "$1"); do
    d=/sys/fs/cgroup/pids/shoji-bench-grace-$i
    mkdir "$d"
    sh -c 'echo $$ > "$0/cgroup.procs"; echo $$ > /sys/fs/cgroup/pids/cgroup.procs' "$d"
    rmdir "$d"
  done
  with=$(($(date +%s%N) - start))
  start=$(date +%s%N)
  for i in $(seq "$1"); do
    d=/sys/fs/cgroup/pids/shoji-bench-grace-$i
    mkdir "$d"
    sh -c ':' "$d"
    rmdir "$d"
  done
  without=$(($(date +%s%N) - start))
  echo $((with - without))
}

section "sequential run of /bin/true ($RUNS each, $ROUNDS interleaved rounds)"
declare -A total=()
ratios_crun=() ratios_runc=()
for round in $(seq "$ROUNDS"); do
  s=$(run_batch shoji "$PER" "r$round")
  r=$(run_batch runc "$PER" "r$round")
  c=$(run_batch crun "$PER" "r$round")
  f=$(floor_batch "$PER")
  g=$(grace_batch "$PER")
  total[shoji]=$((${total[shoji]:-0} + s)) total[runc]=$((${total[runc]:-0} + r))
  total[crun]=$((${total[crun]:-0} + c)) total[floor]=$((${total[floor]:-0} + f))
  total[grace]=$((${total[grace]:-0} + g))
  ratios_crun+=("$(calc "$s / $c")") ratios_runc+=("$(calc "$s / $r")")
done
n=$((PER * ROUNDS))
for k in shoji runc crun floor grace; do
  printf '  %-34s %7s ms per run\n' "$(label_of "$k")" "$(calc "${total[$k]} / 1e6 / $n")"
done
target "shoji/crun run (hybrid v1)" "$(median "${ratios_crun[@]}")" "<=" 0.75 "${ratios_crun[@]}"
target "shoji/runc run (hybrid v1)" "$(median "${ratios_runc[@]}")" "<=" 1 "${ratios_runc[@]}"

section "exec of /bin/true into a running container ($RUNS each, interleaved)"
for rt in shoji runc crun; do
  mkdir -p "$work/exec-$rt"
  jq --arg root "$bundle/rootfs" '.process.args = ["sleep", "100000"] | .root.path = $root' \
    "$bundle/config.json" > "$work/exec-$rt/config.json"
  runtime_of "$rt" --root "$work/root-$rt" run -d --bundle "$work/exec-$rt" "exec-$rt" </dev/null >/dev/null
done
exec_batch() {
  local rt=$1 start
  start=$(date +%s%N)
  for _ in $(seq "$2"); do
    runtime_of "$rt" --root "$work/root-$rt" exec "exec-$rt" /bin/true </dev/null >/dev/null
  done
  echo $(($(date +%s%N) - start))
}
declare -A etotal=()
eratios_crun=() eratios_runc=()
for round in $(seq "$ROUNDS"); do
  s=$(exec_batch shoji "$PER") r=$(exec_batch runc "$PER") c=$(exec_batch crun "$PER")
  etotal[shoji]=$((${etotal[shoji]:-0} + s)) etotal[runc]=$((${etotal[runc]:-0} + r))
  etotal[crun]=$((${etotal[crun]:-0} + c))
  eratios_crun+=("$(calc "$s / $c")") eratios_runc+=("$(calc "$s / $r")")
done
for k in shoji runc crun; do
  printf '  %-34s %7s ms per exec\n' "$k exec" "$(calc "${etotal[$k]} / 1e6 / $n")"
done
target "shoji/crun exec" "$(median "${eratios_crun[@]}")" "<=" 0.6 "${eratios_crun[@]}"
target "shoji/runc exec" "$(median "${eratios_runc[@]}")" "<=" 0.6 "${eratios_runc[@]}"
for rt in shoji runc crun; do runtime_of "$rt" --root "$work/root-$rt" delete --force "exec-$rt" >/dev/null 2>&1 || true; done

section "16 parallel run loops (containers per second, $PER runs per loop, 3 interleaved rounds)"
parallel_batch() {
  local rt=$1 tag=$2 start pids=() failed=0
  start=$(date +%s%N)
  for j in $(seq 16); do
    run_batch "$rt" "$PER" "p$tag-$j" >/dev/null 2>"$work/par-$rt-$j.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  [ "$failed" = 0 ] || { echo "  $rt: $failed of 16 loops failed: $(cat "$work"/par-"$rt"-*.err | head -3)" >&2; }
  echo $(($(date +%s%N) - start)) "$failed"
}
pratios=() pfail=0
declare -A prate=()
for round in 1 2 3; do
  read -r s sf < <(parallel_batch shoji "s$round")
  read -r c cf < <(parallel_batch crun "c$round")
  read -r r rf < <(parallel_batch runc "r$round")
  pfail=$((pfail + sf + cf + rf))
  prate[shoji]="${prate[shoji]:-} $(calc "16 * $PER / ($s / 1e9)")"
  prate[crun]="${prate[crun]:-} $(calc "16 * $PER / ($c / 1e9)")"
  prate[runc]="${prate[runc]:-} $(calc "16 * $PER / ($r / 1e9)")"
  pratios+=("$(calc "$c / $s")")
done
for k in shoji crun runc; do
  # shellcheck disable=SC2086
  printf '  %-34s %7s containers/s (rounds:%s)\n' "$k" "$(median ${prate[$k]})" "${prate[$k]}"
done
target "shoji/crun containers per second" "$(median "${pratios[@]}")" ">=" 1.5 "${pratios[@]}"
echo "  failed loops: $pfail (target 0)"

section "footprint"
for rt in shoji runc crun; do
  peak=0
  for i in 1 2 3; do
    if [ "$rt" = crun ]; then
      kb=$(unshare -m sh -c 'mount --bind "$0" /sys/fs/cgroup/unified/cgroup.controllers && /usr/bin/time -f %M "$1" --root "$2" run --bundle "$3" "$4" 2>&1 >/dev/null </dev/null | tail -1' \
        "$work/empty" "$CRUN" "$work/root-crun" "$bundle" "rss-$i")
    else
      kb=$( { /usr/bin/time -f %M "$(runtime_path "$rt")" --root "$work/root-$rt" run --bundle "$bundle" "rss-$i" >/dev/null </dev/null; } 2>&1 | tail -1)
    fi
    [ "$kb" -gt "$peak" ] && peak=$kb
  done
  printf '  %-34s %7s KiB peak RSS of run (max of 3; /usr/bin/time)\n' "$rt" "$peak"
  declare "rss_$rt=$peak"
done
# shellcheck disable=SC2154
target "shoji/crun peak RSS" "$(calc "$rss_shoji / $rss_crun")" "<=" 1
for rt in shoji runc crun; do
  printf '  %-34s %7s KiB binary\n' "$rt" "$(( $(stat -Lc %s "$(runtime_path "$rt")") / 1024 ))"
done
