//! `exec --tty` without `--console-socket` (and not detached): as runc, the runtime is its own
//! console socket. It keeps one end of a socketpair, the process's stage 2 sends the pty master
//! down the other, and the runtime then copies its stdin to the pty and the pty to its stdout
//! (its terminal in raw mode meanwhile, the window size followed on SIGWINCH) until the process
//! exits, forwarding signals to it. Runs in the runtime parent.
use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use anyhow::{bail, Context, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::socket::{
    recvmsg, socketpair, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType,
};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};
use nix::unistd::Pid;

/// (the runtime's end, the end the container's process inherits).
pub fn socket_pair() -> Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .context("creating the console socketpair")
}

/// The pty master the process sent (it is queued before the process execs).
pub fn receive_master(ours: &OwnedFd) -> Result<OwnedFd> {
    let mut name = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut name)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        ours.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .context("receiving the pty master")?;
    for cmsg in msg.cmsgs().context("reading the pty master message")? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: the kernel just installed this fd in our table; nothing else owns it.
            return Ok(unsafe { OwnedFd::from_raw_fd(fds[0]) });
        }
    }
    bail!("the container's process sent no pty master")
}

/// Relay between our stdio and `master` until `pid` exits; its exit status.
pub fn relay_until_exit(master: OwnedFd, pid: Pid) -> Result<i32> {
    let set = super::wait::signal_set();
    set.thread_block().context("blocking signals")?;
    let signals = SignalFd::new(&set).context("creating a signalfd")?;
    let stdin = std::io::stdin();
    let _raw = RawMode::enter(stdin.as_fd());
    copy_window_size(stdin.as_fd(), master.as_fd());
    let (mut stdin_open, mut master_open) = (true, true);
    loop {
        if let Some(code) = super::wait::reap(pid)? {
            if master_open {
                drain(master.as_fd());
            }
            return Ok(code);
        }
        // Slots: signals always, then the master and stdin while they are open.
        let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        let master_slot = master_open.then(|| {
            fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
            fds.len() - 1
        });
        let stdin_slot = stdin_open.then(|| {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            fds.len() - 1
        });
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => other.context("poll")?,
        };
        let ready = |slot: Option<usize>| {
            slot.and_then(|i| fds[i].revents())
                .is_some_and(|r| !r.is_empty())
        };
        let (sig_ready, master_ready, stdin_ready) =
            (ready(Some(0)), ready(master_slot), ready(stdin_slot));
        if sig_ready {
            if let Some(info) = signals.read_signal().context("reading the signalfd")? {
                match Signal::try_from(info.ssi_signo as i32) {
                    Ok(Signal::SIGWINCH) => copy_window_size(stdin.as_fd(), master.as_fd()),
                    Ok(Signal::SIGCHLD) | Err(_) => {}
                    Ok(sig) => {
                        let _ = kill(pid, sig);
                    }
                }
            }
        }
        // EIO once the last slave fd closes: the process's output is over.
        if master_ready && !copy(master.as_fd(), std::io::stdout().as_fd()) {
            master_open = false;
        }
        // At the end of our input, stop reading it; the pty stays open, as in runc (a ^D
        // typed for the process can be lost when it switches the pty to raw mode).
        if stdin_ready && !copy(stdin.as_fd(), master.as_fd()) {
            stdin_open = false;
        }
    }
}

/// One read and write; false at EOF or error.
fn copy(from: BorrowedFd, to: BorrowedFd) -> bool {
    let mut buf = [0u8; 8192];
    match nix::unistd::read(from.as_raw_fd(), &mut buf) {
        Ok(0) | Err(_) => false,
        Ok(n) => write_all(to, &buf[..n]),
    }
}

fn write_all(to: BorrowedFd, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        match nix::unistd::write(to, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return false,
        }
    }
    true
}

/// What the process printed just before it exited is still in the pty: pass it on.
fn drain(master: BorrowedFd) {
    loop {
        let mut fds = [PollFd::new(master, PollFlags::POLLIN)];
        let ready = poll(&mut fds, PollTimeout::ZERO).unwrap_or(0);
        if ready == 0 || !copy(master, std::io::stdout().as_fd()) {
            return;
        }
    }
}

nix::ioctl_read_bad!(get_winsize, libc::TIOCGWINSZ, libc::winsize);
nix::ioctl_write_ptr_bad!(set_winsize, libc::TIOCSWINSZ, libc::winsize);

/// The caller's window size onto the pty; nothing when stdin is not a terminal.
fn copy_window_size(from: BorrowedFd, to: BorrowedFd) {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: `ws` is a valid winsize for both ioctls; the fds are open terminals or the
    // ioctl fails harmlessly with ENOTTY.
    unsafe {
        if get_winsize(from.as_raw_fd(), &mut ws).is_ok() {
            let _ = set_winsize(to.as_raw_fd(), &ws);
        }
    }
}

/// The caller's terminal in raw mode (keys go to the container's shell as typed), restored
/// on drop; nothing when stdin is not a terminal.
struct RawMode<'a> {
    fd: BorrowedFd<'a>,
    saved: Option<Termios>,
}

impl<'a> RawMode<'a> {
    fn enter(fd: BorrowedFd<'a>) -> RawMode<'a> {
        let saved = tcgetattr(fd).ok();
        if let Some(t) = &saved {
            let mut raw = t.clone();
            cfmakeraw(&mut raw);
            let _ = tcsetattr(fd, SetArg::TCSANOW, &raw);
        }
        RawMode { fd, saved }
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = tcsetattr(self.fd, SetArg::TCSANOW, t);
        }
    }
}
