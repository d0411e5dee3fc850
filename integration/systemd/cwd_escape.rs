//! CVE-2024-21626 class under the systemd driver: `process.cwd = /proc/self/fd/N` for
//! N = 3..=64 never leaves the container's process outside its root, for `run`,
//! `create` + `start` and `exec` (the probe is support/cwd_escape.rs). The systemd driver
//! holds a D-Bus connection in the runtime parent: its socket must not reach the init either.
use crate::in_sandbox;
use crate::support::cwd_escape::{probe_create_start, probe_exec, probe_run, CwdProbe};
use crate::support::Runtime;

const SYSTEMD: &[&str] = &["--systemd-cgroup"];

#[test]
fn systemd_cwd_proc_self_fd_run_stays_inside() {
    in_sandbox(
        "cwd_escape::systemd_cwd_proc_self_fd_run_stays_inside",
        || {
            probe_run(&Runtime::new(), &CwdProbe::new("sd-cwd-run"), SYSTEMD);
        },
    );
}

#[test]
fn systemd_cwd_proc_self_fd_create_start_stays_inside() {
    in_sandbox(
        "cwd_escape::systemd_cwd_proc_self_fd_create_start_stays_inside",
        || probe_create_start(&Runtime::new(), &CwdProbe::new("sd-cwd-create"), SYSTEMD),
    );
}

#[test]
fn systemd_cwd_proc_self_fd_exec_stays_inside() {
    in_sandbox(
        "cwd_escape::systemd_cwd_proc_self_fd_exec_stays_inside",
        || {
            probe_exec(&Runtime::new(), &CwdProbe::new("sd-cwd-exec"), SYSTEMD);
        },
    );
}
