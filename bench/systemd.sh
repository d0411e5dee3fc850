#!/bin/sh
# Issue 3's speed figure: 100 sequential `run`s of /bin/true in the systemd sandbox with
# shoji --systemd-cgroup, runc --systemd-cgroup and shoji's cgroupfs driver, with the ratios;
# then shoji's systemd `run` stage by stage (issue 11).
#   bash bench/systemd.sh [path/to/shoji]     (root; the default is the release build)
# SHOJI_BENCH_BASELINE=path/to/other/shoji adds that binary's systemd figure to the same
# rounds, for an A/B of a change.
# The sandbox is the systemd test binary's own (integration/sandbox), built in release.
set -eu
cd "$(dirname "$0")/.."
if [ -n "${1:-}" ]; then SHOJI_BENCH_BINARY=$(realpath "$1"); export SHOJI_BENCH_BINARY; fi
log=$(mktemp /tmp/shoji-bench-systemd.XXXXXX)
cargo test --release --test systemd -- --ignored --exact bench::lifecycle_bench --nocapture >"$log" 2>&1 || true
sed -n 's/^bench: //p' "$log"
if grep -q "test result: ok" "$log"; then rm -f "$log"; else echo "bench failed: see $log" >&2; exit 1; fi
# Where the systemd `run` spends its time, stage by stage (40 `--debug` runs in the sandbox).
cargo test --release --test systemd -- --ignored --exact bench::stages_bench --nocapture >"$log" 2>&1 || true
echo "shoji --systemd-cgroup run, stage by stage (sandbox, hybrid v1; median of 40 runs)"
sed -n 's/^stages: //p' "$log" | awk -v prefix="  " -f bench/stages.awk
if grep -q "test result: ok" "$log"; then rm -f "$log"; else echo "bench failed: see $log" >&2; exit 1; fi
