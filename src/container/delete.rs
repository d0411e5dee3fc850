//! `delete`: remove a stopped (or, with `--force`, any) container: its processes, cgroup and
//! state dir; poststop hooks run last, and only warn on failure.
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cgroups;
use crate::hooks::{self, Kind};
use crate::state::{Status, Store};

pub fn delete(store: &Store, id: &str, force: bool) -> Result<()> {
    let dir = match store.open(id) {
        Ok(d) => d,
        // As runc: deleting what is already gone is not an error when forced.
        Err(_) if force && crate::state::validate_id(id).is_ok() => return Ok(()),
        Err(e) => return Err(e),
    };
    let record = dir.load()?;
    let status = record.status(&dir.fifo_path());
    tracing::debug!("delete: container {id} is {status}");
    match status {
        Status::Stopped => {}
        // A created container has not run user code yet: deleting it is always allowed.
        Status::Created => stop_init(record.init_pid),
        _ if force => {
            let driver = cgroups::driver(&record.cgroup)?;
            driver.cgroup().kill_all(Signal::SIGKILL)?;
            stop_init(record.init_pid);
        }
        other => bail!("cannot delete container {id} that is not stopped: {other}"),
    }
    cgroups::driver(&record.cgroup)?.destroy()?;
    tracing::debug!("delete: cgroup {:?} removed", record.cgroup.path);
    let state = serde_json::to_string(&record.view_with(Status::Stopped))?;
    dir.remove()?;
    tracing::debug!("delete: state removed, running poststop hooks");
    hooks::run(record.config.hooks(), Kind::Poststop, &state)?;
    Ok(())
}

/// SIGKILL the init and wait (bounded) until it is gone; it is not our child, so poll.
fn stop_init(pid: i32) {
    let pid = Pid::from_raw(pid);
    let _ = kill(pid, Signal::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(5);
    while crate::state::pid_start_time(pid.as_raw()).is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}
