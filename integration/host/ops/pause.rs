//! pause freezes every process (freezer.state FROZEN; on this v1 freezer a frozen task shows
//! State D in /proc/PID/status) and `state`/`list` say paused; resume thaws them all.

use super::{cgroup_dir_of, cgroup_procs, proc_state, running, wait_until};
use crate::support::procfs::read;
use crate::support::{Bundle, Container, Runtime};

fn list_status(rt: &Runtime, id: &str) -> String {
    let out = rt.cmd(&["list", "--format", "json"]).success();
    let all = out.json();
    let entry = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .cloned();
    entry.unwrap_or_else(|| panic!("{id} not listed:\n{out}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn pause_freezes_every_process_and_resume_thaws() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-pause");
    let c = running(&rt, &bundle, "ops-pause", "sleep 1000 & sleep 1000");
    wait_until("both sleeps in the cgroup", || {
        cgroup_procs(&c, "pids").len() == 2
    });
    let freezer = cgroup_dir_of(&c, "freezer").join("freezer.state");
    rt.cmd(&["pause", &c.id]).success();
    assert_eq!(read(&freezer).trim(), "FROZEN");
    for pid in cgroup_procs(&c, "freezer") {
        assert_eq!(proc_state(pid), "D", "pid {pid} is frozen");
    }
    assert_eq!(c.status(), "paused");
    assert_eq!(list_status(&rt, &c.id), "paused");
    rt.cmd(&["resume", &c.id]).success();
    assert_eq!(read(&freezer).trim(), "THAWED");
    for pid in cgroup_procs(&c, "freezer") {
        assert_eq!(proc_state(pid), "S", "pid {pid} sleeps again");
    }
    assert_eq!(c.status(), "running");
    assert_eq!(list_status(&rt, &c.id), "running");
    let out = rt.cmd(&["resume", &c.id]).failure();
    assert!(out.stderr.contains("container not paused"), "{out}");
}

#[test]
fn a_created_container_can_be_paused() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-pause-created");
    bundle.args(&["sleep", "1000"]);
    let c = Container::create(&rt, &bundle, "ops-pause-created");
    rt.cmd(&["pause", &c.id]).success();
    assert_eq!(c.status(), "paused");
    rt.cmd(&["resume", &c.id]).success();
    assert_eq!(c.status(), "created");
}

#[test]
fn exec_into_a_paused_container_needs_ignore_paused() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-pause-exec");
    let c = running(&rt, &bundle, "ops-pause-exec", "sleep 1000");
    rt.cmd(&["pause", &c.id]).success();
    let out = rt.cmd(&["exec", &c.id, "true"]).exec_failure();
    assert!(
        out.stderr
            .contains("exec failed: cannot exec in a paused container"),
        "{out}"
    );
    assert_eq!(
        cgroup_procs(&c, "pids").len(),
        1,
        "nothing joined the cgroup"
    );
    // With --ignore-paused the process joins the frozen cgroup and runs once it is thawed.
    std::thread::scope(|s| {
        let exec = s.spawn(|| rt.cmd(&["exec", "--ignore-paused", &c.id, "sh", "-c", "exit 4"]));
        wait_until("the exec'd process in the frozen cgroup", || {
            cgroup_procs(&c, "pids").len() == 2
        });
        rt.cmd(&["resume", &c.id]).success();
        assert_eq!(exec.join().unwrap().code, Some(4));
    });
}

#[test]
fn pause_of_a_stopped_container_is_refused() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-pause-stopped");
    let c = running(&rt, &bundle, "ops-pause-stopped", "true");
    c.wait_stopped();
    let out = rt.cmd(&["pause", &c.id]).failure();
    assert!(out.stderr.contains("container not running"), "{out}");
}
