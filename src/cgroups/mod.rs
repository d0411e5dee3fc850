//! cgroups: where a container's cgroup lives and how it is made, changed and removed.
//!
//! Inputs: the validated spec's `cgroupsPath` and `linux.resources`, the container id, and the
//! `--systemd-cgroup` flag. Output: a [`CgroupLocation`] (saved in state.json) and a driver built
//! from it. Runs in the runtime parent only. Invariants: `plan` is the only place a driver is
//! chosen; every later command rebuilds the driver from the saved location, never from flags;
//! every `libcgroups::` import stays inside this module.
use std::path::PathBuf;

use anyhow::Result;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;
use serde::{Deserialize, Serialize};

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
}

/// What differs per backend. Object-safe; one error type.
pub trait CgroupDriver {
    /// Make the cgroup (mkdir, or a transient unit), move `pid` into it, apply `resources`.
    fn create(&self, pid: Pid, resources: Option<&LinuxResources>) -> Result<()>;
    /// Move `pid` (an exec'd process) into the container's cgroup or a sub-cgroup of it.
    fn join(&self, pid: Pid, sub_cgroup: Option<&str>) -> Result<()>;
    /// Change the limits of a running container.
    fn update(&self, resources: &LinuxResources) -> Result<()>;
    /// Kill leftovers and remove the cgroup (or stop the unit). Idempotent.
    fn destroy(&self) -> Result<()>;
    /// Path-based operations shared by both drivers.
    fn cgroup(&self) -> &handle::CgroupHandle;
}

pub mod handle;
