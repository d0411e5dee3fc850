//! `pause` / `resume`: freeze or thaw every process in the container's cgroup.
use anyhow::{bail, Result};

use crate::cgroups;
use crate::state::{require_status, Status, Store};

pub fn pause(store: &Store, id: &str) -> Result<()> {
    let dir = store.open(id)?;
    let record = dir.load()?;
    require_status(
        &record,
        &dir.fifo_path(),
        &[Status::Running, Status::Created],
    )?;
    tracing::debug!("pause: freezing cgroup {:?}", record.cgroup.path);
    cgroups::driver(&record.cgroup)?.cgroup().freeze()
}

pub fn resume(store: &Store, id: &str) -> Result<()> {
    let dir = store.open(id)?;
    let record = dir.load()?;
    if record.status(&dir.fifo_path()) != Status::Paused {
        bail!("container not paused");
    }
    tracing::debug!("resume: thawing cgroup {:?}", record.cgroup.path);
    cgroups::driver(&record.cgroup)?.cgroup().thaw()
}
