//! Keeping the runtime binary out of the containers' reach (CVE-2019-5736).
//!
//! Every process that enters a container is a fork of the runtime, so until its execve its
//! `/proc/PID/exe` is the runtime's binary. A container process with CAP_SYS_PTRACE (enough
//! to pass the non-dumpable check) can open that link while the process is visible in its pid
//! namespace, keep an O_PATH fd, and reopen it for writing once the runtime has exited and
//! ETXTBSY no longer protects the file: the next `shoji` run by root is then the attacker's.
//!
//! So `create`, `run` and `exec` first re-execute the runtime from a copy no one can write,
//! and every process forked after that (stage 1, the init, exec's stage 2) inherits it:
//! 1. Preferred, as runc 1.2+ does: a private overlayfs, made with fsopen/fsmount and never
//!    attached to any mount namespace, whose only layers are the binary's directory over /dev
//!    (see `read_only_overlay`). With no upper layer the overlay's superblock is read-only for good: no mount
//!    flag a container could clear would make it writable (unlike a read-only bind mount), and
//!    `/proc/PID/exe`, `fd/*` and `map_files/*` all resolve to the overlay's file. It costs no
//!    copy and no memory; the mount disappears with the last process running from it.
//!    Needs the new mount API (Linux 5.2) and the privilege to mount; the layers go by fd
//!    where the kernel takes them so (6.13+), else as /proc/self/fd paths.
//! 2. Otherwise, as runc 1.1 and crun do: a memfd copy of the binary sealed against writes,
//!    growth and shrinking (a copy of ~5 MB per `create`/`run`/`exec`, held while the process
//!    lives).
//!
//! If neither works the command is refused: a container is never started with the host binary
//! writable through it. Non-dumpable children stay as a second line (see process::init).
//!
//! The overlay way runs at the binary's entry point, before the C library starts (`entry`);
//! `ensure_sealed` runs after parsing in the commands that start container processes, checks
//! what the entry did, and does the sealing itself when the entry could not (the memfd way, or
//! an overlay the entry gave up on). Invariant: after `ensure_sealed` returns, /proc/self/exe
//! is the overlay's read-only file or a sealed memfd.
use std::convert::Infallible;
use std::ffi::{CStr, CString, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::fcntl::{fcntl, AtFlags, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
use nix::sys::statfs::{fstatfs, OVERLAYFS_SUPER_MAGIC};
use nix::sys::statvfs::{fstatvfs, FsFlags};

use crate::sys;

// The fast path, in raw x86_64 syscalls; elsewhere `ensure_sealed` does it all after parsing.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod entry;

/// Set for the re-executed runtime, naming the copy it runs from. It is never trusted alone
/// (the exe itself is checked), and it is removed from the environment at once so no hook or
/// child sees it; it only turns a re-exec that did not take effect into an error, not a loop.
const SEALED_ENV: &str = "_SHOJI_SEALED_EXE";

/// The seals that make a memfd unwritable by anyone, whoever holds it.
const WRITE_SEALS: SealFlag = SealFlag::from_bits_truncate(
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE,
);

/// Returns once this process runs from a copy of the binary no container can write; otherwise
/// re-executes itself (same argv, environment, fds and cwd) from such a copy.
pub fn ensure_sealed() -> Result<()> {
    let copy = std::env::var_os(SEALED_ENV);
    let reexecuted = copy.is_some();
    // SAFETY of the environment change: runtime commands call this first, single-threaded.
    std::env::remove_var(SEALED_ENV);
    let exe = File::open("/proc/self/exe").context("opening /proc/self/exe")?;
    if runs_sealed(&exe, reexecuted) {
        // Which copy is in use (the memfd one costs a copy per command) is a --debug fact.
        let copy = copy.unwrap_or_else(|| "a memfd sealed by the caller".into());
        tracing::debug!(
            "running from a read-only copy of the binary: {}",
            copy.to_string_lossy()
        );
        return Ok(());
    }
    if reexecuted {
        bail!("the runtime binary is still writable after re-executing from a read-only copy");
    }
    Err(reexec_sealed(&exe))
}

/// Re-executes from the overlay, else from a sealed memfd copy (its marker says why the overlay
/// was not used, for --debug); returns only when neither worked, with both reasons.
fn reexec_sealed(exe: &File) -> anyhow::Error {
    let Err(overlay) = exec_through_overlay();
    let marker = format!("memfd (no read-only overlay: {overlay:#})");
    let Err(memfd) = exec_sealed_memfd(exe, &marker);
    anyhow::anyhow!(
        "cannot protect the runtime binary from the container (CVE-2019-5736): \
         read-only overlay: {overlay:#}; sealed memfd copy: {memfd:#}"
    )
}

/// A fully sealed memfd is unwritable whoever made it; the overlay is ours only when this
/// process was re-executed through it, and it is then read-only at the superblock.
fn runs_sealed(exe: &File, reexecuted: bool) -> bool {
    if let Ok(seals) = fcntl(exe.as_raw_fd(), FcntlArg::F_GET_SEALS) {
        return SealFlag::from_bits_truncate(seals).contains(WRITE_SEALS);
    }
    reexecuted
        && fstatfs(exe).is_ok_and(|s| s.filesystem_type() == OVERLAYFS_SUPER_MAGIC)
        && fstatvfs(exe).is_ok_and(|s| s.flags().contains(FsFlags::ST_RDONLY))
}

/// Re-executes from the read-only overlay of the binary's directory; returns only on error.
fn exec_through_overlay() -> Result<Infallible> {
    let binary = std::fs::read_link("/proc/self/exe").context("reading /proc/self/exe")?;
    let (dir, name) = match (binary.parent(), binary.file_name()) {
        (Some(dir), Some(name)) => (dir, name),
        _ => bail!("the runtime binary {binary:?} has no directory"),
    };
    let overlay = read_only_overlay(dir, set_layers)?;
    let name = CString::new(name.to_os_string().into_vec()).context("binary name")?;
    exec(Some(overlay), &name, "overlay")
}

/// An overlayfs mount, detached from every mount namespace, of `dir` over /dev. The binary's
/// directory is the top layer, so nothing below can shadow the binary, and only the binary is
/// ever looked up in it: the bottom layer is there because the kernel wants two layers when
/// there is no upper one. /dev is a directory every host has, in this mount namespace (kernels
/// before 6.13 refuse a detached layer, such as a private empty tmpfs, with EINVAL), never an
/// ancestor of the binary's directory (overlapping layers are refused), and no mount has to be
/// made and torn down for it. The overlay is read-only, nodev and nosuid.
/// `set` gives the layers (`set_layers`; the tests pick the way older kernels take).
fn read_only_overlay(
    dir: &Path,
    set: fn(BorrowedFd, [BorrowedFd; 2]) -> Result<()>,
) -> Result<OwnedFd> {
    let bin_dir = File::open(dir).with_context(|| format!("opening {dir:?}"))?;
    let bottom = File::open("/dev").context("opening /dev")?;
    let ctx = sys::fsopen(c"overlay").context("fsopen overlay")?;
    set(ctx.as_fd(), [bin_dir.as_fd(), bottom.as_fd()])?;
    // xino is irrelevant here, and turning it off spares the kernel log a warning when the
    // layers are on different filesystems; a kernel without the option is fine too.
    let _ = sys::fsconfig_set_string(ctx.as_fd(), c"xino", c"off");
    let attrs = libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NODEV | libc::MOUNT_ATTR_NOSUID;
    sys::fsmount(ctx.as_fd(), attrs).context("fsmount overlay")
}

/// Two lower layers and no upper: the kernel's read-only overlay (one layer is refused). By fd
/// where the kernel takes layers that way (Linux 6.13); before that as `lowerdir=` paths through
/// /proc/self/fd naming the same open directories, so no path is parsed and none needs `:` or
/// `,` escaped. Without the second way every older kernel (Debian 12's 6.1, the test VM's 6.12)
/// fell back to the memfd copy: 0.84 s of a 2.5 s `run` in the emulated VM.
fn set_layers(ctx: BorrowedFd, layers: [BorrowedFd; 2]) -> Result<()> {
    match sys::fsconfig_set_fd(ctx, c"lowerdir+", layers[0]) {
        Ok(()) => {
            return sys::fsconfig_set_fd(ctx, c"lowerdir+", layers[1]).context("overlay lowerdir+")
        }
        // EINVAL: no `lowerdir+` (before 6.7) or not by fd (before 6.13).
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
        Err(e) => return Err(e).context("overlay lowerdir+"),
    }
    set_layers_by_path(ctx, layers)
}

fn set_layers_by_path(ctx: BorrowedFd, layers: [BorrowedFd; 2]) -> Result<()> {
    let [top, bottom] = layers.map(|fd| fd.as_raw_fd());
    let paths = CString::new(format!("/proc/self/fd/{top}:/proc/self/fd/{bottom}"))?;
    sys::fsconfig_set_string(ctx, c"lowerdir", &paths).context("overlay lowerdir")
}

/// Re-executes from a sealed memfd copy of `exe`, `marker` naming it; returns only on error.
fn exec_sealed_memfd(exe: &File, marker: &str) -> Result<Infallible> {
    let base = MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING;
    // MFD_EXEC (Linux 6.3) keeps the copy executable where vm.memfd_noexec defaults memfds
    // to non-executable; older kernels reject the flag.
    let exec_flag = MemFdCreateFlag::from_bits_retain(libc::MFD_EXEC);
    let memfd = memfd_create(c"shoji", base | exec_flag)
        .or_else(|_| memfd_create(c"shoji", base))
        .context("memfd_create")?;
    let mut copy = File::from(memfd);
    std::io::copy(&mut &*exe, &mut copy).context("copying the binary into the memfd")?;
    fcntl(copy.as_raw_fd(), FcntlArg::F_ADD_SEALS(WRITE_SEALS)).context("sealing the memfd")?;
    exec(Some(copy.into()), c"", marker)
}

/// execveat(`dir`, `path`) with this process's argv and environment plus the marker; with an
/// empty path `dir` is the file itself. Returns only on error.
fn exec(dir: Option<OwnedFd>, path: &CStr, copy: &str) -> Result<Infallible> {
    let args = to_cstrings(std::env::args_os())?;
    let mut env = to_cstrings(std::env::vars_os().map(|(k, v)| {
        let mut pair = k;
        pair.push("=");
        pair.push(v);
        pair
    }))?;
    env.push(CString::new(format!("{SEALED_ENV}={copy}"))?);
    let flags = if path.is_empty() {
        AtFlags::AT_EMPTY_PATH
    } else {
        AtFlags::empty()
    };
    let raw = dir.as_ref().map(|d| d.as_raw_fd());
    let err = nix::unistd::execveat(raw, path, &args, &env, flags).unwrap_err();
    Err(err).context("execveat")
}

fn to_cstrings(items: impl Iterator<Item = OsString>) -> Result<Vec<CString>> {
    items
        .map(|s| CString::new(s.into_vec()).context("NUL byte in argv or environment"))
        .collect()
}

/// Real mounts (the unit tests run as root): this host's kernel takes layers by fd, so the path
/// way older kernels use is exercised here directly; the VM tier checks it is chosen on 6.12.
#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;

    use super::*;

    #[test]
    fn layers_by_proc_fd_paths_make_a_read_only_overlay_of_the_binary() {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let overlay = read_only_overlay(exe.parent().unwrap(), set_layers_by_path).unwrap();
        // The detached mount is reached through its fd, as execveat reaches it.
        let name = exe.file_name().unwrap().to_string_lossy();
        let path = format!("/proc/self/fd/{}/{name}", overlay.as_raw_fd());
        let file = File::open(&path).unwrap();
        assert_eq!(
            fstatfs(&file).unwrap().filesystem_type(),
            OVERLAYFS_SUPER_MAGIC
        );
        assert!(fstatvfs(&file)
            .unwrap()
            .flags()
            .contains(FsFlags::ST_RDONLY));
        assert_eq!(
            file.metadata().unwrap().len(),
            exe.metadata().unwrap().len()
        );
        let write = OpenOptions::new().write(true).open(&path).unwrap_err();
        assert_eq!(write.raw_os_error(), Some(libc::EROFS));
    }
}
