//! Commands on a running container, all starting from the state file: exec, pause/resume,
//! ps, update and events, checked through what they change under /sys/fs/cgroup and /proc.

use crate::support::procfs::{cgroup_file, cgroup_of, ns_link};
use crate::support::{Bundle, Container, Runtime};

fn running<'a>(rt: &'a Runtime, bundle: &Bundle, name: &str) -> Container<'a> {
    bundle.args(&["sleep", "1000"]);
    let c = Container::create(rt, bundle, name);
    c.start().success();
    c
}

#[test]
fn exec_joins_namespaces_and_cgroups() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("exec");
    let c = running(&rt, &bundle, "exec");
    let script =
        "echo $$; hostname; cat /proc/self/cgroup; readlink /proc/self/ns/mnt; readlink /proc/self/ns/net";
    let out = rt
        .cmd(&["exec", &c.id, "sh", "-c", script])
        .success()
        .stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[1], "runc", "hostname inside: {out}");
    let init_cgroups = crate::support::procfs::read(format!("/proc/{}/cgroup", c.pid));
    for line in init_cgroups.lines() {
        assert!(
            lines.contains(&line),
            "exec'd process not in {line}:\n{out}"
        );
    }
    assert!(lines.contains(&ns_link(c.pid, "mnt").as_str()), "{out}");
    assert!(lines.contains(&ns_link(c.pid, "net").as_str()), "{out}");
}

#[test]
fn exec_propagates_exit_code_and_env() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("exec-code");
    let c = running(&rt, &bundle, "exec-code");
    rt.cmd(&["exec", &c.id, "sh", "-c", "exit 5"]).exit(5);
    let out = rt.cmd(&[
        "exec",
        "--env",
        "X=y z",
        "--cwd",
        "/tmp",
        &c.id,
        "sh",
        "-c",
        "echo \"$X\"; pwd",
    ]);
    assert_eq!(out.success().stdout, "y z\n/tmp\n");
}

#[test]
fn exec_in_stopped_container_fails() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("exec-stopped");
    bundle.args(&["true"]);
    let c = Container::create(&rt, &bundle, "exec-stopped");
    c.start().success();
    c.wait_stopped();
    // runc exits 255 when exec cannot start its process; any non-zero exit with an error.
    let out = rt.cmd(&["exec", &c.id, "true"]);
    assert!(
        matches!(out.code, Some(c) if c != 0),
        "exec succeeded:\n{out}"
    );
    assert!(!out.stderr.trim().is_empty(), "no error message:\n{out}");
}

#[test]
fn pause_and_resume_freeze_the_cgroup() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("pause");
    let c = running(&rt, &bundle, "pause");
    let freezer = cgroup_of(c.pid, "freezer").expect("freezer cgroup");
    rt.cmd(&["pause", &c.id]).success();
    assert_eq!(c.status(), "paused");
    assert_eq!(cgroup_file("freezer", &freezer, "freezer.state"), "FROZEN");
    rt.cmd(&["resume", &c.id]).success();
    assert_eq!(c.status(), "running");
    assert_eq!(cgroup_file("freezer", &freezer, "freezer.state"), "THAWED");
}

#[test]
fn ps_lists_container_processes() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ps");
    let c = running(&rt, &bundle, "ps");
    let pids = rt.cmd(&["ps", "--format", "json", &c.id]).success().json();
    let pids: Vec<i64> = pids
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p.as_i64())
        .collect();
    assert_eq!(pids, [c.pid as i64]);
}

#[test]
fn update_rewrites_cgroup_files() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("update");
    let c = running(&rt, &bundle, "update");
    let args = [
        "update",
        "--memory",
        "134217728",
        "--pids-limit",
        "77",
        "--cpu-share",
        "300",
    ];
    rt.cmd(&[&args[..], &[c.id.as_str()]].concat()).success();
    let path = |ctrl| cgroup_of(c.pid, ctrl).expect("cgroup");
    assert_eq!(
        cgroup_file("memory", &path("memory"), "memory.limit_in_bytes"),
        "134217728"
    );
    assert_eq!(cgroup_file("pids", &path("pids"), "pids.max"), "77");
    assert_eq!(cgroup_file("cpu", &path("cpu"), "cpu.shares"), "300");
}

#[test]
fn events_stats_report_the_cgroup() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("events");
    let c = running(&rt, &bundle, "events");
    let event = rt.cmd(&["events", "--stats", &c.id]).success().json();
    assert_eq!(event["type"], "stats");
    assert_eq!(event["id"], c.id.as_str());
    assert_eq!(event["data"]["pids"]["current"], 1, "{event}");
    let usage = event["data"]["memory"]["usage"]["usage"]
        .as_u64()
        .unwrap_or(0);
    let want: u64 = cgroup_file(
        "memory",
        &cgroup_of(c.pid, "memory").unwrap(),
        "memory.usage_in_bytes",
    )
    .parse()
    .unwrap();
    assert!(
        usage > 0 && usage <= want * 2,
        "memory usage {usage} vs file {want}: {event}"
    );
}
