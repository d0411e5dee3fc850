//! `tmpcopyup`: copy what a directory held into the tmpfs just mounted over it, keeping modes,
//! owners and symlinks. Works on directory handles only: the covered directory is reached
//! through a handle opened before the mount, the tmpfs through one opened after.
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use anyhow::{Context, Result};
use nix::dir::Dir;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fchmodat, fstatat, mkdirat, mknodat, FchmodatFlags, Mode, SFlag};
use nix::unistd::{fchownat, symlinkat, Gid, Uid};

use super::sys_mount::{errno_error, io_error};

/// Copy every entry of `src` into `dst` (both directories), recursively.
pub fn copy_dir_contents(src: &OwnedFd, dst: &OwnedFd) -> Result<()> {
    let listing = openat(
        Some(src.as_raw_fd()),
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno_error)?;
    let mut dir = Dir::from_fd(listing).map_err(errno_error)?;
    for entry in dir.iter() {
        let entry = entry.map_err(errno_error)?;
        let name = entry.file_name();
        if name.to_bytes() == b"." || name.to_bytes() == b".." {
            continue;
        }
        copy_entry(src, dst, name).with_context(|| format!("copy {name:?}"))?;
    }
    Ok(())
}

fn open_at(dir: &OwnedFd, name: &std::ffi::CStr, flags: OFlag, mode: u32) -> Result<OwnedFd> {
    let fd = openat(
        Some(dir.as_raw_fd()),
        name,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(mode),
    )
    .map_err(errno_error)?;
    // SAFETY: openat just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn copy_entry(src: &OwnedFd, dst: &OwnedFd, name: &std::ffi::CStr) -> Result<()> {
    let st =
        fstatat(Some(src.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(errno_error)?;
    let kind = SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT);
    let perm = st.st_mode & 0o7777;
    let (s, d) = (Some(src.as_raw_fd()), Some(dst.as_raw_fd()));
    if kind == SFlag::S_IFDIR {
        mkdirat(d, name, Mode::from_bits_truncate(0o700)).map_err(errno_error)?;
        let (sub_src, sub_dst) = (
            open_at(src, name, OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?,
            open_at(dst, name, OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?,
        );
        copy_dir_contents(&sub_src, &sub_dst)?;
    } else if kind == SFlag::S_IFLNK {
        let target = readlinkat(s, name).map_err(errno_error)?;
        symlinkat(target.as_os_str(), d, name).map_err(errno_error)?;
    } else if kind == SFlag::S_IFREG {
        let mut from = File::from(open_at(src, name, OFlag::O_RDONLY, 0)?);
        let mut to = File::from(open_at(
            dst,
            name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
            0o600,
        )?);
        std::io::copy(&mut from, &mut to).map_err(io_error)?;
    } else {
        mknodat(d, name, kind, Mode::from_bits_truncate(perm), st.st_rdev).map_err(errno_error)?;
    }
    let owner = (
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    );
    fchownat(d, name, owner.0, owner.1, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(errno_error)?;
    if kind != SFlag::S_IFLNK {
        fchmodat(
            d,
            name,
            Mode::from_bits_truncate(perm),
            FchmodatFlags::FollowSymlink,
        )
        .map_err(errno_error)?;
    }
    Ok(())
}
