//! Hiding the kernel's cost of the first cgroup migration.
//!
//! Every write to `cgroup.procs` takes the global `cgroup_threadgroup_rwsem` for writing; when
//! no migration happened in the last grace period, that first waits for an RCU grace period
//! (2–15 ms on these hosts, most of a container's start-up). Later writes inside the same window
//! are cheap. So `create` starts a tiny child at once that "moves" itself into the cgroup it is
//! already in (a no-op for membership): the grace period then elapses while the runtime parses
//! the bundle and the init builds its namespaces, instead of when the init is placed.
//! (`favordynmods` on the cgroup mount would make this unnecessary, but the runtime must not
//! change the host's mounts.)
use std::path::PathBuf;

use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};

use super::{files, mode, path};

/// The warm-up child; reaped when dropped.
pub struct Warmup(Pid);

/// Start the warm-up; None when there is nothing to warm (no hierarchy) or fork fails — the
/// first migration is then simply slower.
pub fn start() -> Option<Warmup> {
    let procs = own_procs_file()?;
    // SAFETY: called while the runtime is single-threaded; the child only writes one file.
    match unsafe { fork() }.ok()? {
        ForkResult::Parent { child } => Some(Warmup(child)),
        ForkResult::Child => {
            // "0" means the writing process: it stays where it is, the lock is warmed.
            let _ = std::fs::write(&procs, "0");
            // SAFETY: the child must not run the runtime's destructors.
            unsafe { libc::_exit(0) }
        }
    }
}

/// `cgroup.procs` of the runtime's own cgroup in the first mounted hierarchy. A path that does
/// not resolve (an unusual mount root) only means the write fails and nothing is warmed.
fn own_procs_file() -> Option<PathBuf> {
    let mounts = mode::mounts().ok()?;
    let own = path::parse_proc_cgroup(&files::read("/proc/self/cgroup".as_ref()).ok()?);
    let h = mounts.all().next()?;
    let rel = path::own_cgroup(h, &own)?;
    Some(
        h.mount_point
            .join(rel.trim_start_matches('/'))
            .join("cgroup.procs"),
    )
}

impl Drop for Warmup {
    fn drop(&mut self) {
        let _ = waitpid(self.0, None);
    }
}
