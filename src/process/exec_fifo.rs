//! The exec FIFO: `create` leaves the init blocked reading it; `start` writes one byte, which
//! releases the init to exec, and removes the FIFO.
//!
//! Only the container's owner may pull that trigger: the FIFO is mode 0600 in a 0700 state dir
//! (runc's 0622 is for its init, which reopens the FIFO by path after changing user; ours reads
//! an fd it inherited and needs no permission on the file). And the status says `created` only
//! while the init really waits, i.e. holds the read side — not merely while the file exists.
//!
//! The init reads from an O_RDWR fd the parent opened and it inherited: opening a FIFO
//! read-write never blocks, needs no path (the state dir is hidden or unreachable from inside
//! the container, and /proc may not be mounted there), and keeps a reader alive exactly as long
//! as the init lives — so `start`'s non-blocking open fails at once if the init died, instead of
//! hanging.
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

/// In the parent, before the init is forked: make the FIFO and open the fd the init inherits
/// (the parent drops its copy once the init is forked).
pub fn make(path: &Path) -> Result<OwnedFd> {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600))
        .with_context(|| format!("creating exec fifo {path:?}"))?;
    // mkfifo's mode is filtered by the umask; set it exactly.
    nix::sys::stat::fchmodat(
        None,
        path,
        Mode::from_bits_truncate(0o600),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )?;
    let fd = open(path, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
        .with_context(|| format!("opening exec fifo {path:?}"))?;
    // SAFETY: open returned a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// In the init, last step before execve: blocks until `start` writes.
pub fn wait_for_start(held: RawFd) -> Result<()> {
    // SAFETY: the fd was inherited from the parent for this purpose; the File closes it.
    let mut f = unsafe { std::fs::File::from_raw_fd(held) };
    let mut buf = [0u8; 1];
    f.read_exact(&mut buf).context("reading exec fifo")
}

/// Whether an init waits on this FIFO: someone holds its read side. Opening and closing a
/// writer without writing does not release the init (it holds a write side itself, so its
/// read sees no end of file).
pub fn awaits_start(path: &Path) -> bool {
    matches!(open_writer(path), Ok(Some(_)))
}

/// The write side without blocking; None when nobody reads (ENXIO): the init has exec'd
/// (its fd is close-on-exec) or died.
fn open_writer(path: &Path) -> Result<Option<std::fs::File>> {
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
    match opened {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("opening exec fifo {path:?}")),
    }
}

/// In `start`: release the init, wait (bounded) until it has exec'd the container process —
/// so that, as with runc, the process runs when `start` returns and a signal sent right after
/// reaches it, not the init — and remove the FIFO.
pub fn release(path: &Path) -> Result<()> {
    let Some(mut f) = open_writer(path)? else {
        anyhow::bail!("container init exited before start");
    };
    f.write_all(b"0").context("writing exec fifo")?;
    drop(f);
    let deadline = Instant::now() + EXEC_WAIT;
    while open_writer(path)?.is_some() && Instant::now() < deadline {
        std::thread::sleep(EXEC_POLL);
    }
    std::fs::remove_file(path).with_context(|| format!("removing {path:?}"))
}

/// How long `start` waits for the init to exec (startContainer hooks run before it).
const EXEC_WAIT: Duration = Duration::from_secs(10);
const EXEC_POLL: Duration = Duration::from_micros(100);
