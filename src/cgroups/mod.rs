//! cgroups: where a container's cgroup lives and how it is made, changed and removed.
//!
//! Inputs: the validated spec's `cgroupsPath` and `linux.resources`, the container id, and the
//! `--systemd-cgroup` flag. Output: a [`CgroupLocation`] (saved in state.json) and a driver built
//! from it. Runs in the runtime parent only. Invariants: `plan` is the only place a driver is
//! chosen; every later command rebuilds the driver from the saved location, never from flags;
//! the host's layout (`mode`) is read once per command; a systemd-format path never reaches the
//! file system as a directory name (the cgroupfs driver places it where systemd would); every
//! `libcgroups::` import stays inside this module.
//!
//! Files: `mode` (v1 / v2 / hybrid mounts), `path` (pure cgroupsPath resolution), `dirs` (a
//! container's directory per hierarchy), `cgroupfs` (the file driver; the systemd driver wraps
//! it), `create_v2` and `cpuset` (directory creation quirks), `resources` / `resources_v2` /
//! `devices` (spec → files, pure), `files` (writes with runc's error wording), `ownership` (what a
//! create made, decided before it makes anything), `handle`
//! (freeze, pids, kill, stats on an existing cgroup), `events` (runc's JSON shape) and
//! `stats` / `stats_v2` (reading it), `devices_bpf` (the v2 device filter seam), `identity` (the cgroup2 id eBPF tools see).
use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use anyhow::{Context, Result};
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxResources, Spec};
use serde::{Deserialize, Serialize};

pub use ownership::Owned;

/// Which backend created (and therefore owns) a container's cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriverKind {
    Cgroupfs,
    Systemd,
}

/// The host's cgroup layout, detected once per command from the mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupMode {
    V1,
    V2,
    Hybrid,
}

/// Everything later commands need to find a container's cgroup again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupLocation {
    pub driver: DriverKind,
    pub mode: CgroupMode,
    /// Absolute path below each hierarchy's mount point, e.g. `/kubepods/besteffort/pod1/c1`
    /// or `/kubepods.slice/kubepods-besteffort.slice/.../cri-containerd-345def.scope`.
    pub path: PathBuf,
    /// systemd only: the unit name, e.g. `cri-containerd-345def.scope`.
    pub unit: Option<String>,
    /// systemd only: the parent slice, e.g. `kubepods-besteffort-pod012abc.slice`.
    pub slice: Option<String>,
    /// Hierarchies (keyed as in /proc/PID/cgroup: `memory`, `cpu,cpuacct`, `name=systemd`,
    /// `unified`) where the path differs from `path`. A relative cgroupsPath is resolved at
    /// create under the runtime's own cgroup, which can differ per hierarchy (on this host the
    /// memory one is `/process_api/<id>`), and is saved resolved so later commands, run from
    /// other cgroups, find the same directories.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hierarchy_paths: BTreeMap<String, PathBuf>,
}

/// What differs per backend. Object-safe; one error type.
pub trait CgroupDriver {
    /// Before anything is made: what create will make (and delete may remove). Refuses a
    /// frozen cgroup, warns about one that already holds processes (see `ownership`).
    fn claim(&self) -> Result<Owned>;
    /// Make the cgroup (mkdir, or a transient unit), move `pid` into it, apply `resources`.
    fn create(&self, pid: Pid, resources: Option<&LinuxResources>) -> Result<()>;
    /// Make and configure the cgroup ahead of `create` (which then only places the process),
    /// so this work can overlap the init's namespace setup. Where the kernel can start a process
    /// directly inside a cgroup (cgroup v2: clone3 with CLONE_INTO_CGROUP) it returns the
    /// directory, and the init is born there and never migrated. A driver that needs the pid
    /// to make anything (systemd) does nothing here.
    fn prepare(&self, _resources: Option<&LinuxResources>) -> Result<Option<OwnedFd>> {
        Ok(None)
    }
    /// Open what `create` talks to (the systemd driver's connection to systemd), called right
    /// after the clone so it overlaps the init's namespace setup; never before the clone, as a
    /// connection may start threads and a fork must not inherit them.
    fn connect(&self) -> Result<()> {
        Ok(())
    }
    /// Move `pid` (an exec'd process) into the container's cgroup or a sub-cgroup of it.
    fn join(&self, pid: Pid, sub_cgroup: Option<&str>) -> Result<()>;
    /// Change the limits of a running container.
    fn update(&self, resources: &LinuxResources) -> Result<()>;
    /// Write back earlier values after a refused `update`: a setting this kernel does not
    /// offer is skipped (nothing was written there), so only what may have landed is undone.
    fn restore(&self, resources: &LinuxResources) -> Result<()>;
    /// Kill what is left in the directories `owned` names and remove them (and stop the unit
    /// if it is owned); nothing else is touched. Idempotent.
    fn destroy(&self, owned: &Owned) -> Result<()>;
    /// Path-based operations shared by both drivers.
    fn cgroup(&self) -> &handle::CgroupHandle;
}

