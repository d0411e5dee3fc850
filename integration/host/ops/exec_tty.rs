//! `exec --tty --console-socket`: the test serves the socket, receives the pty master by
//! SCM_RIGHTS, types a command into the container's shell and reads its output.

use std::fs::File;
use std::io::{IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

use super::{running, wait_until};
use crate::support::procfs::wait_pid_gone;
use crate::support::{Bundle, Runtime, Scratch};

/// Accepts one connection (a bounded wait: a runtime that failed never connects) and
/// returns the fd it carried.
fn receive_master(listener: &UnixListener) -> File {
    listener.set_nonblocking(true).unwrap();
    let mut conn = None;
    wait_until("the runtime to connect to the console socket", || {
        conn = listener.accept().ok().map(|(c, _)| c);
        conn.is_some()
    });
    let conn = conn.unwrap();
    conn.set_nonblocking(false).unwrap();
    let mut name = [0u8; 256];
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
            // SAFETY: the kernel just installed this fd in our table; we own it.
            return File::from(unsafe { OwnedFd::from_raw_fd(fds[0]) });
        }
    }
    panic!("no fd received on the console socket");
}

/// Reads from the pty master until `needle` shows up; a bounded wait, not a timing check.
fn read_until(master: &mut File, needle: &str) -> String {
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    for _ in 0..200 {
        let mut pfd = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 100) } > 0 {
            let n = master.read(&mut buf).unwrap_or(0);
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            if seen.contains(needle) {
                return seen;
            }
        }
    }
    panic!("{needle:?} never appeared on the pty; got {seen:?}");
}

#[test]
fn tty_exec_detached_hands_the_pty_to_the_console_socket() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-tty");
    let c = running(&rt, &bundle, "ops-tty", "sleep 1000");
    let scratch = Scratch::new("ops-tty");
    let sock = scratch.path().join("console.sock");
    let pid_file = scratch.path().join("pid");
    let listener = UnixListener::bind(&sock).unwrap();
    let (sock_s, pid_s) = (sock.to_str().unwrap(), pid_file.to_str().unwrap());
    rt.cmd(&[
        "exec",
        "-t",
        "--console-socket",
        sock_s,
        "-d",
        "--pid-file",
        pid_s,
        &c.id,
        "sh",
    ])
    .success();
    let mut master = receive_master(&listener);
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The shell's controlling terminal is the pty (field 7 of stat, tty_nr, is set).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let tty_nr: i64 = stat
        .rsplit_once(") ")
        .unwrap()
        .1
        .split(' ')
        .nth(4)
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(
        tty_nr, 0,
        "exec'd shell has no controlling terminal: {stat}"
    );
    master.write_all(b"echo tty-$((6*7)); tty\n").unwrap();
    let seen = read_until(&mut master, "/dev/pts/");
    assert!(seen.contains("tty-42"), "{seen:?}");
    master.write_all(b"exit\n").unwrap();
    assert!(wait_pid_gone(pid), "shell did not exit");
}

#[test]
fn tty_exec_attached_returns_the_shells_status() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-tty-att");
    let c = running(&rt, &bundle, "ops-tty-att", "sleep 1000");
    let scratch = Scratch::new("ops-tty-att");
    let sock = scratch.path().join("console.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let sock_s = sock.to_str().unwrap();
    std::thread::scope(|s| {
        let exec = s.spawn(|| rt.cmd(&["exec", "-t", "--console-socket", sock_s, &c.id, "sh"]));
        let mut master = receive_master(&listener);
        master.write_all(b"echo in-$((2+3))\n").unwrap();
        read_until(&mut master, "in-5");
        master.write_all(b"exit 5\n").unwrap();
        let out = exec.join().unwrap();
        assert_eq!(out.code, Some(5), "{out}");
    });
    wait_until("container still running", || c.status() == "running");
}

#[test]
fn tty_exec_without_console_socket_relays_the_pty() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-tty-relay");
    let c = running(&rt, &bundle, "ops-tty-relay", "sleep 1000");
    // The runtime keeps the pty and copies our stdin into it and its output to our stdout.
    let script = "echo relay-$((6*7)); tty; exit 3\n";
    let out = rt.cmd_stdin(&["exec", "-t", &c.id, "sh"], Some(script));
    assert_eq!(out.code, Some(3), "{out}");
    assert!(out.stdout.contains("relay-42"), "{out}");
    assert!(
        out.stdout.contains("/dev/pts/"),
        "the shell's stdin is a pty:\n{out}"
    );
    // A command that reads nothing ends on its own, whatever our stdin is.
    let out = rt.cmd(&["exec", "-t", &c.id, "sh", "-c", "echo x; exit 5"]);
    assert_eq!(out.code, Some(5), "{out}");
    assert_eq!(out.stdout, "x\r\n", "a pty turns \\n into \\r\\n:\n{out}");
}
