//! Path-based operations on an existing container cgroup, shared by both drivers: freeze and
//! thaw, pids, kill_all, stats, the OOM-kill count, exists. Everything works from the saved
//! location, so `pause`, `ps`, `kill --all` and `events` never need the driver's backend.
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::dirs::ContainerDirs;
use super::events::Stats;
use super::{files, mode, stats, CgroupLocation, CgroupMode};

/// How often and how long to re-read a freezer state that the kernel is still settling.
const SETTLE_POLL: Duration = Duration::from_millis(1);
const SETTLE_TRIES: u32 = 5000;

/// A container cgroup found by its location; freeze/thaw, pids, kill_all, stats, exists.
pub struct CgroupHandle {
    pub location: CgroupLocation,
    dirs: ContainerDirs,
}

impl CgroupHandle {
    /// The container's directories under this host's mounts (detected once per command).
    pub fn new(location: CgroupLocation) -> Result<Self> {
        let dirs = ContainerDirs::new(&location, mode::mounts()?);
        Ok(CgroupHandle { location, dirs })
    }

    /// A handle on directories laid out by hand (tests of v2 paths on the hybrid host).
    #[cfg(test)]
    pub(super) fn with_dirs(location: CgroupLocation, dirs: ContainerDirs) -> Self {
        CgroupHandle { location, dirs }
    }

    pub fn dirs(&self) -> &ContainerDirs {
        &self.dirs
    }

    /// The container's cgroup is there (its process directory exists).
    pub fn exists(&self) -> bool {
        self.dirs.procs_dir().is_some_and(Path::is_dir)
    }

    /// Every pid in the container's cgroup and its sub-cgroups, sorted.
    pub fn pids(&self) -> Result<Vec<Pid>> {
        let dir = self
            .dirs
            .procs_dir()
            .context("no cgroup hierarchy is mounted")?;
        pids_in(dir)
    }

    pub fn freeze(&self) -> Result<()> {
        self.set_frozen(true).context("unable to freeze container")
    }

    pub fn thaw(&self) -> Result<()> {
        self.set_frozen(false).context("unable to thaw container")
    }

    /// The container is `paused`: v1 freezer.state FROZEN, v2 cgroup.freeze 1.
    pub fn is_frozen(&self) -> Result<bool> {
        if self.dirs.mode == CgroupMode::V2 {
            let dir = self.dirs.require("freezer")?;
            return Ok(files::read(&dir.join("cgroup.freeze"))?.trim() == "1");
        }
        let dir = self.dirs.require("freezer")?;
        Ok(files::read(&dir.join("freezer.state"))?.trim() == "FROZEN")
    }

    fn set_frozen(&self, frozen: bool) -> Result<()> {
        let dir = self.dirs.require("freezer")?;
        if self.dirs.mode == CgroupMode::V2 {
            let (value, want) = if frozen {
                ("1", "frozen 1")
            } else {
                ("0", "frozen 0")
            };
            files::write(&dir.join("cgroup.freeze"), value)?;
            return settle(&dir.join("cgroup.events"), |text| {
                text.lines().any(|l| l == want)
            });
        }
        let want = if frozen { "FROZEN" } else { "THAWED" };
        let state = dir.join("freezer.state");
        files::write(&state, want)?;
        // FREEZING lasts until every task has stopped; a task stuck in the kernel can keep it
        // there, in which case the freeze is undone rather than left half done.
        let settled = settle(&state, |text| text.trim() == want);
        if settled.is_err() && frozen {
            let _ = files::write(&state, "THAWED");
        }
        settled
    }

    /// Send `signal` to every process of the container. On v2, SIGKILL goes through
    /// cgroup.kill (atomic, no pid races). Otherwise the cgroup is frozen while the pids are
    /// read and signalled so none can fork away in between (as runc), then thawed unless it
    /// was paused before (SIGKILL always thaws: a frozen task cannot die).
    ///
    /// `None` is signal 0, a liveness check: nothing is sent, so nothing is frozen either.
    pub fn kill_all(&self, signal: impl Into<Option<Signal>>) -> Result<()> {
        let sent = match signal.into() {
            Some(signal) => self.signal_all(signal),
            None => self.pids().and_then(|pids| signal_each(&pids, None)),
        };
        // The cgroup can vanish under us (systemd removes a scope's cgroup as its last process
        // exits): with no cgroup left there is no process left to signal.
        if sent.is_err() && !self.exists() {
            return Ok(());
        }
        sent
    }

