#!/bin/sh
# Issue 3's speed figure: 100 sequential `run`s of /bin/true in the systemd sandbox with
# shoji --systemd-cgroup, runc --systemd-cgroup and shoji's cgroupfs driver, with the ratios.
# Release build; the sandbox is the systemd test binary's own (integration/sandbox).
set -eu
cd "$(dirname "$0")/.."
cargo test --release --test systemd -- --ignored --exact bench::lifecycle_bench --nocapture 2>&1 |
    sed -n 's/^bench: //p'
