//! `kill`: a signal to the init, or with `--all` to every process of the container (all of its
//! cgroup if the container made it, see `own_processes`).
use anyhow::{Context, Result};
use nix::sys::signal::{kill as send, Signal};
use nix::unistd::Pid;

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
        return super::own_processes::signal_all(&record, signal);
    }
    send(Pid::from_raw(record.init_pid), signal)
        .with_context(|| format!("sending {signal} to the container's init"))
}
