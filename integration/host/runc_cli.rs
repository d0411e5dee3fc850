//! runc's command-line interface where wrappers and clients depend on its exact shape: global
//! flags given twice, the version text dockerd parses, `kill` with signal 0 and `--all` after
//! the init exited, `delete` right after a kill, and exec's exit statuses and partial
//! `--process` files. Each holds against runc 1.1.5 too (`SHOJI_RUNTIME=/usr/sbin/runc`),
//! except two by design: version_has_runcs_three_lines (1.1.5 has no `version` command, newer
//! runc does) and delete_right_after_kill_always_succeeds (runc has the race: an exiting init
//! reads as running for a moment, and delete refuses it about one time in twenty).

use crate::support::procfs::{pid_alive, wait_until};
use crate::support::{unique_name, Bundle, Container, Runtime};

/// A started container whose init is `sh -c SCRIPT`.
fn running<'a>(rt: &'a Runtime, bundle: &Bundle, name: &str, script: &str) -> Container<'a> {
    bundle.args(&["sh", "-c", script]);
    let c = Container::create(rt, bundle, name);
    c.start().success();
    c
}

/// The debug wrapper prepends `--debug --log X` to a client's own flags: the last one wins.
#[test]
fn global_flags_given_twice_take_the_last() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("cli-twice");
    let c = running(&rt, &bundle, "cli-twice", "sleep 1000");
    let first = bundle.path().join("first.log");
    let last = bundle.path().join("last.log");
    let other_root = bundle.path().join("other-root");
    let (first_s, last_s) = (first.to_str().unwrap(), last.to_str().unwrap());
    // The harness passes its own --root first; a second one names an empty root.
    let out = rt
        .cmd(&["--root", other_root.to_str().unwrap(), "list", "-q"])
        .success();
    assert_eq!(
        out.stdout.trim(),
        "",
        "the second --root was not used:\n{out}"
    );
    let out = rt.cmd(&["list", "-q"]).success();
    assert_eq!(out.stdout.trim(), c.id);
    let global = [
        "--debug",
        "--log",
        first_s,
        "--log-format",
        "text",
        "--log",
        last_s,
        "--log-format",
        "json",
        "--debug",
    ];
    rt.cmd_global(&global, &["kill", "no-such-container", "KILL"])
        .failure();
    assert!(!first.exists(), "the first --log was written");
    let text = std::fs::read_to_string(&last).expect("the last --log is written");
    let error = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["level"] == "error");
    assert!(
        error.is_some(),
        "no JSON error line (last --log-format):\n{text}"
    );
}

/// dockerd takes the runtime name and version from the line containing "version" and the
/// commit from the line starting "commit:" (`docker info` shows N/A otherwise).
#[test]
fn version_has_runcs_three_lines() {
    let rt = Runtime::new();
    for args in [&["--version"][..], &["-v"], &["version"]] {
        let out = rt.cmd(args).success();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(lines.len() >= 3, "{args:?}:\n{out}");
        let (name, version) = lines[0].split_once(" version ").expect("a version line");
        assert_eq!(name, rt.name(), "{args:?}: {}", lines[0]);
        let numbers: Vec<&str> = version.split(['.', '+', '-']).take(3).collect();
        assert!(
            numbers.iter().all(|n| n.parse::<u32>().is_ok()),
            "{args:?}: version {version:?}"
        );
        let commit = lines[1].strip_prefix("commit: ").expect("a commit line");
        assert!(!commit.trim().is_empty(), "{args:?}: {}", lines[1]);
        let spec = lines[2].strip_prefix("spec: ").expect("a spec line");
        assert!(spec.starts_with("1."), "{args:?}: spec {spec:?}");
        let with_version = lines.iter().filter(|l| l.contains("version")).count();
        assert_eq!(
            with_version, 1,
            "dockerd keys on the one 'version' line:\n{out}"
        );
    }
}

