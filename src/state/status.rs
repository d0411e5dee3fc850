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

/// Field 22 (starttime) of /proc/PID/stat, or None if the process is gone, a zombie, exiting,
/// or has a SIGKILL pending. An init that was killed runs on for a while before it is a
/// zombie — until the scheduler delivers the signal, then (a pid namespace's init) while its
/// namespace empties: it is stopped all the same, so `delete` right after `kill` never sees it
/// "running".
pub fn pid_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let start = parse_start_time(&stat)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    (!sigkill_pending(&status)).then_some(start)
}

/// SIGKILL in the thread's or the process's pending set (/proc/PID/status `SigPnd`, `ShdPnd`):
/// it cannot be blocked, ignored or handled, so the process is as good as gone.
fn sigkill_pending(status: &str) -> bool {
    const SIGKILL_BIT: u64 = 1 << (libc::SIGKILL - 1);
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("SigPnd:")
                .or_else(|| l.strip_prefix("ShdPnd:"))
        })
        .filter_map(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .any(|mask| mask & SIGKILL_BIT != 0)
}

/// The comm field may hold spaces and parentheses: fields are counted after the last ')'.
fn parse_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 2..];
    // `rest` starts at field 3 (state); flags is field 9, starttime field 22.
    let fields: Vec<&str> = rest.split(' ').collect();
    let field = |n: usize| fields.get(n - 3).copied();
    if matches!(field(3)?, "Z" | "X" | "x") {
        return None;
    }
    let flags: u64 = field(9)?.parse().ok()?;
    if flags & PF_EXITING != 0 {
        return None;
    }
    field(22)?.parse().ok()
}

/// The kernel's task flag set once a process has begun to exit (include/linux/sched.h).
const PF_EXITING: u64 = 0x4;

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
        let exiting = "42 (x) R 1 42 42 0 -1 4194564 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(exiting), None);
    }

    #[test]
    fn a_pending_sigkill_counts_as_gone() {
        let pending = "Name:\tsleep\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000100\n";
        assert!(sigkill_pending(pending));
        let term = "SigPnd:\t0000000000004000\nShdPnd:\t0000000000000000\n";
        assert!(!sigkill_pending(term));
    }

    #[test]
    fn own_process_has_a_start_time() {
        assert!(pid_start_time(std::process::id() as i32).is_some());
    }
}
