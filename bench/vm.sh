#!/bin/sh
# Issue 11's cgroup v2 figures: the bench case of the VM tier (integration/vm/cases/bench.sh)
# in a pure-v2 guest, direct mode (shoji vs crun) and systemd mode (shoji --systemd-cgroup vs
# shoji's cgroupfs driver vs runc --systemd-cgroup). The guest runs under qemu TCG: slow and
# noisy, hence many interleaved rounds and medians of paired ratios.
#   bash bench/vm.sh [path/to/shoji]
set -eu
cd "$(dirname "$0")/.."
if [ -n "${1:-}" ]; then SHOJI_RUNTIME=$(realpath "$1"); export SHOJI_RUNTIME; fi
log=$(mktemp /tmp/shoji-bench-vm.XXXXXX)
status=0
# One guest at a time: two emulated guests on two cores moved the direct-mode ratio between
# 0.57 and 0.75 from run to run (issue 11, stop 9).
cargo test --release --test vm -- --ignored bench_ --nocapture --test-threads 1 >"$log" 2>&1 || status=$?
sed -n 's/^bench: //p' "$log"
if [ "$status" = 0 ]; then rm -f "$log"; else echo "bench failed: see $log" >&2; exit 1; fi
