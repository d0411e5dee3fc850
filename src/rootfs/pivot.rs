//! Making the rootfs the container's `/`: root propagation first (so nothing reaches the
//! host), then pivot_root(".", ".") with the old root detached, or with `--no-pivot` a move
//! of the rootfs onto `/` and a chroot.
use std::path::Path;

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, chroot, close, fchdir, pivot_root};

use super::sys_mount::{errno_error, io_error};
use crate::mountinfo;

fn remount(target: &Path, flags: MsFlags) -> nix::Result<()> {
    mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
}

/// `/` gets the requested propagation (default rslave), the mount holding the rootfs is made
/// private (or slave) so the rootfs bind cannot propagate anywhere, and the rootfs is bound
/// onto itself so it is a mount point pivot_root accepts.
pub fn prepare_root(rootfs: &Path, propagation: MsFlags) -> Result<()> {
    remount(Path::new("/"), propagation)
        .map_err(errno_error)
        .context("remount / propagation")?;
    let parent_flags = if propagation.contains(MsFlags::MS_SLAVE) {
        MsFlags::MS_SLAVE
    } else {
        MsFlags::MS_PRIVATE
    };
    // EINVAL means "not a mount point": walk up to the mount that holds the rootfs.
    let mut path = rootfs;
    loop {
        match remount(path, parent_flags) {
            Ok(()) => break,
            Err(Errno::EINVAL) if path != Path::new("/") => {
                path = path.parent().unwrap_or(Path::new("/"))
            }
            Err(e) => return Err(errno_error(e)).context(format!("remount-propagation {path:?}")),
        }
    }
    let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
    mount(Some(rootfs), rootfs, None::<&str>, bind, None::<&str>)
        .map_err(errno_error)
        .with_context(|| format!("bind rootfs {rootfs:?} onto itself"))
}

/// pivot_root(".", ".") stacks the old root under the new one at the same place; it is then
/// made rslave (so its unmount does not propagate to the host) and detached.
pub fn pivot(rootfs: &Path) -> Result<()> {
    let old_root = open(
        "/",
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno_error)?;
    let result = pivot_with(rootfs, old_root);
    let _ = close(old_root);
    result
}

fn pivot_with(rootfs: &Path, old_root: i32) -> Result<()> {
    chdir(rootfs)
        .map_err(errno_error)
        .with_context(|| format!("chdir {rootfs:?}"))?;
    pivot_root(".", ".")
        .map_err(errno_error)
        .context("pivot_root .")?;
    fchdir(old_root)
        .map_err(errno_error)
        .context("fchdir old root")?;
    remount(Path::new("."), MsFlags::MS_SLAVE | MsFlags::MS_REC)
        .map_err(errno_error)
        .context("make old root rslave")?;
    umount2(".", MntFlags::MNT_DETACH)
        .map_err(errno_error)
        .context("unmount old root")?;
    chdir("/").map_err(errno_error).context("chdir /")
}

/// `--no-pivot`: the host's full proc and sysfs mounts would stay reachable above the chroot
/// and let the container mount new instances, so they are detached (or covered) first.
pub fn move_root(rootfs: &Path) -> Result<()> {
    let mounts = mountinfo::read_self()
        .map_err(io_error)
        .context("read /proc/self/mountinfo")?;
    let exposed = mounts
        .iter()
        .filter(|m| m.root == Path::new("/") && (m.fs_type == "proc" || m.fs_type == "sysfs"))
        .filter(|m| !m.mount_point.starts_with(rootfs));
    for m in exposed {
        let p = m.mount_point.as_path();
        match remount(p, MsFlags::MS_SLAVE | MsFlags::MS_REC) {
            Ok(()) => {}
            Err(Errno::ENOENT) => continue, // under a mount already detached
            Err(e) => return Err(errno_error(e)).context(format!("make {p:?} rslave")),
        }
        match umount2(p, MntFlags::MNT_DETACH) {
            Ok(()) => {}
            Err(Errno::EINVAL | Errno::EPERM) => {
                mount(
                    Some("tmpfs"),
                    p,
                    Some("tmpfs"),
                    MsFlags::empty(),
                    None::<&str>,
                )
                .map_err(errno_error)
                .with_context(|| format!("cover {p:?}"))?;
            }
            Err(e) => return Err(errno_error(e)).context(format!("unmount {p:?}")),
        }
    }
    chdir(rootfs)
        .map_err(errno_error)
        .with_context(|| format!("chdir {rootfs:?}"))?;
    mount(
        Some(rootfs),
        "/",
        None::<&str>,
        MsFlags::MS_MOVE,
        None::<&str>,
    )
    .map_err(errno_error)
    .context("move rootfs to /")?;
    chroot(".").map_err(errno_error).context("chroot .")?;
    chdir("/").map_err(errno_error).context("chdir /")
}

/// Shared or unbindable root propagation can only be applied once the rootfs is `/`: on the
/// rootfs before the pivot it would reach the host's peer group.
pub fn apply_root_propagation(propagation: MsFlags) -> Result<()> {
    if propagation.intersects(MsFlags::MS_PRIVATE | MsFlags::MS_SLAVE) {
        return Ok(()); // prepare_root applied it already
    }
    remount(Path::new("/"), propagation)
        .map_err(errno_error)
        .context("unable to apply root propagation flags")
}
