# Issue 11's cgroup v2 figures (a benchmark, run by bench/vm.sh, never by the tier): N rounds,
# each a few sequential `run`s of /bin/true per runtime, interleaved so the emulator's noise
# hits all alike; prints per-run means and the median of the per-round paired ratios.
# direct mode: shoji vs crun (cgroupfs paths). systemd mode: shoji --systemd-cgroup vs shoji's
# cgroupfs driver vs runc --systemd-cgroup.
ROUNDS=${BENCH_ROUNDS:-15}
PER=${BENCH_PER:-4}
new_bundle bench
cfg bench '.process.args = ["/bin/true"] | .linux.resources = {} | .root.path = "/tmp/bundles/bench/rootfs"'
B=/tmp/bundles/bench
mkdir -p /tmp/bench-roots

# path_of NAME ID: the cgroupsPath a run of configuration NAME uses.
path_of() {
  case $1 in
    shoji | crun) echo "/bench/$2" ;;
    *) echo "system.slice:bench:$2" ;;
  esac
}

# bundles NAME N TAG: N bundle dirs for configuration NAME, sharing bench's rootfs, each with
# its own cgroupsPath; made before the clock starts (a jq under the emulator costs about as
# much as a run, and timing it would pull every ratio towards 1).
bundles() {
  local i id
  for ((i = 0; i < $2; i++)); do
    id=b-$1-$3-$i
    mkdir -p /tmp/bundles/$id
    jq --arg p "$(path_of "$1" "$id")" '.linux.cgroupsPath = $p' $B/config.json > /tmp/bundles/$id/config.json
  done
}

# batch NAME N TAG: N runs of configuration NAME (bundles made first); prints nanoseconds.
batch() {
  local name=$1 n=$2 start i id
  bundles "$name" "$n" "$3"
  case $name in
    shoji) flags=() rt=$SHOJI ;;
    crun) flags=() rt=/usr/bin/crun ;;
    shoji-systemd) flags=(--systemd-cgroup) rt=$SHOJI ;;
    runc-systemd) flags=(--systemd-cgroup) rt=/usr/sbin/runc ;;
  esac
  start=${EPOCHREALTIME/./} # bash's clock: `date` is a fork and exec, slow under TCG
  for ((i = 0; i < n; i++)); do
    id=b-$name-$3-$i
    "$rt" --root /tmp/bench-roots/$name "${flags[@]}" run --bundle /tmp/bundles/$id "$id" < /dev/null > /dev/null \
      || fail "$name: run $id failed"
  done
  echo $(((${EPOCHREALTIME/./} - start) * 1000))
}

if [ "$MODE" = systemd ]; then names=(shoji-systemd shoji runc-systemd); else names=(shoji crun); fi
declare -A total ratios
for ((r = 0; r < ROUNDS; r++)); do
  declare -A t=()
  for n in "${names[@]}"; do t[$n]=$(batch "$n" "$PER" "r$r"); total[$n]=$((${total[$n]:-0} + ${t[$n]})); done
  for n in "${names[@]:1}"; do
    ratios[$n]="${ratios[$n]:-} $(awk "BEGIN {printf \"%.2f\", ${t[${names[0]}]} / ${t[$n]}}")"
  done
done
med() { printf '%s\n' $* | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "bench: cgroup v2 ($MODE mode, guest under qemu TCG): $((ROUNDS * PER)) runs each, $ROUNDS interleaved rounds"
for n in "${names[@]}"; do
  echo "bench:   $n: $(awk "BEGIN {printf \"%.1f\", ${total[$n]} / 1e6 / ($ROUNDS * $PER)}") ms per run"
done
for n in "${names[@]:1}"; do
  echo "bench:   ${names[0]}/$n = $(med ${ratios[$n]}) (median of paired rounds:${ratios[$n]})"
done
if [ "$MODE" = systemd ]; then
  echo "bench:   targets: shoji-systemd/shoji <= 1.3, shoji-systemd/runc-systemd <= 0.3"
else
  echo "bench:   target: shoji/crun <= 0.6"
fi

# Where the time goes, stage by stage (bench/stages.awk over --debug logs): the first runtime
# of this mode, a few more runs of it alone, each with its wall time.
stage_runs=${BENCH_STAGE_RUNS:-8}
[ "$MODE" = systemd ] && flags=(--systemd-cgroup) || flags=()
bundles "${names[0]}" "$stage_runs" stage
for ((i = 0; i < stage_runs; i++)); do
  echo RUN
  id=b-${names[0]}-stage-$i
  # bash's clock, not `date`: a fork and exec per reading (tens of ms under TCG) would count
  # as time outside the log.
  start=${EPOCHREALTIME/./}
  "$SHOJI" --debug --root /tmp/bench-roots/stages "${flags[@]}" run --bundle /tmp/bundles/$id "$id" < /dev/null 2>&1 > /dev/null \
    || fail "stage run $id failed"
  echo "WALL $(((${EPOCHREALTIME/./} - start) * 1000))"
done > /tmp/stages.log
echo "bench:   ${names[0]} run, stage by stage (median of $stage_runs runs):"
awk -v prefix="bench:     " -f "$REPO/bench/stages.awk" /tmp/stages.log
