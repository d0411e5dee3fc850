//! The container's children, as ordered step lists.
use std::os::fd::RawFd;

use anyhow::{Context, Result};
use nix::sched::CloneFlags;
use nix::unistd::{fork, ForkResult};
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use super::sync::{Channel, Msg};
use super::{attrs, exec_fifo, fds, InitConfig};
use crate::hooks::{self, Kind};
use crate::namespaces;
use crate::rootfs::{self, RootfsConfig};

/// Stage 1: namespaces, then fork the init into them.
pub(super) fn stage1(cfg: &InitConfig, chan: &Channel) -> Result<()> {
    // Before anything resolves a path: only the fds this child needs stay open (fds.rs).
    let keep = [
        Some(chan.raw_fd()),
        Some(cfg.fifo),
        cfg.console,
        cfg.cgroup_dir,
    ];
    let bind_sources = cfg.bind_sources.iter().copied();
    let keep: Vec<_> = keep.into_iter().chain(bind_sources).flatten().collect();
    fds::close_runtime_fds(&keep, cfg.preserve_fds)?;
    namespaces::join_all(cfg.namespaces)?;
    if cfg.namespaces.new_user {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER)
            .context("unsharing user namespace")?;
        chan.send(&Msg::MapIds)?;
        chan.expect(&Msg::Done)?;
        // Become root of the new namespace: until then our ids are unmapped (the overflow id)
        // and the kernel refuses to create files owned by them (EOVERFLOW).
        let root_uid = nix::unistd::Uid::from_raw(0);
        let root_gid = nix::unistd::Gid::from_raw(0);
        nix::unistd::setresgid(root_gid, root_gid, root_gid)
            .context("setgid 0 in the new user namespace")?;
        nix::unistd::setresuid(root_uid, root_uid, root_uid)
            .context("setuid 0 in the new user namespace")?;
    }
    // All but the cgroup namespace: that one is rooted where the init is placed, later.
    namespaces::unshare_new(cfg.namespaces, CloneFlags::CLONE_NEWCGROUP)?;
    if let Some(offsets) = cfg
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.time_offsets().as_ref())
    {
        if cfg.namespaces.has_new(LinuxNamespaceType::Time) {
            namespaces::write_time_offsets(offsets)?;
        }
    }
    match fork_init(cfg.cgroup_dir)? {
        Forked::Parent { pid, in_cgroup } => chan.send(&Msg::InitPid(pid, in_cgroup)),
        Forked::Child => {
            let err = match stage2(cfg, chan) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            let _ = chan.send(&Msg::Error(format!("{err:#}")));
            // SAFETY: see spawn.rs; this process must not run the runtime's destructors.
            unsafe { libc::_exit(1) }
        }
    }
}

enum Forked {
    Child,
    Parent { pid: i32, in_cgroup: bool },
}

/// Fork the init: straight into its cgroup when the parent prepared one (cgroup v2), else a
/// plain fork and the parent moves it.
fn fork_init(cgroup_dir: Option<RawFd>) -> Result<Forked> {
    if let Some(dir) = cgroup_dir {
        match crate::sys::fork_into_cgroup(dir) {
            Ok(0) => return Ok(Forked::Child),
            Ok(pid) => {
                return Ok(Forked::Parent {
                    pid,
                    in_cgroup: true,
                })
            }
            // A kernel without clone3 (ENOSYS), or one refusing the placement (EACCES from
            // inside a user namespace): fall back to fork and migration.
            Err(_) => {}
        }
    }
    // SAFETY: this child is single-threaded (it was forked from a single-threaded parent).
    Ok(match unsafe { fork() }.context("forking container init")? {
        ForkResult::Parent { child } => Forked::Parent {
            pid: child.as_raw(),
            in_cgroup: false,
        },
        ForkResult::Child => Forked::Child,
    })
}

/// Stage 2, the container's init: rootfs, hooks, process attributes, wait for start, exec.
fn stage2(cfg: &InitConfig, chan: &Channel) -> Result<std::convert::Infallible> {
    // The cgroup v2 directory was for clone3 only: a host directory must not stay open here.
    if let Some(dir) = cfg.cgroup_dir {
        nix::unistd::close(dir).context("closing the cgroup directory")?;
    }
    hide_runtime_binary()?;
    // The parent places us in the container's cgroup, then says Done (stage 1 and we share
    // the channel, so we speak only after that). A new cgroup namespace is rooted there.
    chan.expect(&Msg::Done)?;
    if cfg.namespaces.new.contains(CloneFlags::CLONE_NEWCGROUP) {
        nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP).context("unsharing cgroup namespace")?;
    }
    let spec = cfg.spec;
    let state = build_rootfs(cfg, chan)?;
    let Some(process) = spec.process().as_ref() else {
        return wait_without_process(cfg, chan);
    };
    if process.terminal().unwrap_or(false) {
        let sock = cfg
            .console
            .context("process.terminal is set but no --console-socket was given")?;
        crate::terminal::setup_pty(sock, process)?;
    }
    if !cfg.no_new_keyring {
        // runc's name: the kernel reserves names starting with '.', which an id may.
        let name = format!("_ses.{}", cfg.id);
        crate::sys::join_session_keyring(&name).context("joining a new session keyring")?;
    }
    // Before the seccomp filter: one syscall fewer that the profile must allow.
    crate::sys::cloexec_from(3 + cfg.preserve_fds).context("closing inherited fds")?;
    let target = attrs::apply(process, cfg.seccomp, chan)?;
    chan.send(&Msg::Ready)?;
    exec_fifo::wait_for_start(cfg.fifo)?;
    let env = process.env().as_deref().unwrap_or(&[]);
    hooks::run_in_container(spec.hooks(), Kind::StartContainer, &state, env)?;
    target.exec()
}

