//! The client side of `--console-socket`: accept the runtime's connection, take the pty master
//! it sends with SCM_RIGHTS, and read the pty until some output appears. Every wait is bounded
//! so a broken runtime fails the test instead of hanging it.

use std::fs::File;
use std::io::{IoSliceMut, Read};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

const BOUND: Duration = Duration::from_secs(30);

/// Accept one connection on `listener` and return the pty master it carried.
pub fn receive_master(listener: &UnixListener) -> File {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + BOUND;
    let conn = loop {
        match listener.accept() {
            Ok((c, _)) => break c,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("the runtime never connected to the console socket: {e}"),
        }
    };
    conn.set_nonblocking(false).unwrap();
    let mut name = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut name)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .expect("recvmsg on console socket");
    for cmsg in msg.cmsgs().expect("control messages") {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: the kernel just installed this fd in our table; nobody else owns it.
            return File::from(unsafe { OwnedFd::from_raw_fd(fds[0]) });
        }
    }
    panic!("console socket message carried no fd");
}

/// Read from the pty until `needle` shows up; everything read so far.
pub fn read_until(pty: &mut File, needle: &str) -> String {
    let deadline = Instant::now() + BOUND;
    let mut seen = String::new();
    while !seen.contains(needle) {
        assert!(
            Instant::now() < deadline,
            "pty never showed {needle:?}; got {seen:?}"
        );
        let mut fds = [PollFd::new(pty.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(100u16)).unwrap() == 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        let n = pty.read(&mut buf).unwrap_or(0);
        assert!(n > 0, "pty closed before {needle:?}; got {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    seen
}