    fn signal_all(&self, signal: Signal) -> Result<()> {
        if let Some(dir) = self.dirs.unified.as_deref() {
            let kill_file = dir.join("cgroup.kill");
            if self.dirs.mode == CgroupMode::V2 && signal == Signal::SIGKILL && kill_file.exists() {
                return match files::write_file(&kill_file, "1") {
                    // A cgroup the kernel is removing still shows its directory but refuses
                    // its files: systemd removes an empty scope's cgroup on its own, and a
                    // delete's kill raced with it once in 60 runs of the v2 VM bench. A cgroup
                    // being removed holds no process.
                    Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
                    Err(e) => Err(files::write_error(&kill_file, "1", &e)),
                    Ok(()) => Ok(()),
                };
            }
        }
        // An empty cgroup (the usual one at delete: the init exited) has no process that could
        // fork while we signal: freezing it (a write and a poll, then a thaw) buys nothing.
        if self.pids()?.is_empty() {
            return Ok(());
        }
        let can_freeze = self.dirs.of("freezer").is_some();
        let was_frozen = can_freeze && self.is_frozen()?;
        // A freeze that will not settle is undone by set_frozen; signalling then goes ahead
        // without it (as runc), racing only with forks.
        let froze = can_freeze && !was_frozen && self.freeze().is_ok();
        let sent = self
            .pids()
            .and_then(|pids| signal_each(&pids, Some(signal)));
        if froze || (was_frozen && signal == Signal::SIGKILL) {
            self.thaw()?;
        }
        sent
    }

    /// The container's resource usage in the shape of runc's `events --stats`.
    pub fn stats(&self) -> Result<Stats> {
        stats::read(&self.dirs)
    }

    /// How many times the kernel's OOM killer killed a process in the container.
    pub fn oom_kill_count(&self) -> Result<u64> {
        let file = match self.dirs.mode {
            CgroupMode::V2 => self.dirs.require("memory")?.join("memory.events"),
            _ => self.dirs.require("memory")?.join("memory.oom_control"),
        };
        let text = files::read(&file)?;
        let count = text.lines().find_map(|l| l.strip_prefix("oom_kill "));
        match count {
            Some(n) => n
                .trim()
                .parse()
                .map_err(|_| anyhow!("parsing {file:?}: bad oom_kill {n:?}")),
            None => bail!("{file:?} has no oom_kill count"),
        }
    }
}

/// Every pid in `dir` and below (libcgroups walks the tree), sorted and unique.
pub fn pids_in(dir: &Path) -> Result<Vec<Pid>> {
    let mut pids = Vec::new();
    collect_pids(dir, &mut pids)?;
    pids.sort();
    pids.dedup();
    Ok(pids)
}

/// libcgroups' `get_all_pids` stats every file of every cgroup to find sub-cgroups; the
/// directory entries' own type says it without a syscall each (this runs on every delete).
fn collect_pids(dir: &Path, pids: &mut Vec<Pid>) -> Result<()> {
    let procs = dir.join("cgroup.procs");
    let text = match std::fs::read_to_string(&procs) {
        Ok(t) => t,
        // Removed while we look (systemd drops an exited scope's cgroup): no processes.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(_) => files::read(&procs)?,
    };
    pids.extend(
        text.lines()
            .filter_map(|l| l.trim().parse().ok())
            .map(Pid::from_raw),
    );
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => bail!("reading the processes of cgroup {dir:?}: {e}"),
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_pids(&entry.path(), pids)?;
        }
    }
    Ok(())
}

fn signal_each(pids: &[Pid], signal: Option<Signal>) -> Result<()> {
    for &pid in pids {
        match kill(pid, signal) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => bail!(
                "sending {} to pid {pid}: {}",
                signal.map_or("signal 0", Signal::as_str),
                e.desc().to_lowercase()
            ),
        }
    }
    Ok(())
}

/// Re-read `file` until `done` holds, for a bounded time.
fn settle(file: &Path, done: impl Fn(&str) -> bool) -> Result<()> {
    for _ in 0..SETTLE_TRIES {
        if done(&files::read(file)?) {
            return Ok(());
        }
        sleep(SETTLE_POLL);
    }
    bail!(
        "{file:?} did not settle: it reads {:?}",
        files::read(file)?.trim()
    )
}
