//! `delete`: remove a stopped (or, with `--force`, any) container: its processes, the cgroup
//! directories it made and its state dir; poststop hooks run last, and only warn on failure.
//! A half-made container (its create was killed) is `stopped` and goes the same way: its
//! record names everything that exists. A cgroup it only joined is left in place, and so are
//! the processes there that it did not start.
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use nix::sys::signal::{kill, Signal};

use super::own_processes::{live_init, signal_all};
use crate::cgroups;
use crate::hooks::{self, Kind};
use crate::state::{Record, Status, Store};

pub fn delete(store: &Store, id: &str, force: bool) -> Result<()> {
    let dir = match store.open(id) {
        Ok(d) => d,
        // As runc: deleting what is already gone is not an error when forced; a directory a
        // killed create left before its first record holds nothing else.
        Err(_) if force && crate::state::validate_id(id).is_ok() => {
            return store.remove_unrecorded(id)
        }
        Err(e) => return Err(e),
    };
    let record = dir.load()?;
    let status = record.status(&dir.fifo_path());
    tracing::debug!("delete: container {id} is {status}");
    match status {
        // A created container has not run user code yet: deleting it is always allowed.
        Status::Stopped | Status::Created => {}
        _ if force => signal_all(&record, Signal::SIGKILL)?,
        other => bail!("cannot delete container {id} that is not stopped: {other}"),
    }
    // The init of a created or half-made container still waits (on the exec FIFO or its
    // sync socket), possibly in a cgroup that is not ours to drain.
    stop_init(&record);
    let driver = cgroups::driver(&record.cgroup)?;
    driver.destroy(&record.owned_cgroup(driver.cgroup().dirs()))?;
    tracing::debug!("delete: cgroup {:?} removed", record.cgroup.path);
    let state = serde_json::to_string(&record.view_with(Status::Stopped))?;
    dir.remove()?;
    if record.creating.is_none() {
        tracing::debug!("delete: state removed, running poststop hooks");
        hooks::run(record.config.hooks(), Kind::Poststop, &state)?;
    }
    Ok(())
}

/// SIGKILL the init if it still runs and wait (bounded) until it is gone; it is not our
/// child, so poll.
fn stop_init(record: &Record) {
    let Some(pid) = live_init(record) else {
        return;
    };
    let _ = kill(pid, Signal::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(5);
    while live_init(record).is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}
