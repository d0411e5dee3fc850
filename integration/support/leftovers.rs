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
/// A process in its own mount namespace shows its root relative to the host, so this finds
/// inits that pivoted as well as chrooted ones.
pub fn processes_rooted_in(rootfs: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|r| r.starts_with(rootfs))
        })
        .filter(|pid| super::procfs::pid_alive(*pid))
        .collect()
}
