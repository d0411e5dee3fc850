//! Bad exec input: a clear one-line error with runc's "exec failed:" prefix, exit 255 as
//! runc's (so a caller tells it from the process's own status), and the container unchanged
//! (still running, nothing new in its cgroup).

use super::{cgroup_procs, running};
use crate::support::{Bundle, Container, Runtime};

fn refused(rt: &Runtime, args: &[&str], needles: &[&str]) {
    let out = rt.cmd(args).exec_failure();
    let line = out.one_line_error();
    for needle in needles {
        assert!(line.contains(needle), "error lacks {needle:?}: {line}");
    }
}

fn unchanged(c: &Container) {
    assert_eq!(c.status(), "running");
    assert_eq!(
        cgroup_procs(c, "pids"),
        [c.pid as i64],
        "nothing joined the cgroup"
    );
}

#[test]
fn exec_into_a_missing_container() {
    let rt = Runtime::new();
    refused(
        &rt,
        &["exec", "ops-missing", "true"],
        &["exec failed:", "does not exist"],
    );
}

#[test]
fn exec_into_a_stopped_container() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-ref-stopped");
    let c = running(&rt, &bundle, "ops-ref-stopped", "true");
    c.wait_stopped();
    refused(
        &rt,
        &["exec", &c.id, "true"],
        &["exec failed: cannot exec in a stopped container"],
    );
}

#[test]
fn exec_with_bad_process_json_or_flags() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-ref-input");
    let c = running(&rt, &bundle, "ops-ref-input", "sleep 1000");
    let bad = bundle.path().join("bad.json");
    std::fs::write(&bad, "{\"args\": [\"true\"").unwrap();
    let bad_s = bad.to_str().unwrap();
    refused(
        &rt,
        &["exec", "-p", bad_s, &c.id],
        &["exec failed:", "parsing process", bad_s],
    );
    let no_args = bundle.path().join("noargs.json");
    std::fs::write(&no_args, r#"{"cwd": "/", "user": {"uid": 0, "gid": 0}}"#).unwrap();
    refused(
        &rt,
        &["exec", "-p", no_args.to_str().unwrap(), &c.id],
        &["process args cannot be empty"],
    );
    refused(&rt, &["exec", &c.id], &["process args cannot be empty"]);
    refused(
        &rt,
        &["exec", &c.id, "/no/such/binary"],
        &["exec failed:", "/no/such/binary"],
    );
    refused(
        &rt,
        &["exec", "--user", "nobody", &c.id, "true"],
        &["--user", "nobody"],
    );
    refused(
        &rt,
        &["exec", "--cap", "CAP_NOPE", &c.id, "true"],
        &["CAP_NOPE"],
    );
    refused(
        &rt,
        &["exec", "-t", "-d", &c.id, "sh"],
        &["cannot allocate tty", "console socket"],
    );
    // This host runs neither AppArmor nor SELinux: a requested label is an error, not ignored.
    refused(
        &rt,
        &["exec", "--apparmor", "ops", &c.id, "true"],
        &["apparmor", r#"\"ops\""#, "apparmor is not enabled"],
    );
    refused(
        &rt,
        &["exec", "--process-label", "system_u:x", &c.id, "true"],
        &["selinux", "disabled"],
    );
    unchanged(&c);
}

#[test]
fn kill_with_an_unknown_signal() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-ref-signal");
    let c = running(&rt, &bundle, "ops-ref-signal", "sleep 1000");
    let out = rt.cmd(&["kill", &c.id, "SIGNOPE"]).failure();
    assert!(out.one_line_error().contains("SIGNOPE"), "{out}");
    unchanged(&c);
}
