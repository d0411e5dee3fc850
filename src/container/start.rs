//! `start`: release a created container's init from the exec FIFO, then run poststart hooks.
use anyhow::Result;

use crate::hooks::{self, Kind};
use crate::process::exec_fifo;
use crate::state::{require_status, ContainerDir, Record, Status, Store};

pub fn start(store: &Store, id: &str) -> Result<()> {
    let dir = store.open(id)?;
    let record = dir.load()?;
    start_loaded(&dir, &record)
}

/// `start` of a container whose directory the caller holds, with its record as saved: `run`
/// starts what it has just created without reading it back.
pub fn start_loaded(dir: &ContainerDir, record: &Record) -> Result<()> {
    let id = &record.id;
    match record.status(&dir.fifo_path()) {
        Status::Created => {}
        Status::Stopped => anyhow::bail!("cannot start a container that has stopped"),
        _ => {
            require_status(record, &dir.fifo_path(), &[Status::Created])?;
        }
    }
    if record.config.process().is_none() {
        anyhow::bail!("cannot start container {id}: config.json has no \"process\" to run");
    }
    tracing::debug!(
        "start: releasing init {} from the exec fifo",
        record.init_pid
    );
    exec_fifo::release(&dir.fifo_path())?;
    let state = serde_json::to_string(&record.view_with(Status::Running))?;
    hooks::run(record.config.hooks(), Kind::Poststart, &state)?;
    Ok(())
}
