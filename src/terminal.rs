//! The container's terminal: the init opens a pty inside the container's devpts and sends the
//! master to the caller's `--console-socket` with SCM_RIGHTS (the payload is the pty's name, as
//! runc sends it); the slave becomes the process's controlling terminal and stdio.
use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use anyhow::{Context, Result};
use nix::fcntl::{open, OFlag};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};
use nix::sys::stat::Mode;
use nix::unistd::Uid;
use oci_spec::runtime::Process;

/// In the parent, before the container's processes are forked: they inherit this socket.
pub fn connect_console_socket(path: &Path) -> Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context("creating console socket")?;
    let addr = UnixAddr::new(path)?;
    connect(fd.as_raw_fd(), &addr)
        .with_context(|| format!("connecting to console socket {path:?}"))?;
    Ok(fd)
}

nix::ioctl_write_ptr_bad!(set_winsize, libc::TIOCSWINSZ, libc::winsize);

/// In the container child, after the rootfs is final: make the pty for `process` and hand over
/// the master. The slave is the process's own terminal: it belongs to the process's uid, its
/// group left as devpts made it (the mount's `gid=5`, tty), as runc does.
pub fn setup_pty(console_socket: RawFd, process: &Process) -> Result<()> {
    let size = process
        .console_size()
        .as_ref()
        .map(|b| (b.height() as u16, b.width() as u16));
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .context("opening /dev/ptmx")?;
    grantpt(&master).context("grantpt")?;
    unlockpt(&master).context("unlockpt")?;
    let name = ptsname_r(&master).context("ptsname")?;
    let slave = open(
        Path::new(&name),
        OFlag::O_RDWR | OFlag::O_NOCTTY,
        Mode::empty(),
    )
    .with_context(|| format!("opening {name}"))?;
    // SAFETY: open returned a fresh fd owned by nothing else.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    let uid = process.user().uid();
    nix::unistd::fchown(slave.as_raw_fd(), Some(Uid::from_raw(uid)), None)
        .with_context(|| format!("giving {name} to uid {uid}"))?;
    if let Some((height, width)) = size {
        let ws = libc::winsize {
            ws_row: height,
            ws_col: width,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: `ws` is a valid winsize; the fd is our pty slave.
        unsafe { set_winsize(slave.as_raw_fd(), &ws) }.context("setting console size")?;
    }
    let fds = [master.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(
        console_socket,
        &[IoSlice::new(name.as_bytes())],
        &cmsg,
        MsgFlags::empty(),
        None,
    )
    .context("sending the pty master to the console socket")?;
    drop(master);
    nix::unistd::setsid().context("setsid")?;
    // SAFETY: TIOCSCTTY takes an int argument; the fd is our pty slave.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(std::io::Error::last_os_error())
            .context("making the pty the controlling terminal");
    }
    for target in 0..3 {
        nix::unistd::dup2(slave.as_raw_fd(), target).context("dup2 pty onto stdio")?;
    }
    Ok(())
}
