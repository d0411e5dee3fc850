//! `kill`: a signal to the init, or with `--all` to every process in the container's cgroup.
//! Signal 0 (`None`) checks liveness and sends nothing. As runc, `--all` also reaches a
//! container whose init has exited: processes left in its cgroup (a pod sharing a pid
//! namespace, daemons the init started) still get the signal; with none left it is a no-op.
use anyhow::{Context, Result};
use nix::sys::signal::{kill as send, Signal};
use nix::unistd::Pid;

use crate::cgroups;
use crate::state::{require_status, Status, Store};

pub fn kill(store: &Store, id: &str, signal: Option<Signal>, all: bool) -> Result<()> {
    let dir = store.open(id)?;
    let record = dir.load()?;
    if all {
        let driver = cgroups::driver(&record.cgroup)?;
        let cgroup = driver.cgroup();
        if !cgroup.exists() {
            tracing::debug!("kill --all: the cgroup is gone, nothing to signal");
            return Ok(());
        }
        tracing::debug!("kill --all: {signal:?} to every process in the cgroup");
        return cgroup.kill_all(signal);
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
