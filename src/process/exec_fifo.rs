//! The exec FIFO: `create` leaves the init blocked opening it for writing; `start` opens it for
//! reading, which releases the init to exec. The init holds an O_PATH fd taken before
//! pivot_root, because the state directory is not visible from inside the rootfs.
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use anyhow::{Context, Result};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

pub fn make(path: &Path) -> Result<()> {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o622))
        .with_context(|| format!("creating exec fifo {path:?}"))?;
    // mkfifo's mode is filtered by the umask; set it exactly.
    nix::sys::stat::fchmodat(
        None,
        path,
        Mode::from_bits_truncate(0o622),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )?;
    Ok(())
}

/// In the init, before pivot_root.
pub fn hold(path: &Path) -> Result<OwnedFd> {
    let fd = open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .with_context(|| format!("opening exec fifo {path:?}"))?;
    // SAFETY: open returned a fresh fd that nothing else owns.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
}

/// In the init, last step before execve: blocks until `start` opens the other end.
pub fn wait_for_start(held: &OwnedFd) -> Result<()> {
    let magic = format!("/proc/self/fd/{}", held.as_raw_fd());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&magic)
        .context("opening exec fifo for writing")?;
    f.write_all(b"0").context("writing exec fifo")?;
    Ok(())
}

/// In `start`: release the init and remove the FIFO (status leaves `created`).
pub fn release(path: &Path) -> Result<()> {
    let mut f = File::open(path).with_context(|| format!("opening exec fifo {path:?}"))?;
    let mut buf = [0u8; 1];
    let n = f.read(&mut buf).context("reading exec fifo")?;
    std::fs::remove_file(path).with_context(|| format!("removing {path:?}"))?;
    if n == 0 {
        anyhow::bail!("container init exited before start");
    }
    Ok(())
}
