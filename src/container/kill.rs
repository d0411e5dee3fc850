//! `kill`: a signal to the init, or with `--all` to every process of the container: all of
//! its cgroup when the container made it, only its own processes in a cgroup it joined (see
//! `own_processes`). Signal 0 (`None`) checks liveness and sends nothing. As runc, `--all`
//! also reaches a container whose init has exited: processes left in its own cgroup (a pod
//! sharing a pid namespace, daemons the init started) still get the signal; with none left it
//! is a no-op.
use anyhow::{Context, Result};
use nix::sys::signal::{kill as send, Signal};
use nix::unistd::Pid;

use crate::state::{require_status, Status, Store};

pub fn kill(store: &Store, id: &str, signal: Option<Signal>, all: bool) -> Result<()> {
    let dir = store.open(id)?;
    let record = dir.load()?;
    if all {
        tracing::debug!("kill --all: {signal:?} to every process of the container");
        return super::own_processes::signal_all(&record, signal);
    }
    require_status(
        &record,
        &dir.fifo_path(),
        &[Status::Created, Status::Running, Status::Paused],
    )?;
    let what = signal.map_or("signal 0", Signal::as_str);
    tracing::debug!("kill: {what} to init {}", record.init_pid);
    send(Pid::from_raw(record.init_pid), signal)
        .with_context(|| format!("sending {what} to the container's init"))
}