/// Decide where the container's cgroup goes and which driver owns it; creates nothing.
pub fn plan(spec: &Spec, id: &str, systemd: bool) -> Result<CgroupLocation> {
    let raw = spec
        .linux()
        .as_ref()
        .and_then(|l| l.cgroups_path().as_ref());
    let cgroups_path = match raw {
        Some(p) => Some(
            p.to_str()
                .with_context(|| format!("cgroupsPath {p:?} is not UTF-8"))?,
        ),
        None => None,
    };
    let mounts = mode::mounts()?;
    if systemd {
        return systemd_location(cgroups_path, id, mounts.mode);
    }
    let own = path::parse_proc_cgroup(&files::read("/proc/self/cgroup".as_ref())?);
    let location = cgroupfs_location(cgroups_path, id, mounts, &own)?;
    if let Some(raw) = cgroups_path.filter(|p| path::looks_like_systemd(p)) {
        tracing::warn!(
            "cgroupsPath {raw:?} is in the systemd driver's slice:prefix:name format, but the \
             cgroupfs driver is in use: placing the container at {:?}, where systemd would; \
             for systemd to manage it, use --systemd-cgroup (containerd: SystemdCgroup = true)",
            location.path
        );
    }
    Ok(location)
}

/// The cgroupfs location of `cgroups_path` on a host with `mounts`, for a runtime whose own
/// cgroups are `own` (pure).
pub fn cgroupfs_location(
    cgroups_path: Option<&str>,
    id: &str,
    mounts: &mode::Mounts,
    own: &[path::ProcCgroup],
) -> Result<CgroupLocation> {
    let requested = path::requested(cgroups_path, id)?;
    let mut resolved = mounts.all().map(|h| {
        (
            h.key(),
            path::below_mount(&requested, h, path::own_cgroup(h, own)),
        )
    });
    let (_, primary) = resolved.next().context("no cgroup hierarchy is mounted")?;
    let hierarchy_paths = resolved.filter(|(_, p)| *p != primary).collect();
    Ok(CgroupLocation {
        driver: DriverKind::Cgroupfs,
        mode: mounts.mode,
        path: primary,
        unit: None,
        slice: None,
        hierarchy_paths,
    })
}

/// Rebuild the driver that created the container from its saved location.
pub fn driver(loc: &CgroupLocation) -> Result<Box<dyn CgroupDriver>> {
    match loc.driver {
        DriverKind::Cgroupfs => Ok(Box::new(cgroupfs::CgroupfsDriver::new(loc.clone())?)),
        DriverKind::Systemd => systemd_driver(loc),
    }
}

#[cfg(feature = "systemd")]
fn systemd_location(path: Option<&str>, id: &str, mode: CgroupMode) -> Result<CgroupLocation> {
    crate::systemd::location(path, id, mode)
}

#[cfg(feature = "systemd")]
fn systemd_driver(loc: &CgroupLocation) -> Result<Box<dyn CgroupDriver>> {
    Ok(Box::new(crate::systemd::SystemdDriver::new(loc.clone())?))
}

/// Built without the `systemd` cargo feature: the driver does not exist in this binary.
#[cfg(not(feature = "systemd"))]
const NO_SYSTEMD: &str =
    "systemd cgroup driver is not built in (shoji was built without the \"systemd\" feature)";

#[cfg(not(feature = "systemd"))]
fn systemd_location(_: Option<&str>, _: &str, _: CgroupMode) -> Result<CgroupLocation> {
    anyhow::bail!(NO_SYSTEMD)
}

#[cfg(not(feature = "systemd"))]
fn systemd_driver(_: &CgroupLocation) -> Result<Box<dyn CgroupDriver>> {
    anyhow::bail!(NO_SYSTEMD)
}

pub mod cgroupfs;
mod cpuset;
mod create_v2;
pub mod devices;
pub mod devices_bpf;
pub mod dirs;
pub mod events;
pub mod files;
pub mod handle;
pub mod identity;
pub mod mode;
pub mod ownership;
pub mod path;
pub mod resources;
pub mod resources_v2;
mod stats;
mod stats_v2;
pub mod warmup;

#[cfg(test)]
mod real_tests;
#[cfg(test)]
mod tests;
