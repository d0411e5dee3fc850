//! SCMP_ACT_NOTIFY with a small agent written for the tests: it receives the listener as runc
//! sends it (the container process state JSON, the fd in SCM_RIGHTS) and answers each mkdir
//! with an errno of its choosing; when it dies, notified syscalls fail with ENOSYS. A
//! listenerPath that cannot work is refused before the container runs.

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::thread::JoinHandle;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

use super::{one_rule, outcome, probe_bundle, results, ENOSYS};
use crate::support::{
    assert_no_leftovers, create_must_fail, json, unique_name, Bundle, Runtime, Value,
};

/// `_IOWR('!', 0, struct seccomp_notif)` and `_IOWR('!', 1, struct seccomp_notif_resp)`.
const NOTIF_RECV: u64 = 0xc050_2100;
const NOTIF_SEND: u64 = 0xc018_2101;
const X86_64_MKDIR: i32 = 83;

/// struct seccomp_notif: id, pid, flags, then seccomp_data (nr, arch, ip, args).
#[repr(C)]
#[derive(Default)]
struct Notif {
    id: u64,
    pid: u32,
    flags: u32,
    nr: i32,
    arch: u32,
    ip: u64,
    args: [u64; 6],
}

#[repr(C)]
struct Resp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

/// What the agent got with the listener, and the syscall numbers it answered.
struct Seen {
    message: Value,
    fds: Vec<String>,
    answered: Vec<i32>,
}

/// Accepts one connection at `sock`; answers `answers` notifications with errno 100, 101, …,
/// then drops the listener (the agent "dies").
fn agent(sock: &Path, answers: usize) -> JoinHandle<Seen> {
    let listener = UnixListener::bind(sock).unwrap();
    std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let (message, fd) = receive(conn.as_raw_fd());
        let mut answered = Vec::new();
        for i in 0..answers {
            let mut n = Notif::default();
            // SAFETY: `n` is a seccomp_notif-sized buffer the ioctl fills.
            let rc = unsafe { libc::ioctl(fd.as_raw_fd(), NOTIF_RECV as _, &mut n) };
            assert_eq!(rc, 0, "NOTIF_RECV: {}", std::io::Error::last_os_error());
            answered.push(n.nr);
            let resp = Resp {
                id: n.id,
                val: 0,
                error: -(100 + i as i32),
                flags: 0,
            };
            // SAFETY: `resp` is a seccomp_notif_resp the ioctl reads.
            let rc = unsafe { libc::ioctl(fd.as_raw_fd(), NOTIF_SEND as _, &resp) };
            assert_eq!(rc, 0, "NOTIF_SEND: {}", std::io::Error::last_os_error());
        }
        let fds = message["fds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect();
        Seen {
            message,
            fds,
            answered,
        }
    })
}

fn receive(sock: RawFd) -> (Value, OwnedFd) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut cmsg = nix::cmsg_space!(RawFd);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut cmsg), MsgFlags::empty()).unwrap();
    let mut fd = None;
    for c in msg.cmsgs().unwrap() {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: a new fd received with SCM_RIGHTS, owned by nobody else.
            fd = Some(unsafe { OwnedFd::from_raw_fd(fds[0]) });
        }
    }
    let n = msg.bytes;
    (
        serde_json::from_slice(&buf[..n]).unwrap(),
        fd.expect("listener fd in SCM_RIGHTS"),
    )
}

