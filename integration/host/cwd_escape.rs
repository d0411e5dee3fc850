//! CVE-2024-21626 class: `process.cwd = /proc/self/fd/N` for N = 3..=64 never leaves the
//! container's process outside its root, for `run`, `create` + `start` and `exec` (see
//! support/cwd_escape.rs for the probe). The simulated-v2 case takes the clone3
//! CLONE_INTO_CGROUP path, where the runtime holds the cgroup directory open; the VM tier
//! proves the same on a real cgroup v2 host.
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::support::cwd_escape::{probe_create_start, probe_exec, probe_run, CwdProbe};
use crate::support::{unique_name, Runtime, Scratch};

#[test]
fn cwd_proc_self_fd_run_stays_inside() {
    probe_run(&Runtime::new(), &CwdProbe::new("cwd-run"), &[]);
}

#[test]
fn cwd_proc_self_fd_create_start_stays_inside() {
    probe_create_start(&Runtime::new(), &CwdProbe::new("cwd-create"), &[]);
}

#[test]
fn cwd_proc_self_fd_exec_stays_inside() {
    probe_exec(&Runtime::new(), &CwdProbe::new("cwd-exec"), &[]);
}

/// Without a pid namespace the container's /proc shows the host's processes: a cwd through
/// /proc/PID/cwd of a host process (this test's) is a host directory, whatever fds are open.
/// The check after chdir refuses it.
#[test]
fn cwd_through_host_proc_link_is_refused() {
    let rt = Runtime::new();
    let probe = CwdProbe::new("cwd-proc1");
    probe.bundle.edit(|s| {
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "pid");
    });
    probe.set_cwd_path(&format!("/proc/{}/cwd", std::process::id()), 1);
    let id = unique_name("cwd-proc1");
    let out = rt.cmd(&["run", "--bundle", probe.bundle.path_str(), &id]);
    let _ = rt.cmd(&["delete", "--force", &id]);
    assert_eq!(probe.judge(1, &out), None, "{out}");
    let line = out.failure().one_line_error();
    assert!(line.contains("outside the container's root"), "{line}");
}

/// The runtime as a pure cgroup v2 host would run it: each command in a private mount
/// namespace where /sys/fs/cgroup is a cgroup2 mount (test-envs.md), so create clones the init
/// straight into its cgroup directory.
#[test]
fn cwd_proc_self_fd_simulated_v2_stays_inside() {
    let scratch = Scratch::new("cwd-v2");
    let wrapper = v2_wrapper(&scratch, Runtime::new().binary());
    let rt = Runtime::with_binary(wrapper);
    let probe = CwdProbe::new("cwd-v2");
    probe_run(&rt, &probe, &[]);
    probe_create_start(&rt, &probe, &[]);
    probe_exec(&rt, &probe, &[]);
}

fn v2_wrapper(scratch: &Scratch, binary: &std::path::Path) -> PathBuf {
    let path = scratch.path().join("shoji-v2");
    let body = format!(
        "#!/bin/sh\nexec unshare --mount --propagation private sh -c \
         'umount -R -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec \"$0\" \"$@\"' \
         {} \"$@\"\n",
        binary.display()
    );
    std::fs::write(&path, body).expect("write wrapper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}
