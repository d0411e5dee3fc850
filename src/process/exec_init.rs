//! The processes of `exec`: stage 1 joins the running container's namespaces (user first) and
//! forks stage 2, which takes the process attributes and execs. No exec FIFO: the parent learns
//! of success when the sync socket closes on execve (it is close-on-exec), of failure from an
//! Error message.
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

use anyhow::{Context, Result};
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{fork, ForkResult};
use oci_spec::runtime::{LinuxNamespaceType, Process};

use super::attrs;
use super::spawn::Spawned;
use super::sync::{Channel, Msg};
use crate::namespaces::{self, NamespacePlan};

pub struct ExecConfig<'a> {
    pub process: &'a Process,
    /// The container's init: its /proc/PID/ns/* links are the namespaces to join.
    pub init_pid: i32,
    pub console: Option<RawFd>,
    pub preserve_fds: u32,
    /// The container's seccomp profile, compiled by the parent.
    pub seccomp: Option<&'a crate::security::seccomp::Program>,
}

/// The kinds to join, in setns order; those equal to ours are skipped (nothing to enter).
const KINDS: [(LinuxNamespaceType, &str); 8] = [
    (LinuxNamespaceType::User, "user"),
    (LinuxNamespaceType::Cgroup, "cgroup"),
    (LinuxNamespaceType::Ipc, "ipc"),
    (LinuxNamespaceType::Uts, "uts"),
    (LinuxNamespaceType::Network, "net"),
    (LinuxNamespaceType::Pid, "pid"),
    (LinuxNamespaceType::Time, "time"),
    (LinuxNamespaceType::Mount, "mnt"),
];

/// The container's namespaces as a join plan, read from the init's /proc entries.
pub fn container_namespaces(init_pid: i32) -> Result<NamespacePlan> {
    let mut plan = NamespacePlan::default();
    for (t, name) in KINDS {
        let theirs = PathBuf::from(format!("/proc/{init_pid}/ns/{name}"));
        let Ok(link) = std::fs::read_link(&theirs) else {
            continue; // a kind this kernel lacks
        };
        let ours = std::fs::read_link(format!("/proc/self/ns/{name}")).ok();
        if ours.as_ref() != Some(&link) {
            plan.join.push((t, theirs));
        }
    }
    Ok(plan)
}

pub fn spawn_exec(cfg: &ExecConfig, plan: &NamespacePlan) -> Result<Spawned> {
    super::spawn::spawn(|chan| stage1(cfg, plan, chan))
}

fn stage1(cfg: &ExecConfig, plan: &NamespacePlan, chan: &Channel) -> Result<()> {
    // Before joining anything: only the fds this child needs stay open (fds.rs).
    let keep: Vec<_> = [Some(chan.raw_fd()), cfg.console]
        .into_iter()
        .flatten()
        .collect();
    super::fds::close_runtime_fds(&keep, cfg.preserve_fds)?;
    // Non-dumpable before the first setns, so no process of the container without
    // CAP_SYS_PTRACE can ptrace us or open our /proc links from the moment we are visible to
    // it (our exe is a read-only copy anyway: exe_seal); stage 2 inherits the flag and its
    // execve resets it.
    super::init::hide_runtime_binary()?;
    // The container's root, opened while /proc is still the host's (before any setns).
    let root = open_container_root(cfg.init_pid)?;
    // The parent moves us into the container's cgroup first: stage 2 is born there.
    chan.expect(&Msg::Go)?;
    namespaces::join_all(plan)?;
    enter_container_root(root)?;
    // SAFETY: single-threaded child.
    match unsafe { fork() }.context("forking exec process")? {
        ForkResult::Parent { child } => chan.send(&Msg::InitPid(child.as_raw(), false)),
        ForkResult::Child => {
            let err = match stage2(cfg, chan) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            let _ = chan.send(&Msg::Error(format!("{err:#}")));
            // SAFETY: as above.
            unsafe { libc::_exit(1) }
        }
    }
}

fn open_container_root(init_pid: i32) -> Result<OwnedFd> {
    let path = format!("/proc/{init_pid}/root");
    let fd = nix::fcntl::open(
        path.as_str(),
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("opening the container's root {path:?}"))?;
    // SAFETY: open returned a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Take the init's root as ours. Joining a mount namespace already does (setns puts us at its
/// root), but a container without a mount namespace of its own is only chroot'ed: with none
/// to join, the exec'd process would otherwise run in the host's filesystem.
fn enter_container_root(root: OwnedFd) -> Result<()> {
    nix::unistd::fchdir(root.as_raw_fd()).context("entering the container's root")?;
    nix::unistd::chroot(".").context("chroot to the container's root")?;
    nix::unistd::chdir("/").context("chdir to / in the container")
}

fn stage2(cfg: &ExecConfig, chan: &Channel) -> Result<std::convert::Infallible> {
    let process = cfg.process;
    // Its own session, as runc's exec processes: a signal for the caller's terminal session
    // must not reach into the container. setup_pty makes the session itself.
    if !process.terminal().unwrap_or(false) {
        nix::unistd::setsid().context("setsid")?;
    } else {
        let sock = cfg
            .console
            .context("--tty needs a --console-socket to hand over the pty")?;
        crate::terminal::setup_pty(sock, process)?;
    }
    // Before the seccomp filter: one syscall fewer that the profile must allow.
    crate::sys::cloexec_from(3 + cfg.preserve_fds).context("closing inherited fds")?;
    let target = attrs::apply(process, cfg.seccomp, chan)?;
    target.exec()
}
