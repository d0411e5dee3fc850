//! Status is computed, never stored: `creating` while a create runs (`stopped` once it died
//! half way), `stopped` if the init is gone (or its pid was recycled: start time differs),
//! `paused` if the cgroup is frozen, `created` while the init waits on exec.fifo (holds its
//! read side: it has not exec'd), else `running`.
use std::fmt;

use serde::Serialize;

use std::path::Path;

use super::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `create` is still building it (runtime-spec's "creating").
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        };
        f.write_str(s)
    }
}

/// Field 22 (starttime) of /proc/PID/stat, or None if the process is gone or a zombie.
pub fn pid_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// The comm field may hold spaces and parentheses: fields are counted after the last ')'.
fn parse_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    // `rest` starts at field 3 (state); starttime is field 22.
    fields.nth(22 - 4)?.parse().ok()
}

pub(super) fn compute(record: &Record, fifo: &Path) -> Status {
    // A half-made container: its create still runs, or was killed and left it stopped.
    if let Some(creator) = record.creating {
        return match creator.alive() {
            true => Status::Creating,
            false => Status::Stopped,
        };
    }
    if record.init_pid <= 0 || pid_start_time(record.init_pid) != Some(record.init_start_time) {
        return Status::Stopped;
    }
    // Frozen wins over created, as in runc: a created container can be paused too.
    let frozen = crate::cgroups::driver(&record.cgroup)
        .and_then(|d| d.cgroup().is_frozen())
        .unwrap_or(false);
    if frozen {
        Status::Paused
    } else if crate::process::exec_fifo::awaits_start(fifo) {
        Status::Created
    } else {
        Status::Running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_after_tricky_comm() {
        let stat = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987654));
        let zombie = "42 (x) Z 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(zombie), None);
    }

    #[test]
    fn own_process_has_a_start_time() {
        assert!(pid_start_time(std::process::id() as i32).is_some());
    }
}