/// Signal 0 is a liveness check: accepted for the init and with --all, nothing is delivered.
#[test]
fn kill_with_signal_zero_checks_liveness() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("cli-kill0");
    let c = running(&rt, &bundle, "cli-kill0", "sleep 1000");
    rt.cmd(&["kill", &c.id, "0"]).success();
    rt.cmd(&["kill", "--all", &c.id, "0"]).success();
    assert_eq!(c.status(), "running");
    assert!(pid_alive(c.pid));
    c.kill("KILL").success();
    c.wait_stopped();
    let out = rt.cmd(&["kill", &c.id, "0"]).failure();
    assert!(out.stderr.contains("container not running"), "{out}");
}

/// Without its own pid namespace (a pod sharing one), processes outlive the init. `kill --all`
/// still reaches them after the init exited, and returns 0 (containerd sends it so).
#[test]
fn kill_all_signals_what_is_left_after_the_init_exited() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("cli-killall");
    bundle.edit(|s| {
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "pid");
    });
    let c = running(&rt, &bundle, "cli-killall", "sleep 1000 & exit 0");
    c.wait_stopped();
    let pids_dir = c
        .cgroup_dirs()
        .iter()
        .find(|d| d.starts_with("/sys/fs/cgroup/pids"))
        .expect("the init had a pids cgroup");
    let procs = std::fs::read_to_string(pids_dir.join("cgroup.procs")).unwrap();
    let left: Vec<i32> = procs.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(
        left.len(),
        1,
        "the background sleep outlived the init: {procs}"
    );
    let left = left[0];
    assert!(pid_alive(left));
    rt.cmd(&["kill", "--all", &c.id, "KILL"]).success();
    assert!(
        wait_until(|| !pid_alive(left)),
        "pid {left} survived kill --all"
    );
    // With nothing left in the cgroup it is a no-op, still 0.
    rt.cmd(&["kill", "--all", &c.id, "KILL"]).success();
    c.delete().success();
}

/// An init that was killed is stopped at once, zombie or not, so a delete right after the
/// kill never fails with "not stopped: running", and leaves no cgroup (checked by `delete`).
#[test]
fn delete_right_after_kill_always_succeeds() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("cli-killdel");
    bundle.args(&["sleep", "1000"]);
    for _ in 0..50 {
        let c = Container::create(&rt, &bundle, "cli-killdel");
        c.start().success();
        c.kill("KILL").success();
        c.delete().success();
    }
}

/// exec: the process's own status passes through; a runtime error exits 255, as runc.
#[test]
fn exec_passes_the_status_through_and_fails_with_255() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("cli-exec255");
    let c = running(&rt, &bundle, "cli-exec255", "sleep 1000");
    rt.cmd(&["exec", &c.id, "sh", "-c", "exit 7"]).exit(7);
    rt.cmd(&["exec", &c.id, "sh", "-c", "kill -TERM $$"])
        .exit(128 + 15);
    let bad_dir = bundle.path().join("no-such-dir/pid");
    rt.cmd(&[
        "exec",
        "--pid-file",
        bad_dir.to_str().unwrap(),
        &c.id,
        "true",
    ])
    .exec_failure();
    rt.cmd(&["pause", &c.id]).success();
    rt.cmd(&["exec", &c.id, "true"]).exec_failure();
    rt.cmd(&["resume", &c.id]).success();
    c.kill("KILL").success();
    c.wait_stopped();
    rt.cmd(&["exec", &c.id, "true"]).exec_failure();
    rt.cmd(&["exec", &unique_name("no-such"), "true"])
        .exec_failure();
}

/// `exec -p` takes a partial process as runc: no `user` is 0:0, no env is an empty one (not
/// the container's).
#[test]
fn exec_process_file_may_be_partial() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("cli-partial");
    let c = running(&rt, &bundle, "cli-partial", "sleep 1000");
    let file = bundle.path().join("process.json");
    std::fs::write(
        &file,
        r#"{"args": ["/bin/sh", "-c", "id -u; id -g; echo ${TERM:-unset}"], "cwd": "/"}"#,
    )
    .unwrap();
    let out = rt
        .cmd(&["exec", "-p", file.to_str().unwrap(), &c.id])
        .success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines, ["0", "0", "unset"], "{out}");
}
