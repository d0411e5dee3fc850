//! Checks that a failed command left nothing behind: no state dir, no cgroup directory named
//! for the container, no mount under the bundle, no process rooted in the bundle's rootfs.

use std::path::{Path, PathBuf};

use super::bundle::Bundle;
use super::procfs::{find_cgroup_dirs_named, host_mounts_under};
use super::runtime::Runtime;

pub fn assert_no_leftovers(rt: &Runtime, id: &str, bundle: &Bundle) {
    let found = leftovers(rt, id, bundle);
    assert!(found.is_empty(), "left behind: {found:?}");
}

/// Everything container `id` of `bundle` left: its state dir, cgroup directories named for it
/// (every hierarchy, cgroup2 included), mounts under the bundle, and processes rooted in the
/// rootfs or still carrying the id in their command line (a create's forks before the exec)
/// and still alive after a bounded wait.
pub fn leftovers(rt: &Runtime, id: &str, bundle: &Bundle) -> Vec<Leftover> {
    let mut found = Vec::new();
    if !id.is_empty() && !id.contains('/') && id != ".." && id != "." {
        let state_dir = rt.state_dir(id);
        if state_dir.exists() {
            found.push(Leftover::StateDir(state_dir));
        }
        found.extend(find_cgroup_dirs_named(id).into_iter().map(Leftover::Cgroup));
    }
    found.extend(
        host_mounts_under(bundle.path())
            .into_iter()
            .map(Leftover::Mount),
    );
    let mut pids = processes_rooted_in(&bundle.rootfs());
    if !id.is_empty() {
        pids.extend(processes_naming(id));
    }
    pids.sort();
    pids.dedup();
    // A fork of a killed create whose pid it never learnt reads EOF on its sync socket and
    // exits by itself (tearing down new namespaces can take a moment, in state D): only what
    // is still there after the usual bound is left behind.
    pids.retain(|p| !super::procfs::wait_pid_gone(*p));
    found.extend(pids.into_iter().map(Leftover::Process));
    found
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    StateDir(PathBuf),
    Cgroup(PathBuf),
    Mount(PathBuf),
    Process(i32),
}

/// Removes what `leftovers` found (this test's own debris), so the next iteration of a loop
/// starts clean: processes killed first, then cgroups (deepest first), then the state dir.
pub fn remove_leftovers(found: &[Leftover]) {
    for l in found {
        if let Leftover::Process(pid) = l {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::SIGKILL);
            super::procfs::wait_pid_gone(*pid);
        }
    }
    for l in found.iter().rev() {
        match l {
            Leftover::Cgroup(dir) => {
                let _ = std::fs::remove_dir(dir);
            }
            Leftover::StateDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            _ => {}
        }
    }
}

/// Live pids (not this test process) whose command line contains `needle`.
fn processes_naming(needle: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|arg| arg == needle.as_bytes()))
        })
        .filter(|pid| super::procfs::pid_alive(*pid))
        .collect()
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
