//! create → start → stopped → delete, `run` with exit codes and `--detach`, kill, pid files.

use crate::support::procfs::{self, controller_dir, proc_cgroup};
use crate::support::{run_container, sh, unique_name, Bundle, Container, Runtime};

/// A container process that runs until killed, as PID 1 of its pid namespace.
const FOREVER: &[&str] = &["sh", "-c", "while :; do sleep 1; done"];

#[test]
fn create_start_stop_delete() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("lifecycle");
    bundle.args(FOREVER);
    let c = Container::create(&rt, &bundle, "lifecycle");
    assert_eq!(c.status(), "created");
    assert!(
        procfs::pid_alive(c.pid),
        "init {} is not alive after create",
        c.pid
    );
    assert!(rt.state_dir(&c.id).is_dir());
    c.start().success();
    assert_eq!(c.status(), "running");
    c.kill("KILL").success();
    c.wait_stopped();
    c.delete().success();
}

#[test]
fn created_init_has_not_run_the_process_yet() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("not-yet");
    bundle.args(&["sleep", "1000"]);
    let c = Container::create(&rt, &bundle, "not-yet");
    // Until start, the init waits on the exec FIFO: it must not have exec'ed `sleep` yet.
    let cmdline = procfs::read(format!("/proc/{}/cmdline", c.pid));
    assert!(
        !cmdline.starts_with("sleep"),
        "process ran before start: {cmdline:?}"
    );
    c.start().success();
    // start returns once the FIFO is released; the exec itself follows asynchronously.
    let exec_seen = procfs::wait_until(|| {
        procfs::read(format!("/proc/{}/cmdline", c.pid)).starts_with("sleep\0")
    });
    assert!(exec_seen, "init never exec'ed the process");
}

#[test]
fn process_exit_makes_status_stopped() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("exits");
    bundle.args(&["true"]);
    let c = Container::create(&rt, &bundle, "exits");
    c.start().success();
    c.wait_stopped();
    c.delete().success();
}

#[test]
fn run_propagates_exit_code() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("exitcode");
    bundle.args(&["sh", "-c", "exit 3"]);
    run_container(&rt, &bundle, "exitcode").exit(3);
    bundle.args(&["true"]);
    run_container(&rt, &bundle, "exitcode").exit(0);
}

#[test]
fn run_uses_callers_stdio() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("stdio");
    let out = sh(&rt, &bundle, "echo to-stdout; echo to-stderr >&2");
    assert_eq!(out.trim(), "to-stdout");
    bundle.args(&["sh", "-c", "echo to-stderr >&2"]);
    let out = run_container(&rt, &bundle, "stdio").success();
    assert!(out.stderr.contains("to-stderr"), "{out}");
}

#[test]
fn run_detach_leaves_it_running() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("detach");
    bundle.args(FOREVER);
    let id = unique_name("detach");
    let out = rt.cmd(&["run", "--detach", "--bundle", bundle.path_str(), &id]);
    let c = Container::adopt(&rt, &id);
    out.success();
    assert_eq!(c.status(), "running");
    assert!(procfs::pid_alive(c.pid));
}

#[test]
fn kill_by_name_and_number() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("kill");
    // PID 1 of a pid namespace ignores signals it has no handler for, so trap them, and say
    // when the trap is set (a signal sent before that would be lost).
    bundle.args(&[
        "sh",
        "-c",
        "trap 'exit 0' TERM USR1; touch /dev/shm/trapped; while :; do sleep 0.1; done",
    ]);
    for signal in ["TERM", "SIGTERM", "15", "10", "KILL", "9"] {
        let c = Container::create(&rt, &bundle, "kill");
        c.start().success();
        let marker = format!("/proc/{}/root/dev/shm/trapped", c.pid);
        let trapped = procfs::wait_until(|| std::path::Path::new(&marker).exists());
        assert!(trapped, "the container's shell never set its trap");
        c.kill(signal).success();
        c.wait_stopped();
        c.delete().success();
    }
}

#[test]
fn kill_unknown_signal_fails() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("badsig");
    bundle.args(FOREVER);
    let c = Container::create(&rt, &bundle, "badsig");
    c.start().success();
    c.kill("NOSUCHSIGNAL").failure();
    assert_eq!(c.status(), "running");
}

#[test]
fn kill_all_reaches_every_process() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("killall");
    bundle.args(&[
        "sh",
        "-c",
        "sleep 1000 & sleep 1000 & while :; do sleep 1; done",
    ]);
    let c = Container::create(&rt, &bundle, "killall");
    c.start().success();
    let pids_cgroup = proc_cgroup(c.pid)
        .into_iter()
        .find(|e| e.controllers == "pids");
    let procs_file =
        controller_dir("pids", &pids_cgroup.expect("pids cgroup").path).join("cgroup.procs");
    let pids = wait_for_procs(&procs_file, 3);
    rt.cmd(&["kill", "--all", &c.id, "KILL"]).success();
    for pid in pids {
        assert!(procfs::wait_pid_gone(pid), "pid {pid} survived kill --all");
    }
    c.wait_stopped();
}

