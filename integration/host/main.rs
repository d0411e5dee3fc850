//! Tier 1: end-to-end tests of the runtime binary as root on this host (cgroup v1 or hybrid),
//! with the cgroupfs driver. Each test builds its own busybox bundle and uses its own `--root`.
//! Run against runc with `SHOJI_RUNTIME=/usr/sbin/runc cargo test --test host`.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod cgroupfs;
mod console;
mod hooks;
mod lifecycle;
mod log;
mod namespaces;
mod ops;
mod process;
mod rootfs;
mod run_tty;
mod spec_cmd;
mod state_json;
