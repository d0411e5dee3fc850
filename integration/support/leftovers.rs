//! Checks that a failed command left nothing behind: no state dir, no cgroup directory named
//! for the container, no mount under the bundle, no process rooted in the bundle's rootfs.

use std::path::Path;

use super::bundle::Bundle;
use super::procfs::{find_cgroup_dirs_named, host_mounts_under};
use super::runtime::Runtime;

pub fn assert_no_leftovers(rt: &Runtime, id: &str, bundle: &Bundle) {
    if !id.is_empty() && !id.contains('/') && id != ".." && id != "." {
        let state_dir = rt.state_dir(id);
        assert!(!state_dir.exists(), "state dir {state_dir:?} left behind");
        let cgroups = find_cgroup_dirs_named(id);
        assert!(cgroups.is_empty(), "cgroups left behind: {cgroups:?}");
    }
    let mounts = host_mounts_under(bundle.path());
    assert!(mounts.is_empty(), "mounts left behind: {mounts:?}");
    let procs = processes_rooted_in(&bundle.rootfs());
    assert!(procs.is_empty(), "processes left behind: {procs:?}");
}

/// Pids whose root directory is `rootfs`: a container init that outlived its failed create.
/// The readlink of /proc/PID/root of a pivoted process shows "/" (its own view), so compare
/// the directory itself: stat through the link gives the device and inode of its root.
pub fn processes_rooted_in(rootfs: &Path) -> Vec<i32> {
    use std::os::unix::fs::MetadataExt;
    let (Ok(want), Ok(entries)) = (std::fs::metadata(rootfs), std::fs::read_dir("/proc")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::metadata(format!("/proc/{pid}/root"))
                .is_ok_and(|m| m.dev() == want.dev() && m.ino() == want.ino())
        })
        .filter(|pid| super::procfs::pid_alive(*pid))
        .collect()
}

/// SIGKILLs every process rooted in `rootfs` except `keep`: inits that a broken runtime
/// started and lost track of (they are this test's own). Returns their pids, once gone.
pub fn kill_leaked_inits(rootfs: &Path, keep: i32) -> Vec<i32> {
    let leaked: Vec<i32> = processes_rooted_in(rootfs)
        .into_iter()
        .filter(|p| *p != keep)
        .collect();
    for pid in &leaked {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::SIGKILL);
        super::procfs::wait_pid_gone(*pid);
    }
    leaked
}
