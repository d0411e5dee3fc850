//! `--console-socket`: with `terminal: true` the runtime sends the pty master over a unix
//! socket (SCM_RIGHTS); the test drives a shell through it like a real client would.

use std::io::Write;
use std::os::unix::net::UnixListener;

use crate::support::console::{read_until, receive_master};
use crate::support::{json, Bundle, Container, Runtime};

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
    let server = std::thread::spawn(move || receive_master(&listener));
    let c = Container::create_with(
        &rt,
        &bundle,
        "console",
        &["--console-socket", socket.to_str().unwrap()],
    );
    let mut pty = server.join().expect("console server");
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

/// The terminal belongs to the process's user: its uid, and the group devpts gave it (the
/// mount's gid=5), as runc leaves it; for the container's process and for `exec -t --user`.
#[test]
fn terminal_is_owned_by_the_processs_user() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("console-owner");
    bundle.edit(|s| {
        s["process"]["terminal"] = json!(true);
        s["process"]["user"] = json!({"uid": 1000, "gid": 1000});
        s["process"]["args"] = json!(["sh"]);
    });
    let socket = bundle.path().join("console.sock");
    let listener = UnixListener::bind(&socket).expect("bind console socket");
    let sock_s = socket.to_str().unwrap().to_owned();
    let c = std::thread::scope(|s| {
        let server = s.spawn(|| receive_master(&listener));
        let c = Container::create_with(
            &rt,
            &bundle,
            "console-owner",
            &["--console-socket", &sock_s],
        );
        let mut pty = server.join().expect("console server");
        c.start().success();
        pty.write_all(
            b"ls -ln $(tty) | while read m l u g r; do echo owner=$u:$g:$((6*7)); done\n",
        )
        .unwrap();
        let seen = read_until(&mut pty, ":42");
        assert!(seen.contains("owner=1000:5:42"), "{seen:?}");
        // Kept open: the shell would get SIGHUP when the master closes.
        (c, pty)
    });
    let (c, _first_pty) = c;
    std::thread::scope(|s| {
        let server = s.spawn(|| receive_master(&listener));
        rt.cmd(&[
            "exec",
            "-t",
            "-d",
            "--console-socket",
            &sock_s,
            "--user",
            "2000:2000",
            &c.id,
            "sh",
        ])
        .success();
        let mut pty = server.join().expect("console server");
        pty.write_all(
            b"ls -ln $(tty) | while read m l u g r; do echo owner=$u:$g:$((6*7)); done\n",
        )
        .unwrap();
        let seen = read_until(&mut pty, ":42");
        assert!(seen.contains("owner=2000:5:42"), "{seen:?}");
        pty.write_all(b"exit\n").unwrap();
    });
    c.kill("KILL").success();
}
