//! The cgroupfs driver: the container's cgroup is a directory in every hierarchy, made, written
//! and removed by shoji itself. The systemd driver wraps it to write what systemd cannot express.
use std::io::ErrorKind;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;

use super::dirs::ContainerDirs;
use super::handle::{pids_in, CgroupHandle};
use super::ownership::{self, Owned};
use super::path::{self, SubCgroup};
use super::resources::{self, MemoryNow};
use super::resources_v2::{self, V2Now};
use super::CgroupLocation;
use super::{cpuset, create_v2, devices, devices_bpf, files, CgroupDriver, CgroupMode};

/// Waiting for killed processes to leave the cgroup, and for rmdir of a just-emptied cgroup
/// (the kernel can answer EBUSY for a moment after the last task exits).
const DRAIN_POLL: Duration = Duration::from_millis(10);
const DRAIN_TRIES: u32 = 500;

pub struct CgroupfsDriver {
    handle: CgroupHandle,
    /// `prepare` already made and configured the directories: `create` only joins.
    prepared: std::cell::Cell<bool>,
}

impl CgroupfsDriver {
    pub fn new(loc: CgroupLocation) -> Result<Self> {
        Ok(CgroupfsDriver {
            handle: CgroupHandle::new(loc)?,
            prepared: Default::default(),
        })
    }

    /// A driver on directories laid out by hand (tests of v2 paths on the hybrid host).
    #[cfg(test)]
    pub(super) fn with_handle(handle: CgroupHandle) -> Self {
        CgroupfsDriver {
            handle,
            prepared: Default::default(),
        }
    }

    fn dirs(&self) -> &ContainerDirs {
        self.handle.dirs()
    }

    /// Directories, device rules and limits: everything but placing a process.
    fn configure(&self, resources: Option<&LinuxResources>) -> Result<()> {
        self.make_dirs()
            .and_then(|()| self.apply_devices(resources))
            .and_then(|()| resources.map_or(Ok(()), |r| self.apply_resources(r)))
    }

    /// Write `r` to the container's files (v1 or v2 by the host's mode). Devices are not
    /// touched: they are set once at create.
    pub fn apply_resources(&self, r: &LinuxResources) -> Result<()> {
        let dirs = self.dirs();
        files::apply(&self.resource_writes(r)?, |c| {
            dirs.of(c).map(Path::to_path_buf)
        })?;
        match r.cpu().as_ref().and_then(|c| c.shares()) {
            Some(shares) if dirs.mode != CgroupMode::V2 && shares != 0 => self.check_shares(shares),
            _ => Ok(()),
        }
    }

    /// Write `r` back after a refused update, skipping what this kernel does not offer
    /// (see [`files::restore`]).
    pub fn restore_resources(&self, r: &LinuxResources) -> Result<()> {
        let dirs = self.dirs();
        files::restore(&self.resource_writes(r)?, |c| {
            dirs.of(c).map(Path::to_path_buf)
        })
    }

    fn resource_writes(&self, r: &LinuxResources) -> Result<Vec<files::Write>> {
        let dirs = self.dirs();
        Ok(match dirs.mode {
            CgroupMode::V2 => {
                let dir = dirs.require("unified")?;
                let now = V2Now {
                    controllers: files::read(&dir.join("cgroup.controllers"))?
                        .split_whitespace()
                        .map(String::from)
                        .collect(),
                    bfq: dir.join("io.bfq.weight").exists(),
                };
                resources_v2::v2_writes(r, &now)?
            }
            _ => resources::v1_writes(r, self.memory_now()?)?,
        })
    }

    /// The kernel clamps cpu.shares to [2, 262144] without an error; say so, as runc does.
    fn check_shares(&self, asked: u64) -> Result<()> {
        let Some(dir) = self.dirs().of("cpu") else {
            return Ok(());
        };
        let file = dir.join("cpu.shares");
        let got: u64 = files::read(&file)?.trim().parse().unwrap_or(asked);
        match got.cmp(&asked) {
            std::cmp::Ordering::Less => bail!("the maximum allowed cpu-shares is {got}"),
            std::cmp::Ordering::Greater => bail!("the minimum allowed cpu-shares is {got}"),
            std::cmp::Ordering::Equal => Ok(()),
        }
    }

