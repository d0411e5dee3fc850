//! One `mounts[]` entry onto the rootfs, the way runc does it: resolve (or create) the
//! mountpoint inside the rootfs, mount through /proc/self/fd, re-open the new mount, apply
//! propagation, then for binds the flag remount and the recursive attributes.
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::fstat;
use nix::sys::statfs::{statfs, PROC_SUPER_MAGIC};
use oci_spec::runtime::Mount;

use super::cgroup_mount;
use super::copyup::copy_dir_contents;
use super::mount_options::{self, flag_names, MountOptions};
use super::safe_path::{clean, Root};
use super::sys_mount::{
    errno_error, io_error, is_errno, mount_flags_of, mount_setattr_recursive, move_mount_onto,
    open_tree_clone, proc_fd,
};

/// What every mount step needs to know besides the entry itself.
pub struct MountCtx<'a> {
    pub root: &'a Root,
    pub user_ns: bool,
    pub cgroup_ns: bool,
}

/// One mount to make: from the spec, or made up by the cgroup code.
#[derive(Debug, Clone)]
pub struct Entry {
    pub source: String,
    pub dest: PathBuf,
    /// The filesystem type; `bind` for every bind mount whatever the spec's `type` said.
    pub kind: String,
    pub opts: MountOptions,
}

/// A resolved mountpoint: its handle and its real path inside the rootfs.
pub struct Target {
    pub fd: OwnedFd,
    pub inside: PathBuf,
    /// The mountpoint was there before (not created for this mount).
    pub existed: bool,
}

/// Paths under /proc a mount may cover: the ones lxcfs emulates (runc's list).
const PROC_ALLOWED: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/sys/kernel/ns_last_pid",
    "/proc/sys/crypto/fips_enabled",
];