fn wait_for_procs(procs_file: &std::path::Path, count: usize) -> Vec<i32> {
    let pids = || -> Vec<i32> {
        let text = procfs::read(procs_file);
        text.lines().filter_map(|l| l.parse().ok()).collect()
    };
    let filled = procfs::wait_until(|| pids().len() >= count);
    assert!(filled, "{procs_file:?} never held {count} processes");
    pids()
}

#[test]
fn pid_file_holds_the_init_pid() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("pidfile");
    bundle.args(FOREVER);
    let pid_file = bundle.path().join("init.pid");
    let c = Container::create_with(
        &rt,
        &bundle,
        "pidfile",
        &["--pid-file", pid_file.to_str().unwrap()],
    );
    assert_eq!(procfs::read(&pid_file).trim(), c.pid.to_string());
}

#[test]
fn start_twice_fails() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("start2");
    bundle.args(FOREVER);
    let c = Container::create(&rt, &bundle, "start2");
    c.start().success();
    c.start().failure();
    assert_eq!(c.status(), "running");
}

#[test]
fn delete_running_needs_force() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("delrun");
    bundle.args(FOREVER);
    let c = Container::create(&rt, &bundle, "delrun");
    c.start().success();
    rt.cmd(&["delete", &c.id]).failure();
    assert_eq!(c.status(), "running");
    // The guard's Drop runs `delete --force` and checks that it removed everything.
}

#[test]
fn commands_on_unknown_container_fail() {
    let rt = Runtime::new();
    for args in [
        &["state", "nosuch"][..],
        &["start", "nosuch"],
        &["kill", "nosuch", "KILL"],
        &["delete", "nosuch"],
    ] {
        rt.cmd(args).failure();
    }
}

#[test]
fn run_keep_leaves_a_stopped_container() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("keep");
    bundle.args(&["true"]);
    let id = unique_name("keep");
    let out = rt.cmd(&["run", "--keep", "--bundle", bundle.path_str(), &id]);
    let c = Container::adopt(&rt, &id);
    out.success();
    assert_eq!(c.status(), "stopped");
    c.delete().success();
}

#[test]
fn kill_a_created_container() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("kill-created");
    bundle.args(FOREVER);
    let c = Container::create(&rt, &bundle, "kill-created");
    c.kill("KILL").success();
    c.wait_stopped();
    c.delete().success();
}

#[test]
fn concurrent_creates_of_one_id() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("race");
    bundle.args(FOREVER);
    let id = unique_name("race");
    let outs: Vec<crate::support::Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| rt.cmd(&["create", "--bundle", bundle.path_str(), &id])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners = outs.iter().filter(|o| o.code == Some(0)).count();
    // Inits of losers that wrongly succeeded share the winner's id and cgroups: kill them
    // (they are this test's own) before anything can panic.
    let state = rt.cmd(&["state", &id]);
    let keep = if state.code == Some(0) {
        state.json()["pid"].as_i64().unwrap_or(0) as i32
    } else {
        0
    };
    let leaked = crate::support::leftovers::kill_leaked_inits(&bundle.rootfs(), keep);
    if state.code != Some(0) {
        // No guard can take charge: remove the cgroups the lost containers left, then fail.
        for dir in crate::support::procfs::find_cgroup_dirs_named(&id) {
            let _ = std::fs::remove_dir(dir);
        }
        panic!(
            "state unreadable after concurrent creates (killed {leaked:?}):\n{state}\n{outs:#?}"
        );
    }
    let c = Container::adopt(&rt, &id);
    assert_eq!(
        winners, 1,
        "exactly one create may win (killed {leaked:?}): {outs:#?}"
    );
    assert!(
        leaked.is_empty(),
        "inits outside the state file: {leaked:?}"
    );
    for out in outs.iter().filter(|o| o.code != Some(0)) {
        assert_eq!(out.code, Some(1), "{out}");
    }
    assert_eq!(c.status(), "created");
}

/// The runtime-spec requires `process` only for `start`: `create` accepts a config without
/// one (as the newest crun), `start` refuses it with a clear one-line error and the container
/// stays created until delete, which leaves nothing.
#[test]
fn config_without_process_is_created_but_not_started() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("no-process");
    bundle.edit(|s| {
        s.as_object_mut().unwrap().remove("process");
    });
    let c = Container::create(&rt, &bundle, "no-process");
    assert_eq!(c.status(), "created");
    let out = c.start().failure();
    let line = out.one_line_error();
    assert!(line.contains("no \\\"process\\\""), "{line}");
    assert_eq!(c.status(), "created");
    c.delete().success();
}