    /// `r`, and when it changes the CPU period alone, the cgroup's current quota with it: runc's
    /// update always passes both, and a period alone must not lift the quota (v2's cpu.max
    /// takes them together; systemd's CPUQuotaPerSecUSec is a quota per period).
    pub fn keeping_cpu_quota(&self, r: &LinuxResources) -> Result<LinuxResources> {
        let mut r = r.clone();
        let Some(cpu) = r.cpu_mut().as_mut() else {
            return Ok(r);
        };
        if cpu.period().unwrap_or(0) == 0 || cpu.quota().unwrap_or(0) != 0 {
            return Ok(r);
        }
        let dirs = self.dirs();
        let dir = dirs.require("cpu")?;
        let (file, quota) = match dirs.mode {
            CgroupMode::V2 => ("cpu.max", files::read(&dir.join("cpu.max"))?),
            _ => (
                "cpu.cfs_quota_us",
                files::read(&dir.join("cpu.cfs_quota_us"))?,
            ),
        };
        let quota = match quota.split_whitespace().next() {
            Some("max") => -1,
            Some(n) => n
                .parse()
                .with_context(|| format!("reading {file}: {quota:?}"))?,
            None => bail!("reading {file}: empty"),
        };
        cpu.set_quota(Some(quota));
        Ok(r)
    }

    fn memory_now(&self) -> Result<MemoryNow> {
        let Some(dir) = self.dirs().of("memory") else {
            return Ok(MemoryNow::default());
        };
        let limit = files::read(&dir.join("memory.limit_in_bytes"))?;
        Ok(MemoryNow {
            limit: limit.trim().parse().unwrap_or(u64::MAX),
            swap_accounting: dir.join("memory.memsw.limit_in_bytes").exists(),
        })
    }

    /// What `claim` says, counting the processes in `procs` (a systemd unit's directory).
    pub fn claim_counting(&self, procs: Option<&Path>) -> Result<Owned> {
        ownership::claim(self.dirs(), procs)
    }

    /// Configure the directories and join `pid`, removing nothing on failure: for a cgroup
    /// another container already uses (a second container in an existing systemd scope).
    pub fn join_shared(&self, pid: Pid, resources: Option<&LinuxResources>) -> Result<()> {
        self.configure(resources)
            .and_then(|()| self.join_all(pid, None))
    }

    /// mkdir (cpuset values inherited) and join `pid` in every hierarchy, without resources:
    /// what the systemd driver calls for the v1 hierarchies systemd does not realize.
    pub fn place(&self, pid: Pid) -> Result<()> {
        self.make_dirs()?;
        self.join_all(pid, None)
    }

    /// mkdir -p in every hierarchy. On hybrid the cgroup2 membership is best effort, as runc:
    /// it only serves tools that key on v2 cgroup ids, never limits.
    fn make_dirs(&self) -> Result<()> {
        let dirs = self.dirs();
        if dirs.mode == CgroupMode::V2 {
            let dir = dirs.require("unified")?;
            let mount = &super::mode::mounts()?
                .unified
                .as_ref()
                .context("no cgroup2 mount")?
                .mount_point;
            return create_v2::create(mount, &dir);
        }
        for d in &dirs.v1 {
            if d.hierarchy.has("cpuset") {
                cpuset::create(&d.hierarchy.mount_point, &d.path)?;
            } else {
                files::mkdir_all(&d.path)?;
            }
        }
        if let Some(dir) = &dirs.unified {
            let _ = files::mkdir_all(dir);
        }
        Ok(())
    }

