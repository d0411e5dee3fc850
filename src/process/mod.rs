//! process: the container's processes, from fork to execve.
//!
//! Inputs: an [`InitConfig`] built by `container::create` (or `container::exec`). Outputs: the
//! host pid of the container's init, with the init blocked on the exec FIFO. `spawn.rs` runs in
//! the runtime parent; `init.rs` runs in the container's children: stage 1 joins and creates
//! namespaces and forks the init (so a new pid namespace applies to it), stage 2 (the init)
//! builds the rootfs, sets the process attributes and execs. Invariants: the parent is
//! single-threaded when it forks; every child step reports failure over the sync channel
//! before exiting, so the parent can name the failed stage.
use std::os::fd::RawFd;
use std::path::Path;

use oci_spec::runtime::Spec;

use crate::namespaces::NamespacePlan;

pub mod attrs;
pub mod exec_fifo;
pub mod exec_init;
mod fds;
mod init;
pub mod rlimits;
pub mod spawn;
pub mod sync;
mod user;

/// Everything the container's children need; they get it by fork, not by serialization.
pub struct InitConfig<'a> {
    pub id: &'a str,
    pub spec: &'a Spec,
    pub rootfs: &'a Path,
    /// Relative bind-mount sources resolve against the bundle (the init's cwd), as in runc.
    pub bundle: &'a Path,
    pub namespaces: &'a NamespacePlan,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    /// The exec FIFO, opened by the parent (see exec_fifo.rs for why the init does not open it).
    pub fifo: RawFd,
    /// The connected `--console-socket`, when process.terminal is set.
    pub console: Option<RawFd>,
    pub preserve_fds: u32,
    /// The container's cgroup v2 directory, when the driver prepared it for clone3; stage 1
    /// alone holds it (every other runtime fd is closed in the children, see fds.rs).
    pub cgroup_dir: Option<RawFd>,
    /// `linux.seccomp`, compiled by the parent; the init installs it.
    pub seccomp: Option<&'a crate::security::seccomp::Program>,
    /// Per spec mount, the bind source the parent opened as a detached tree (with a new user
    /// namespace); kept open through stage 1, closed by the init once mounted.
    pub bind_sources: Vec<Option<RawFd>>,
}
