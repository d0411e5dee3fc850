//! The operating commands against a live container: exec, ps, pause/resume, events, update,
//! features. Runs as root against the built binary with the cgroupfs driver (the systemd
//! driver's versions of these belong to the systemd sandbox tier).
//!
//! Inputs: busybox bundles from `support`. Outputs: assertions on what a user would check —
//! /proc links and states, files under /sys/fs/cgroup, exit codes, JSON. Invariants: every
//! container is held by a `Container` guard, so it is deleted (and checked gone) even when a
//! test fails; every background runtime process a test spawns is killed by its own pid.
//!
//! Against runc 1.1.5 (`SHOJI_RUNTIME=/usr/sbin/runc`) these fail by design:
//! - exec::exec_into_a_created_container_cannot_reach_the_runtime_binary (runc's waiting init
//!   is dumpable; it protects its binary by running a memfd copy instead)
//! - exec::exec_cgroup_flag_joins_a_sub_cgroup (runc cannot join a fresh cpuset sub-cgroup:
//!   its cpus are empty, ENOSPC)
//! - exec_tty::tty_exec_attached_returns_the_shells_status (runc takes --console-socket only
//!   with --detach), exec_tty::tty_exec_without_console_socket_relays_the_pty (runc's relay
//!   needs a controlling terminal)
//! - events::events_streams_stats_until_the_container_stops (runc's stream outlives it)
//! - features::features_parses_as_the_spec_schema (runc 1.1.5 knows no time namespace)
//! - update::* that read state.json (runc saves no config there), print one line (runc adds a
//!   warning line) or undo a key never set (runc leaves it written)

mod events;
mod exec;
mod exec_fds;
mod exec_tty;
mod features;
mod pause;
mod ps;
mod refusals;
mod update;

use std::path::PathBuf;
use std::time::Duration;

use crate::support::procfs::{cgroup_of, controller_dir};
use crate::support::{Bundle, Container, Runtime};

/// A started container whose init is `sh -c SCRIPT`.
pub fn running<'a>(rt: &'a Runtime, bundle: &Bundle, name: &str, script: &str) -> Container<'a> {
    bundle.args(&["sh", "-c", script]);
    let c = Container::create(rt, bundle, name);
    c.start().success();
    c
}

/// The container's directory in `controller`'s hierarchy, found from its init.
pub fn cgroup_dir_of(c: &Container, controller: &str) -> PathBuf {
    let path = cgroup_of(c.pid, controller)
        .unwrap_or_else(|| panic!("init {} has no {controller} cgroup", c.pid));
    controller_dir(controller, &path)
}

/// The pids listed in the container's cgroup.procs (`controller`'s hierarchy), sorted.
pub fn cgroup_procs(c: &Container, controller: &str) -> Vec<i64> {
    let text = crate::support::procfs::read(cgroup_dir_of(c, controller).join("cgroup.procs"));
    let mut pids: Vec<i64> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    pids.sort();
    pids
}

/// Polls `cond` until it holds; a bound on a wait, not a timing assertion.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("gave up waiting for {what}");
}

/// The `State:` letter of /proc/PID/status (`S`, `D`, `T`, ...).
pub fn proc_state(pid: i64) -> String {
    let text = crate::support::procfs::read(format!("/proc/{pid}/status"));
    text.lines()
        .find_map(|l| l.strip_prefix("State:"))
        .map(|s| s.trim().chars().take(1).collect())
        .unwrap_or_default()
}
