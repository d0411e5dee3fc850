//! `kill`: a signal to the init, or with `--all` to every process in the container's cgroup.
use anyhow::{Context, Result};
use nix::sys::signal::{kill as send, Signal};
use nix::unistd::Pid;

use crate::cgroups;
use crate::state::{require_status, Status, Store};

pub fn kill(store: &Store, id: &str, signal: Signal, all: bool) -> Result<()> {
    let dir = store.open(id)?;
    let record = dir.load()?;
    require_status(
        &record,
        &dir.fifo_path(),
        &[Status::Created, Status::Running, Status::Paused],
    )?;
    if all {
        let driver = cgroups::driver(&record.cgroup)?;
        return driver.cgroup().kill_all(signal);
    }
    send(Pid::from_raw(record.init_pid), signal)
        .with_context(|| format!("sending {signal} to the container's init"))
}