fn notify_mkdir(sock: &Path) -> Value {
    let mut profile = one_rule(json!({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}));
    profile["listenerPath"] = sock.to_str().unwrap().into();
    profile["listenerMetadata"] = "answers mkdir".into();
    profile["flags"] = json!(["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]);
    profile
}

#[test]
fn agent_answers_mkdir_then_dies() {
    let rt = Runtime::new();
    let scratch = crate::support::Scratch::new("agent");
    let sock = scratch.path().join("agent.sock");
    let bundle = probe_bundle("notify", notify_mkdir(&sock));
    bundle.args(&["probe", "mkdir:/a", "mkdir:/b", "x64:39", "mkdir:/c"]);
    let seen = agent(&sock, 2);
    let id = unique_name("notify");
    let out = rt
        .cmd(&["run", "--bundle", bundle.path_str(), &id])
        .success();
    let seen = seen.join().unwrap();
    let res = results(&out.stdout);
    assert_eq!(outcome(&res, "mkdir:/a"), "errno 100", "the agent's answer");
    assert_eq!(outcome(&res, "mkdir:/b"), "errno 101");
    assert_eq!(outcome(&res, "x64:39"), "ok");
    assert_eq!(
        outcome(&res, "mkdir:/c"),
        ENOSYS,
        "after the agent closed the listener"
    );
    assert_eq!(seen.answered, [X86_64_MKDIR, X86_64_MKDIR]);
    // runc's ContainerProcessState.
    let m = &seen.message;
    assert_eq!(seen.fds, ["seccompFd"]);
    assert_eq!(m["metadata"], "answers mkdir");
    assert!(m["pid"].as_i64().unwrap() > 0, "{m}");
    assert_eq!(m["state"]["id"], id.as_str(), "{m}");
    assert_eq!(m["state"]["pid"], m["pid"], "{m}");
    assert_eq!(m["state"]["status"], "creating", "{m}");
    assert_eq!(m["state"]["bundle"], bundle.path_str(), "{m}");
    assert_eq!(m["ociVersion"], m["state"]["ociVersion"], "{m}");
}

/// Each `exec` process has its own filter and listener, sent to the agent with its own pid.
#[test]
fn exec_hands_its_own_listener_to_the_agent() {
    let rt = Runtime::new();
    let scratch = crate::support::Scratch::new("agent-exec");
    let sock = scratch.path().join("agent.sock");
    let bundle = probe_bundle("notify-exec", notify_mkdir(&sock));
    bundle.args(&["sleep", "1000"]);
    let for_init = agent(&sock, 0);
    let c = crate::support::Container::create(&rt, &bundle, "notify-exec");
    for_init.join().unwrap();
    std::fs::remove_file(&sock).unwrap();
    let for_exec = agent(&sock, 1);
    let out = rt.cmd(&["exec", &c.id, "probe", "mkdir:/x"]).success();
    let seen = for_exec.join().unwrap();
    assert_eq!(outcome(&results(&out.stdout), "mkdir:/x"), "errno 100");
    assert_ne!(
        seen.message["pid"], c.pid,
        "the exec'd process, not the init"
    );
    assert_eq!(seen.message["state"]["id"], c.id.as_str());
}

#[test]
fn unusable_listener_paths_are_refused_before_the_container_runs() {
    let rt = Runtime::new();
    let scratch = crate::support::Scratch::new("agent-bad");
    let file = scratch.path().join("file");
    std::fs::write(&file, "").unwrap();
    // A socket file nobody listens on: bound, then closed.
    let dead = scratch.path().join("dead.sock");
    drop(UnixListener::bind(&dead).unwrap());
    let cases: [(Option<&str>, &str); 5] = [
        (None, "linux.seccomp.listenerPath must be set"),
        (Some(""), "linux.seccomp.listenerPath must be set"),
        (Some("@abstract-agent"), "abstract"),
        (Some(file.to_str().unwrap()), "is not a unix socket"),
        (
            Some(dead.to_str().unwrap()),
            "connecting to the seccomp agent",
        ),
    ];
    for (path, needle) in cases {
        let bundle = Bundle::busybox("notify-bad");
        let mut profile = notify_mkdir(Path::new("/"));
        match path {
            Some(p) => profile["listenerPath"] = p.into(),
            None => drop(profile.as_object_mut().unwrap().remove("listenerPath")),
        }
        bundle.edit(|s| s["linux"]["seccomp"] = profile);
        let id = unique_name("notify-bad");
        let out = create_must_fail(&rt, bundle.path_str(), &id).failure();
        assert!(
            out.one_line_error().contains(needle),
            "{path:?}: {needle}\n{out}"
        );
        assert_no_leftovers(&rt, &id, &bundle);
    }
    let missing = scratch.path().join("missing.sock");
    let bundle = Bundle::busybox("notify-missing");
    let mut profile = notify_mkdir(&missing);
    profile["listenerMetadata"] = Value::Null;
    bundle.edit(|s| s["linux"]["seccomp"] = profile);
    let id = unique_name("notify-missing");
    let out = create_must_fail(&rt, bundle.path_str(), &id).failure();
    assert!(out.one_line_error().contains("listenerPath"), "{out}");
    assert_no_leftovers(&rt, &id, &bundle);
}
