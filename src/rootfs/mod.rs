//! rootfs: the container's filesystem view, built in the container child.
//!
//! Inputs: the spec's `root`, `mounts`, `linux.{devices, maskedPaths, readonlyPaths,
//! rootfsPropagation}`. Runs in the container child, after it has its own mount namespace and
//! before it execs. Invariants: nothing here touches the host's mount table (the child's
//! namespace is made private first); every error names the mount source and destination.
use std::path::Path;

use anyhow::Result;
use oci_spec::runtime::Spec;

/// What the child knows when it builds the rootfs.
pub struct RootfsConfig<'a> {
    pub spec: &'a Spec,
    /// Absolute host path of `root.path` (already resolved against the bundle).
    pub rootfs: &'a Path,
    /// `--no-pivot`: move the rootfs onto / and chroot instead of pivot_root.
    pub no_pivot: bool,
    /// The container has a new user namespace: device nodes are bind-mounted, not mknod'ed.
    pub user_ns: bool,
    /// The container has a new cgroup namespace (affects how `cgroup` mounts are made).
    pub cgroup_ns: bool,
}

/// Propagation, rootfs bind, every spec mount, devices and /dev links; stops before pivot.
pub fn prepare(_cfg: &RootfsConfig) -> Result<()> {
    anyhow::bail!("rootfs::prepare is being written")
}

/// pivot_root into the rootfs (or move + chroot with `--no-pivot`), ending at cwd `/`.
pub fn enter(_cfg: &RootfsConfig) -> Result<()> {
    anyhow::bail!("rootfs::enter is being written")
}

/// After pivot: maskedPaths, readonlyPaths, a read-only root.
pub fn finalize(_cfg: &RootfsConfig) -> Result<()> {
    anyhow::bail!("rootfs::finalize is being written")
}
