//! Undo for a create that fails half-way: kill what was forked (by pid: never the other
//! processes of a shared cgroup), destroy the cgroup directories it claimed, remove the state
//! dir — in that order, so the cgroup is empty when it is removed.
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use crate::cgroups::{CgroupDriver, Owned};
use crate::state::ContainerDir;

#[derive(Default)]
pub struct CreateGuard {
    pub dir: Option<ContainerDir>,
    pub stage1: Option<Pid>,
    pub init: Option<Pid>,
    pub cgroup: Option<Box<dyn CgroupDriver>>,
    /// What the driver claimed (may make): all that is destroyed, never a shared cgroup.
    pub owned: Owned,
}

impl CreateGuard {
    /// The cgroup driver, once create has built it.
    pub fn driver(&self) -> &dyn CgroupDriver {
        self.cgroup.as_deref().expect("driver is held")
    }

    /// Success: keep everything, hand back the state dir.
    pub fn disarm(mut self) -> Option<ContainerDir> {
        self.stage1 = None;
        self.init = None;
        self.cgroup = None;
        self.dir.take()
    }
}

impl Drop for CreateGuard {
    fn drop(&mut self) {
        for pid in [self.init, self.stage1].into_iter().flatten() {
            let _ = kill(pid, Signal::SIGKILL);
            // Reaps stage 1 (our child) and the init when we are its subreaper (`run`).
            let _ = waitpid(pid, None);
        }
        if let Some(cg) = self.cgroup.take() {
            if let Err(e) = cg.destroy(&self.owned) {
                tracing::warn!("cleaning up cgroup after failed create: {e:#}");
            }
        }
        if let Some(dir) = self.dir.take() {
            if let Err(e) = dir.remove() {
                tracing::warn!("cleaning up state dir after failed create: {e:#}");
            }
        }
    }
}
