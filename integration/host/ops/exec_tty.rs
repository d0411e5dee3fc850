//! `exec --tty --console-socket`: the test serves the socket, receives the pty master by
//! SCM_RIGHTS, types a command into the container's shell and reads its output.

use std::io::Write;
use std::os::unix::net::UnixListener;

use super::{running, wait_until};
use crate::support::console::{read_until, receive_master};
use crate::support::procfs::wait_pid_gone;
use crate::support::{Bundle, Runtime, Scratch};

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