/// A container without `process` is created like any other and waits as `created` until it is
/// deleted: `start` refuses it before pulling the trigger, so this init never gets past it.
fn wait_without_process(cfg: &InitConfig, chan: &Channel) -> Result<std::convert::Infallible> {
    crate::sys::cloexec_from(3 + cfg.preserve_fds).context("closing inherited fds")?;
    chan.send(&Msg::Ready)?;
    exec_fifo::wait_for_start(cfg.fifo)?;
    anyhow::bail!("the container has no process to start")
}

/// Mounts, the hooks that run around them, pivot_root; returns the state the hooks saw.
/// Without a mount namespace of its own the container gets no mounts (they would land in the
/// host's mount table, or the joined namespace's): the init only chroots into root.path.
fn build_rootfs(cfg: &InitConfig, chan: &Channel) -> Result<String> {
    let spec = cfg.spec;
    let rcfg = RootfsConfig {
        spec,
        rootfs: cfg.rootfs,
        no_pivot: cfg.no_pivot,
        user_ns: cfg.namespaces.in_user_ns(),
        cgroup_ns: cfg.namespaces.has_new(LinuxNamespaceType::Cgroup),
        bind_sources: &cfg.bind_sources,
    };
    let own_mounts = cfg.namespaces.has_new(LinuxNamespaceType::Mount);
    nix::unistd::chdir(cfg.bundle).with_context(|| format!("chdir to bundle {:?}", cfg.bundle))?;
    if own_mounts {
        rootfs::prepare(&rcfg)?;
    } else {
        // No mounts to make: the bind sources opened for them must not stay open here.
        for tree in cfg.bind_sources.iter().flatten() {
            nix::unistd::close(*tree).context("closing a bind source")?;
        }
    }
    set_names(spec)?;
    // prestart and createRuntime run in the runtime's namespaces, once the mounts exist.
    chan.send(&Msg::RunHooks)?;
    let state = match chan.recv()? {
        Msg::State(s) => s,
        other => anyhow::bail!("sync: expected state, got {other:?}"),
    };
    // runc runs them from the root directory, before the root changes.
    nix::unistd::chdir(cfg.rootfs).with_context(|| format!("chdir to rootfs {:?}", cfg.rootfs))?;
    let env = spec.process().as_ref().and_then(|p| p.env().as_deref());
    hooks::run_in_container(
        spec.hooks(),
        Kind::CreateContainer,
        &state,
        env.unwrap_or(&[]),
    )?;
    if own_mounts {
        rootfs::enter(&rcfg)?;
        apply_sysctl(spec)?;
        rootfs::finalize(&rcfg)?;
    } else {
        nix::unistd::chroot(cfg.rootfs).with_context(|| format!("chroot to {:?}", cfg.rootfs))?;
        nix::unistd::chdir("/").context("chdir to / in the rootfs")?;
        apply_sysctl(spec)?;
    }
    tracing::debug!("init: rootfs final");
    Ok(state)
}

/// Until execve, /proc/PID/exe of this process is the runtime's binary. What keeps the
/// container from writing it (CVE-2019-5736) is that this is a read-only copy (exe_seal);
/// non-dumpable is a second line: it keeps container processes without CAP_SYS_PTRACE from
/// opening our /proc entries at all (but CAP_SYS_PTRACE passes it). execve resets the flag.
pub(super) fn hide_runtime_binary() -> Result<()> {
    nix::sys::prctl::set_dumpable(false).context("prctl(PR_SET_DUMPABLE)")
}

fn set_names(spec: &Spec) -> Result<()> {
    if let Some(h) = spec.hostname().as_ref().filter(|h| !h.is_empty()) {
        nix::unistd::sethostname(h).with_context(|| format!("setting hostname {h:?}"))?;
    }
    if let Some(d) = spec.domainname().as_ref().filter(|d| !d.is_empty()) {
        crate::sys::set_domainname(d).with_context(|| format!("setting domainname {d:?}"))?;
    }
    Ok(())
}

/// linux.sysctl, written through the container's own /proc after pivot_root.
fn apply_sysctl(spec: &Spec) -> Result<()> {
    let Some(sysctl) = spec.linux().as_ref().and_then(|l| l.sysctl().as_ref()) else {
        return Ok(());
    };
    for (key, value) in sysctl {
        // Only namespaced keys get here (spec::sysctl::check, at validation).
        let path = crate::spec::sysctl::proc_path(key)?;
        std::fs::write(&path, value)
            .with_context(|| format!("setting sysctl {key}={value:?} ({path})"))?;
    }
    Ok(())
}
