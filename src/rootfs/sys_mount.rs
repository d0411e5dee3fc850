//! The rootfs module's own syscall wrappers: mount_setattr(2), which nix 0.29 lacks, plus the
//! small glue every mount step shares (mounting through /proc/self/fd, reading a mount's flags,
//! errno text worded as runc prints it). Kept here rather than in src/sys.rs so the rootfs
//! module stays self-contained; it holds the only `unsafe` of src/rootfs/.
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::statvfs::{statvfs, FsFlags};

use super::mount_options::RecursiveAttr;

/// `struct mount_attr` of <linux/mount.h> (MOUNT_ATTR_SIZE_VER0).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, attr): change the mount at `fd` and
/// every mount below it.
pub fn mount_setattr_recursive(fd: BorrowedFd, attr: RecursiveAttr) -> nix::Result<()> {
    let how = MountAttr {
        attr_set: attr.set,
        attr_clr: attr.clear,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = libc::AT_EMPTY_PATH | libc::AT_RECURSIVE;
    // SAFETY: the path is a NUL-terminated static string, `how` is a live, properly sized
    // mount_attr that the kernel only reads, and `fd` is borrowed for the call's duration.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags as libc::c_uint,
            &how as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    Errno::result(rc).map(drop)
}

/// open_tree(2) with OPEN_TREE_CLONE: a detached copy of the mount at `path` (and, with
/// `recursive`, the mounts below it), resolved with this process's credentials. Close-on-exec.
pub fn open_tree_clone(path: &Path, recursive: bool) -> nix::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let c_path =
        std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    let mut flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: `c_path` is a live NUL-terminated string; the kernel returns a new fd or -1.
    let rc = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c_path.as_ptr(), flags) };
    let fd = Errno::result(rc)? as i32;
    // SAFETY: the fd was just returned by the kernel and is owned by nothing else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// move_mount(2) of the detached tree `tree` onto the mountpoint open at `target`.
pub fn move_mount_onto(tree: i32, target: BorrowedFd) -> nix::Result<()> {
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
    const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
    // SAFETY: both paths are NUL-terminated static strings; the fds are live for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree,
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    Errno::result(rc).map(drop)
}

/// The /proc/self/fd path naming `fd`: mount(2) takes paths, and going through the magic link
/// mounts on exactly the inode that was resolved safely, with no second lookup.
pub fn proc_fd(fd: BorrowedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// The per-mount flags currently on the mount holding `path` (statvfs's f_flag), as MS_* bits.
pub fn mount_flags_of(path: &Path) -> nix::Result<MsFlags> {
    const TABLE: &[(FsFlags, MsFlags)] = &[
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_SYNCHRONOUS, MsFlags::MS_SYNCHRONOUS),
        (FsFlags::ST_MANDLOCK, MsFlags::MS_MANDLOCK),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ];
    let st = statvfs(path)?.flags();
    let mut flags = MsFlags::empty();
    for (st_flag, ms_flag) in TABLE {
        if st.contains(*st_flag) {
            flags |= *ms_flag;
        }
    }
    // MS_STRICTATIME is not stored on the mount: a mount with no other atime mode is strict.
    let atime = MsFlags::MS_NOATIME | MsFlags::MS_RELATIME;
    if !flags.intersects(atime) {
        flags |= MsFlags::MS_STRICTATIME;
    }
    Ok(flags)
}

/// errno as runc (Go) words it: "operation not permitted", not "EPERM: Operation not permitted".
pub fn errno_text(e: Errno) -> String {
    let desc = e.desc();
    let mut chars = desc.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => format!("errno {}", e as i32),
    }
}

/// An errno that displays as runc words it; anyhow can still downcast to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysError(pub Errno);

impl std::fmt::Display for SysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&errno_text(self.0))
    }
}

impl std::error::Error for SysError {}

/// An anyhow error carrying runc's errno wording.
pub fn errno_error(e: Errno) -> anyhow::Error {
    SysError(e).into()
}

/// The same for an `std::io::Error` from a syscall.
pub fn io_error(e: std::io::Error) -> anyhow::Error {
    match e.raw_os_error() {
        Some(code) => errno_error(Errno::from_raw(code)),
        None => e.into(),
    }
}

/// Whether the root cause of `err` is `errno`.
pub fn is_errno(err: &anyhow::Error, errno: Errno) -> bool {
    err.downcast_ref::<SysError>() == Some(&SysError(errno))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_reads_like_runc() {
        assert_eq!(errno_text(Errno::EPERM), "operation not permitted");
        assert_eq!(errno_text(Errno::ENOENT), "no such file or directory");
        assert_eq!(errno_text(Errno::EROFS), "read-only file system");
    }
}