    /// The device policy: v1 devices.deny/allow, or the v2 eBPF program.
    fn apply_devices(&self, r: Option<&LinuxResources>) -> Result<()> {
        let dirs = self.dirs();
        if dirs.mode == CgroupMode::V2 {
            let spec_rules = r.and_then(|r| r.devices().clone()).unwrap_or_default();
            let rules = devices::effective_rules(&spec_rules);
            return devices_bpf::apply(&dirs.require("unified")?, &rules);
        }
        files::apply(&resources::devices_v1(r), |c| {
            dirs.of(c).map(Path::to_path_buf)
        })
    }

    /// Write `pid` into cgroup.procs of every directory, or of `sub` below it in the
    /// hierarchies `sub` names (an exec's `--cgroup`).
    fn join_all(&self, pid: Pid, sub: Option<&SubCgroup>) -> Result<()> {
        let dirs = self.dirs();
        let value = pid.to_string();
        for d in &dirs.v1 {
            let dir = match sub.filter(|s| s.applies_to(&d.hierarchy.controllers)) {
                Some(s) if d.hierarchy.has("cpuset") => {
                    let dir = d.path.join(&s.path);
                    cpuset::create(&d.hierarchy.mount_point, &dir)?;
                    dir
                }
                Some(s) => {
                    files::mkdir_all(&d.path.join(&s.path))?;
                    d.path.join(&s.path)
                }
                None => d.path.clone(),
            };
            let joined = files::write(&dir.join("cgroup.procs"), &value);
            // name=systemd carries no limits; runc ignores failures to join it.
            if !d.hierarchy.has("name=systemd") {
                joined?;
            }
        }
        let Some(unified) = dirs.unified.as_deref() else {
            return Ok(());
        };
        let dir = match sub.filter(|s| s.applies_to(&[])) {
            Some(s) => unified.join(&s.path),
            None => unified.to_path_buf(),
        };
        let joined =
            files::mkdir_all(&dir).and_then(|()| files::write(&dir.join("cgroup.procs"), &value));
        // On hybrid the cgroup2 membership is best effort (see make_dirs).
        if dirs.mode == CgroupMode::V2 {
            joined?;
        }
        Ok(())
    }

    /// Kill what is left in the owned directories and wait, boundedly, until none lists a
    /// process. A directory this container did not make may hold other processes: never
    /// signalled here (the caller kills the container's own ones).
    fn drain(&self, owned: &Owned) -> Result<()> {
        let dirs = || self.dirs().all().filter(|d| owned.owns(d) && d.is_dir());
        // An exited container (the common delete) has nothing to freeze and signal.
        if owned.whole_cgroup(self.dirs())
            && self.handle.exists()
            && !self.handle.pids()?.is_empty()
        {
            // If this fails (a freezer that will not settle), the direct kills below still run
            // and the bounded wait reports what is left.
            let _ = self.handle.kill_all(Signal::SIGKILL);
        }
        for _ in 0..DRAIN_TRIES {
            let mut left = Vec::new();
            for dir in dirs() {
                left.extend(pids_in(dir)?);
            }
            if left.is_empty() {
                return Ok(());
            }
            // A process that joined one hierarchy only (a create that failed half way) is
            // not in the freezer's list: kill it directly.
            for pid in left {
                let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
            }
            sleep(DRAIN_POLL);
        }
        bail!(
            "processes are still in cgroup {:?} after SIGKILL",
            self.handle.location.path
        )
    }
}

/// Errors name the file and the value the kernel refused; the caller adds runc's stage phrase
/// (`unable to apply cgroup configuration` for create and update).
impl CgroupDriver for CgroupfsDriver {
    fn create(&self, pid: Pid, resources: Option<&LinuxResources>) -> Result<()> {
        let configured = match self.prepared.get() {
            true => Ok(()),
            false => self.configure(resources),
        };
        let result = match configured.and_then(|()| self.join_all(pid, None)) {
            // A directory made by `prepare` can vanish before the join (seen under a systemd
            // tidying cgroups it does not own): make and configure it again, once.
            Err(_) if self.dirs().all().any(|d| !d.is_dir()) => self
                .configure(resources)
                .and_then(|()| self.join_all(pid, None)),
            other => other,
        };
        // On error the caller's guard kills the child and destroys what it claimed.
        result
    }

