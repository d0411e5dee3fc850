//! The `creating` record: `create` writes state.json before it makes anything, and saves it
//! again before each later thing it makes (the cgroup directories it claimed, the init's pid),
//! so a SIGKILL at any moment leaves a record naming everything that exists. `delete --force`
//! removes exactly that; `list` and `state` show the container as `creating` while its create
//! runs and `stopped` once that process is gone.
use serde::{Deserialize, Serialize};

use super::pid_start_time;

/// The `create` (or `run`) process still building the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creator {
    pub pid: i32,
    /// Field 22 of /proc/PID/stat: a recycled pid is not mistaken for a live create.
    pub start_time: u64,
}

impl Creator {
    /// This process.
    pub fn this_process() -> Creator {
        let pid = std::process::id() as i32;
        Creator {
            pid,
            start_time: pid_start_time(pid).unwrap_or_default(),
        }
    }

    pub fn alive(&self) -> bool {
        pid_start_time(self.pid) == Some(self.start_time)
    }
}
