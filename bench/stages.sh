#!/usr/bin/env bash
# Where shoji's `run` of /bin/true spends its time on this host, stage by stage: RUNS runs
# with --debug, the median of each stage between consecutive debug lines (bench/stages.awk).
# The time outside the log (the binary's exec, its re-exec from the sealed copy, its exit)
# is the median wall time minus the stages.
#   bash bench/stages.sh [path/to/shoji] [RUNS]
set -euo pipefail
here=$(dirname "$0")
SHOJI=$(realpath "${1:-$here/../target/x86_64-unknown-linux-gnu/release/shoji}")
RUNS=${2:-30}
. "$here/lib.sh"

work=$(mktemp -d /tmp/shoji-bench-stages.XXXXXX)
trap 'rm -rf "$work"' EXIT
make_bundle "$work/bundle" '.process.args = ["/bin/true"]' >/dev/null

section "shoji run, stage by stage (hybrid v1, cgroupfs; median of $RUNS runs)"
for i in $(seq "$RUNS"); do
  echo RUN
  # bash's clock, not `date`: a fork and exec per reading would count as time outside the log.
  start=${EPOCHREALTIME/./}
  "$SHOJI" --debug --root "$work/root" run --bundle "$work/bundle" "stage-$i" </dev/null 2>&1 >/dev/null
  echo "WALL $(((${EPOCHREALTIME/./} - start) * 1000))"
done > "$work/log"
awk -v prefix="  " -f "$here/stages.awk" "$work/log"
