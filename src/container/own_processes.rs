//! The container's own processes, for `kill --all` and `delete --force`. In a cgroup the
//! container made, that is every process there (cgroup.kill on v2, the freezer on v1). In a
//! cgroup it only joined (an existing one named by its cgroupsPath, with other processes in
//! it) a cgroup-wide kill would hit processes it never started; there its own are the ones in
//! its init's pid namespace when it has its own, else the init and its descendants.
use std::thread::sleep;
use std::time::Duration;

use anyhow::Result;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cgroups;
use crate::state::{pid_start_time, Record};

/// Rounds of "find and SIGKILL" in a shared cgroup: a process forked while we looked is found
/// on the next round.
const KILL_ROUNDS: u32 = 50;
const ROUND_PAUSE: Duration = Duration::from_millis(10);

pub fn signal_all(record: &Record, signal: impl Into<Option<Signal>>) -> Result<()> {
    let signal = signal.into();
    let driver = cgroups::driver(&record.cgroup)?;
    let handle = driver.cgroup();
    if !handle.exists() {
        tracing::debug!("the cgroup is gone, nothing to signal");
        return Ok(());
    }
    if record
        .owned_cgroup(handle.dirs())
        .whole_cgroup(handle.dirs())
    {
        return handle.kill_all(signal);
    }
    tracing::debug!("the cgroup is shared: signalling the container's own processes only");
    let killing = signal == Some(Signal::SIGKILL);
    for _ in 0..if killing { KILL_ROUNDS } else { 1 } {
        let Some(init) = live_init(record) else {
            return Ok(());
        };
        let own = handle
            .pids()?
            .into_iter()
            .filter(|&p| p != init && is_own(p, init));
        for pid in own.chain([init]) {
            let _ = kill(pid, signal);
        }
        if killing {
            sleep(ROUND_PAUSE);
        }
    }
    Ok(())
}

/// The init, if it still runs (same pid and start time as recorded).
pub fn live_init(record: &Record) -> Option<Pid> {
    let alive = record.init_pid > 0
        && pid_start_time(record.init_pid) == Some(record.init_start_time)
        && record.init_start_time != 0;
    alive.then(|| Pid::from_raw(record.init_pid))
}

/// `pid` shares the init's own pid namespace, or (a container in the host's pid namespace)
/// descends from the init.
fn is_own(pid: Pid, init: Pid) -> bool {
    let init_ns = pid_ns(init);
    if init_ns.is_some() && init_ns != pid_ns(Pid::this()) {
        return pid_ns(pid) == init_ns;
    }
    descends_from(pid, init)
}

fn pid_ns(pid: Pid) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok()
}

fn descends_from(pid: Pid, ancestor: Pid) -> bool {
    let mut current = pid;
    // Bounded: a pid chain is never deeper than the pid space, and a cycle cannot exist.
    for _ in 0..4096 {
        match parent_of(current) {
            Some(p) if p == ancestor => return true,
            Some(p) if p.as_raw() > 1 => current = p,
            _ => return false,
        }
    }
    false
}

/// Field 4 of /proc/PID/stat (counted after the last ')', as the comm may hold anything).
fn parent_of(pid: Pid) -> Option<Pid> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok().map(Pid::from_raw)
}
