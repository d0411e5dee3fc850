#!/bin/sh
# Issue 11's end-to-end figure: 20 sequential `ctr run --rm` of /bin/true through containerd
# with shoji, runc and crun (systemd driver) in the systemd sandbox, with the ratios.
#   bash bench/clients.sh [path/to/shoji]     (root; the default is the release build)
# The sandbox and containerd are the clients test binary's own (integration/clients).
set -eu
cd "$(dirname "$0")/.."
if [ -n "${1:-}" ]; then SHOJI_RUNTIME=$(realpath "$1"); export SHOJI_RUNTIME; fi
log=$(mktemp /tmp/shoji-bench-clients.XXXXXX)
cargo test --release --test clients -- --ignored --exact bench::ctr_run_bench --nocapture >"$log" 2>&1 || true
sed -n 's/^bench: //p' "$log"
if grep -q "test result: ok" "$log"; then rm -f "$log"; else echo "bench failed: see $log" >&2; exit 1; fi