impl Entry {
    pub fn from_spec(m: &Mount) -> Result<Entry> {
        let typ = m.typ().as_deref().unwrap_or("");
        let opts = mount_options::parse(m.options().as_deref().unwrap_or(&[]), typ)?;
        let mut source = m
            .source()
            .as_ref()
            .map(|s| s.to_string_lossy().into_owned());
        if opts.is_bind() {
            // runc resolves a relative bind source against its cwd, the bundle directory.
            let src = PathBuf::from(source.unwrap_or_default());
            source = Some(
                std::path::absolute(&src)
                    .map_err(io_error)?
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        let kind = if opts.is_bind() { "bind" } else { typ };
        Ok(Entry {
            source: source.unwrap_or_default(),
            dest: m.destination().clone(),
            kind: kind.into(),
            opts,
        })
    }
}

/// `m`'s source as a detached mount tree if it is a bind mount (relative sources against
/// `bundle`). A tree, not an O_PATH fd: a bind from a path in the host's mount namespace is
/// refused (EINVAL) once the init has its own; a detached tree may be attached there.
pub fn open_bind_source(m: &Mount, bundle: &Path) -> Option<OwnedFd> {
    let typ = m.typ().as_deref().unwrap_or("");
    let opts = mount_options::parse(m.options().as_deref().unwrap_or(&[]), typ).ok()?;
    if !opts.is_bind() {
        return None;
    }
    let source = bundle.join(m.source().as_ref()?);
    open_tree_clone(&source, opts.flags.contains(MsFlags::MS_REC)).ok()
}

/// Mount one spec entry; the error reads like runc's. `opened`: the bind source as the
/// runtime opened it before entering the user namespace.
pub fn mount_spec_entry(ctx: &MountCtx, m: &Mount, opened: Option<RawFd>) -> Result<()> {
    let shown_source = m
        .source()
        .as_ref()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let context = || {
        format!(
            "error mounting {shown_source:?} to rootfs at {:?}",
            m.destination()
        )
    };
    let mut entry = Entry::from_spec(m).with_context(context)?;
    if let Some(tree) = opened.filter(|_| entry.kind == "bind") {
        entry.source = format!("/proc/self/fd/{tree}");
        return bind_with(ctx, &entry, |target| move_mount_onto(tree, target))
            .with_context(context);
    }
    mount_entry(ctx, &entry).with_context(context)
}

/// Dispatch on the mount's kind.
pub fn mount_entry(ctx: &MountCtx, e: &Entry) -> Result<()> {
    match e.kind.as_str() {
        "bind" => bind_mount(ctx, e),
        "cgroup" => cgroup_mount::mount_cgroup(ctx, e),
        "cgroup2" => cgroup_mount::mount_cgroup2(ctx, e),
        "proc" | "sysfs" => {
            let target = pseudo_fs_mountpoint(ctx, e)?;
            match mount_fs(ctx, e, &e.kind, target) {
                // Without its own network namespace a user namespace may not mount sysfs;
                // bind the host's instead, keeping the requested flags (runc --rootless does).
                Err(err) if e.kind == "sysfs" && ctx.user_ns && is_errno(&err, Errno::EPERM) => {
                    bind_mount(ctx, &sysfs_bind(e))
                }
                other => other,
            }
        }
        fs_type => mount_fs(ctx, e, fs_type, open_mountpoint(ctx, e)?),
    }
}

fn sysfs_bind(e: &Entry) -> Entry {
    let mut opts = e.opts.clone();
    opts.flags |= MsFlags::MS_BIND | MsFlags::MS_REC;
    Entry {
        source: "/sys".into(),
        dest: e.dest.clone(),
        kind: "bind".into(),
        opts,
    }
}

/// Mount a filesystem of `fs_type` (not a bind) on `target`.
pub fn mount_fs(ctx: &MountCtx, e: &Entry, fs_type: &str, target: Target) -> Result<()> {
    let mut flags = e.opts.flags;
    let mut data = e.opts.data.clone();
    // A read-only tmpfs or /dev must stay writable until files are created in it; finalize
    // remounts them read-only.
    if fs_type == "tmpfs" || target.inside == Path::new("/dev") {
        flags.remove(MsFlags::MS_RDONLY);
    }
    if fs_type == "tmpfs" && target.existed {
        // The tmpfs takes the mode of the directory it covers unless the data says otherwise;
        // on a directory made for it, the kernel's default (1777) applies, as in runc.
        let mode = fstat(target.fd.as_raw_fd()).map_err(errno_error)?.st_mode & 0o7777;
        data = if data.is_empty() {
            format!("mode={mode:04o}")
        } else {
            format!("mode={mode:04o},{data}")
        };
    }
    let below = match e.opts.tmpcopyup {
        true => Some(
            ctx.root
                .open_in(&clean(&target.inside), OFlag::O_RDONLY | OFlag::O_DIRECTORY)
                .map_err(errno_error)?,
        ),
        false => None,
    };
    let data = (!data.is_empty()).then_some(data.as_str());
    mount(
        Some(e.source.as_str()),
        &proc_fd(target.fd.as_fd()),
        Some(fs_type),
        flags,
        data,
    )
    .map_err(errno_error)?;
    let target = reopen(ctx, target)?;
    if let Some(below) = below {
        let top = ctx
            .root
            .open_in(&clean(&target.inside), OFlag::O_RDONLY | OFlag::O_DIRECTORY)
            .map_err(errno_error)?;
        copy_dir_contents(&below, &top).context("tmpcopyup")?;
    }
    apply_propagation(&target, &e.opts.propagation)
}

/// Bind `e.source` onto its destination, then apply flags the bind itself ignores.
pub fn bind_mount(ctx: &MountCtx, e: &Entry) -> Result<()> {
    let bind_flags = e.opts.flags & (MsFlags::MS_BIND | MsFlags::MS_REC);
    bind_with(ctx, e, |target| {
        mount(
            Some(e.source.as_str()),
            &proc_fd(target),
            None::<&str>,
            bind_flags,
            None::<&str>,
        )
    })
}

/// A bind mount whose first step, `attach` onto the open mountpoint, is given (a mount(2)
/// of a path, or a move_mount(2) of a tree opened before the user namespace existed).
fn bind_with(
    ctx: &MountCtx,
    e: &Entry,
    attach: impl FnOnce(BorrowedFd) -> nix::Result<()>,
) -> Result<()> {
    let target = open_mountpoint(ctx, e)?;
    attach(target.fd.as_fd()).map_err(errno_error)?;
    let target = reopen(ctx, target)?;
    apply_propagation(&target, &e.opts.propagation)?;
    let plain = MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT;
    if !(e.opts.flags - plain).is_empty() || !e.opts.cleared.is_empty() {
        remount_bind(&target, e).context("failed to set user-requested vfs flags on bind-mount")?;
    }
    if let Some(attr) = e.opts.recursive {
        mount_setattr_recursive(target.fd.as_fd(), attr)
            .map_err(errno_error)
            .context("mount_setattr")?;
    }
    Ok(())
}

/// MS_BIND|MS_REMOUNT with the requested flags; when the kernel refuses because the source
/// mount has locked flags (a user namespace), re-apply those and retry, unless the request
/// explicitly cleared one (runc's behaviour).
fn remount_bind(target: &Target, e: &Entry) -> Result<()> {
    let path = proc_fd(target.fd.as_fd());
    let mut flags = e.opts.flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT;
    let Err(first) = mount(None::<&str>, &path, None::<&str>, flags, None::<&str>) else {
        return Ok(());
    };
    let atime = MsFlags::MS_NOATIME
        | MsFlags::MS_RELATIME
        | MsFlags::MS_STRICTATIME
        | MsFlags::MS_NODIRATIME;
    let lockable =
        MsFlags::MS_RDONLY | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_NOSUID | atime;
    let src = mount_flags_of(Path::new(&e.source))
        .map_err(errno_error)
        .context("statfs source")?;
    if !(src & e.opts.cleared & lockable).is_empty() {
        bail!(
            "cannot clear locked flags {}: {}",
            flag_names(src & e.opts.cleared & lockable),
            errno_error(first)
        );
    }
    if flags.intersects(atime) && flags & atime != src & atime {
        bail!(
            "cannot change locked atime flags {}: {}",
            flag_names(src & atime),
            errno_error(first)
        );
    }
    flags |= src & lockable;
    mount(None::<&str>, &path, None::<&str>, flags, None::<&str>)
        .map_err(errno_error)
        .with_context(|| {
            format!(
                "remount with locked flags {} re-applied",
                flag_names(src & lockable)
            )
        })
}

fn apply_propagation(target: &Target, propagation: &[MsFlags]) -> Result<()> {
    for flags in propagation {
        mount(
            None::<&str>,
            &proc_fd(target.fd.as_fd()),
            None::<&str>,
            *flags,
            None::<&str>,
        )
        .map_err(errno_error)
        .context("change mount propagation")?;
    }
    Ok(())
}

/// A handle on the mount just made at `target` (the old handle still names the covered
/// directory); checks nothing moved it meanwhile.
fn reopen(ctx: &MountCtx, target: Target) -> Result<Target> {
    let fd = ctx
        .root
        .open_in(&clean(&target.inside), OFlag::O_PATH)
        .map_err(errno_error)?;
    let inside = ctx.root.path_inside(&fd)?;
    if inside != target.inside {
        bail!("mountpoint {:?} was moved while re-opening", target.inside);
    }
    Ok(Target {
        fd,
        inside,
        existed: true,
    })
}

/// Resolve the destination inside the rootfs, creating it when missing: an empty file for a
/// bind of a non-directory, a directory otherwise.
pub fn open_mountpoint(ctx: &MountCtx, e: &Entry) -> Result<Target> {
    let rel = clean(&e.dest);
    let found = ctx.root.open_in(&rel, OFlag::O_PATH);
    let existed = found.is_ok();
    let fd = match found {
        Ok(fd) => fd,
        Err(Errno::ENOENT)
            if e.kind == "bind" && !Path::new(&e.source).metadata().map_err(io_error)?.is_dir() =>
        {
            ctx.root
                .create_file(&rel, 0o644)
                .with_context(|| format!("make mountpoint {:?}", e.dest))?
        }
        Err(Errno::ENOENT) => ctx
            .root
            .mkdir_all(&rel, 0o755)
            .with_context(|| format!("make mountpoint {:?}", e.dest))?,
        Err(err) => return Err(errno_error(err)).context("lookup mountpoint target"),
    };
    let inside = ctx.root.path_inside(&fd)?;
    if inside == Path::new("/") {
        bail!(
            "mountpoint {inside:?} is on the top of rootfs {:?}",
            ctx.root.path()
        );
    }
    check_proc_mount(&inside, e)?;
    Ok(Target {
        fd,
        inside,
        existed,
    })
}

/// proc and sysfs go on an ordinary directory only: never through a final symlink.
fn pseudo_fs_mountpoint(ctx: &MountCtx, e: &Entry) -> Result<Target> {
    let rel = clean(&e.dest);
    let found = ctx.root.open_in(&rel, OFlag::O_PATH | OFlag::O_NOFOLLOW);
    let existed = found.is_ok();
    if let Ok(fd) = found {
        let st = fstat(fd.as_raw_fd()).map_err(errno_error)?;
        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            bail!(
                "filesystem {:?} must be mounted on ordinary directory",
                e.kind
            );
        }
    }
    let fd = ctx.root.mkdir_all(&rel, 0o755)?;
    let inside = ctx.root.path_inside(&fd)?;
    check_proc_mount(&inside, e)?;
    Ok(Target {
        fd,
        inside,
        existed,
    })
}

/// Nothing may be mounted over /proc or inside it, except a procfs on /proc and the few files
/// lxcfs emulates.
fn check_proc_mount(inside: &Path, e: &Entry) -> Result<()> {
    let Ok(under) = inside.strip_prefix("/proc") else {
        return Ok(());
    };
    if under.as_os_str().is_empty() {
        let source_is_proc =
            || statfs(Path::new(&e.source)).is_ok_and(|s| s.filesystem_type() == PROC_SUPER_MAGIC);
        if e.kind == "proc" || (e.kind == "bind" && source_is_proc()) {
            return Ok(());
        }
        bail!("{inside:?} cannot be mounted because it is not of type proc");
    }
    if PROC_ALLOWED.iter().any(|p| Path::new(p) == inside) {
        return Ok(());
    }
    bail!("{inside:?} cannot be mounted because it is inside /proc")
}
