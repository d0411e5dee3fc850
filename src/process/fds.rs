//! Closing the runtime's fds in the container's processes before they resolve any path in the
//! container (CVE-2024-21626): a forked child inherits every fd of the runtime parent — the
//! cgroup v2 directory for clone3, the state dir lock, the `--log` file, console and relay
//! sockets — and `/proc/self/fd/N` in a cwd, a mount destination or a symlink of the image
//! would resolve straight to that host file or directory.
//!
//! Runs in the container's children (stage 1 of create and exec, and the init). What stays:
//! stdio, the fds the child itself needs (`keep`), and the caller's `--preserve-fds` range —
//! but only the fds in that range that are not close-on-exec: those are the caller's, passed on
//! purpose. A close-on-exec fd in the range is the runtime's own (everything the runtime opens
//! is close-on-exec), which the execve would close anyway, so closing it early changes nothing
//! the container process sees.
use std::os::fd::RawFd;

use anyhow::{Context, Result};
use nix::fcntl::{fcntl, FcntlArg, FdFlag};

/// The first fd after stdio.
const FIRST: RawFd = 3;

/// Close every fd of this process but stdio, `keep` and the caller's preserved fds. Logging to a
/// `--log` file stops first (its fd is one of those closed).
pub fn close_runtime_fds(keep: &[RawFd], preserve_fds: u32) -> Result<()> {
    crate::logging::stop_file_logging();
    let preserved_end = FIRST.saturating_add(i32::try_from(preserve_fds).unwrap_or(i32::MAX));
    for fd in FIRST..preserved_end {
        let runtime_owned = fcntl(fd, FcntlArg::F_GETFD)
            .is_ok_and(|f| FdFlag::from_bits_truncate(f).contains(FdFlag::FD_CLOEXEC));
        if runtime_owned && !keep.contains(&fd) {
            let _ = nix::unistd::close(fd);
        }
    }
    let mut above: Vec<RawFd> = keep
        .iter()
        .copied()
        .filter(|&fd| fd >= preserved_end)
        .collect();
    above.sort_unstable();
    let mut next = preserved_end;
    for fd in above {
        if fd > next {
            crate::sys::close_range(next as u32, (fd - 1) as u32)
                .context("closing the runtime's fds")?;
        }
        next = next.max(fd + 1);
    }
    crate::sys::close_range(next as u32, u32::MAX).context("closing the runtime's fds")
}
