//! `--console-socket`: with `terminal: true` the runtime sends the pty master over a unix
//! socket (SCM_RIGHTS); the test drives a shell through it like a real client would.

use std::io::{IoSliceMut, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

use crate::support::{json, Bundle, Container, Runtime};

/// Accepts one connection and returns the fd it carried.
fn receive_fd(listener: &UnixListener) -> OwnedFd {
    use std::os::fd::AsRawFd;
    let (conn, _) = listener
        .accept()
        .expect("runtime connected to the console socket");
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
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
            return unsafe { OwnedFd::from_raw_fd(fds[0]) };
        }
    }
    panic!("console socket message carried no fd");
}

/// Reads from the pty until `needle` shows up; bounded so a broken runtime fails, not hangs.
fn read_until(pty: &mut std::fs::File, needle: &str) -> String {
    use std::os::fd::AsFd;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = String::new();
    while !seen.contains(needle) {
        assert!(
            Instant::now() < deadline,
            "pty never showed {needle:?}; got {seen:?}"
        );
        let mut fds = [nix::poll::PollFd::new(
            pty.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        if nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16)).unwrap() == 0 {
            continue;
        }
        let mut buf = [0u8; 1024];
        let n = pty.read(&mut buf).expect("read pty");
        assert!(n > 0, "pty closed before {needle:?}; got {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    seen
}

#[test]
fn console_socket_receives_pty_master() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("console");
    bundle.edit(|s| {
        s["process"]["terminal"] = json!(true);
        s["process"]["args"] = json!(["sh"]);
    });
    let socket = bundle.path().join("console.sock");
    let listener = UnixListener::bind(&socket).expect("bind console socket");
    let server = std::thread::spawn(move || receive_fd(&listener));
    let c = Container::create_with(
        &rt,
        &bundle,
        "console",
        &["--console-socket", socket.to_str().unwrap()],
    );
    let mut pty = std::fs::File::from(server.join().expect("console server"));
    c.start().success();
    pty.write_all(b"echo tty=$(tty) sum=$((40+2))\n").unwrap();
    let seen = read_until(&mut pty, "sum=42");
    assert!(
        seen.contains("tty=/dev/pts/"),
        "stdin is not a pty inside: {seen:?}"
    );
    pty.write_all(b"exit\n").unwrap();
    c.wait_stopped();
}

#[test]
fn terminal_without_console_socket_fails_create() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("console-missing");
    bundle.edit(|s| s["process"]["terminal"] = json!(true));
    let id = crate::support::unique_name("console-missing");
    crate::support::create_must_fail(&rt, bundle.path_str(), &id).failure();
    crate::support::assert_no_leftovers(&rt, &id, &bundle);
}