    fn claim(&self) -> Result<Owned> {
        ownership::claim(self.dirs(), self.dirs().procs_dir())
    }

    fn prepare(&self, resources: Option<&LinuxResources>) -> Result<Option<OwnedFd>> {
        let result = self.configure(resources).and_then(|()| {
            // On v1 (and hybrid) every hierarchy needs a cgroup.procs write anyway.
            if self.dirs().mode != CgroupMode::V2 {
                return Ok(None);
            }
            let dir = self.dirs().require("unified")?;
            let opened =
                std::fs::File::open(&dir).with_context(|| format!("opening cgroup {dir:?}"));
            opened.map(|f| Some(OwnedFd::from(f)))
        });
        // On error the caller's guard destroys what it claimed.
        if result.is_ok() {
            self.prepared.set(true);
        }
        result
    }

    fn join(&self, pid: Pid, sub_cgroup: Option<&str>) -> Result<()> {
        let sub = sub_cgroup.map(path::parse_sub_cgroup).transpose()?;
        if let Some(s) = sub.as_ref().filter(|s| s.controllers.is_some()) {
            if self.dirs().mode == CgroupMode::V2 {
                bail!(
                    "sub-cgroup {:?}: naming controllers is for cgroup v1 only",
                    s.path
                );
            }
        }
        self.join_all(pid, sub.as_ref())
    }

    fn update(&self, resources: &LinuxResources) -> Result<()> {
        if !self.handle.exists() {
            bail!("cgroup {:?} does not exist", self.handle.location.path);
        }
        self.apply_resources(&self.keeping_cpu_quota(resources)?)
    }

    fn restore(&self, resources: &LinuxResources) -> Result<()> {
        self.restore_resources(resources)
    }

    fn destroy(&self, owned: &Owned) -> Result<()> {
        // The usual delete: the container's processes are gone and it made no sub-cgroups, so
        // each directory goes with one rmdir (the kernel refuses, EBUSY, while one holds a
        // process or a sub-cgroup). Listing the processes and entries of every hierarchy first
        // cost ~100 syscalls per delete on v1; only directories that refused are drained.
        if remove_each(self.dirs().all().filter(|d| owned.owns(d)))? {
            return Ok(());
        }
        self.drain(owned)?;
        for dir in self.dirs().all().filter(|d| owned.owns(d)) {
            remove_tree(dir)?;
        }
        Ok(())
    }

    fn cgroup(&self) -> &CgroupHandle {
        &self.handle
    }
}

/// One rmdir each; true when every directory is gone (or was absent), false when one was busy.
fn remove_each<'a>(dirs: impl Iterator<Item = &'a Path>) -> Result<bool> {
    let mut all_gone = true;
    for dir in dirs {
        match std::fs::remove_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::ENOTEMPTY)) => {
                all_gone = false
            }
            Err(e) => bail!("removing cgroup {dir:?}: {}", files::errno_text(&e)),
        }
    }
    Ok(all_gone)
}

/// rmdir `dir` and any sub-cgroups below it, deepest first; an absent `dir` is fine. Only the
/// container's own directory goes: parents, even ones this container's create made, may be
/// shared (runc removes the leaf only too).
fn remove_tree(dir: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        other => other.map_err(|e| anyhow!("reading cgroup {dir:?}: {}", files::errno_text(&e)))?,
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    for _ in 0..DRAIN_TRIES {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => sleep(DRAIN_POLL),
            Err(e) => bail!("removing cgroup {dir:?}: {}", files::errno_text(&e)),
        }
    }
    bail!("removing cgroup {dir:?}: still busy")
}
