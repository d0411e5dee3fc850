//! `update` writes the cgroup files, keeps earlier updates' other values (in the files and in
//! the saved state), reads `-r -` from stdin, and refuses what the kernel refuses (naming the
//! file and value, container unchanged) and stopped containers.

use super::{cgroup_dir_of, running};
use crate::support::procfs::read;
use crate::support::{Bundle, Container, Runtime, Value};

fn file(c: &Container, controller: &str, name: &str) -> String {
    read(cgroup_dir_of(c, controller).join(name))
        .trim()
        .to_owned()
}

/// linux.resources as the runtime saved it for later commands.
fn saved_resources(rt: &Runtime, id: &str) -> Value {
    let text = read(rt.state_dir(id).join("state.json"));
    let state: Value = serde_json::from_str(&text).unwrap();
    state["config"]["linux"]["resources"].clone()
}

const MIB_100: &str = "104857600";

#[test]
fn update_changes_files_and_keeps_earlier_values() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-update");
    let c = running(&rt, &bundle, "ops-update", "sleep 1000");
    rt.cmd(&["update", "--memory", "100m", "--pids-limit", "50", &c.id])
        .success();
    assert_eq!(file(&c, "memory", "memory.limit_in_bytes"), MIB_100);
    assert_eq!(file(&c, "pids", "pids.max"), "50");
    rt.cmd(&["update", "--cpu-share", "512", "--cpuset-cpus", "0", &c.id])
        .success();
    assert_eq!(file(&c, "cpu", "cpu.shares"), "512");
    assert_eq!(file(&c, "cpuset", "cpuset.cpus"), "0");
    assert_eq!(
        file(&c, "memory", "memory.limit_in_bytes"),
        MIB_100,
        "first update kept"
    );
    assert_eq!(file(&c, "pids", "pids.max"), "50", "first update kept");
    rt.cmd_stdin(
        &["update", "-r", "-", &c.id],
        Some(r#"{"pids": {"limit": 60}}"#),
    )
    .success();
    assert_eq!(file(&c, "pids", "pids.max"), "60");
    assert_eq!(file(&c, "cpu", "cpu.shares"), "512");
    let saved = saved_resources(&rt, &c.id);
    assert_eq!(saved["memory"]["limit"], 104857600, "{saved}");
    assert_eq!(saved["cpu"]["shares"], 512, "{saved}");
    assert_eq!(saved["cpu"]["cpus"], "0", "{saved}");
    assert_eq!(saved["pids"]["limit"], 60, "{saved}");
}

#[test]
fn update_of_refused_values_names_file_and_value_and_changes_nothing() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-update-bad");
    let c = running(&rt, &bundle, "ops-update-bad", "sleep 1000");
    rt.cmd(&["update", "--memory", "100m", "--cpuset-cpus", "0", &c.id])
        .success();
    // Below the current usage: the kernel answers EBUSY.
    let out = rt.cmd(&["update", "--memory", "1", &c.id]).failure();
    let line = out.one_line_error();
    for needle in [
        "unable to apply cgroup configuration",
        "memory.limit_in_bytes",
        r#"\"1\""#,
    ] {
        assert!(line.contains(needle), "error lacks {needle:?}: {line}");
    }
    assert_eq!(file(&c, "memory", "memory.limit_in_bytes"), MIB_100);
    // A cpu this machine does not have.
    let out = rt
        .cmd(&["update", "--cpuset-cpus", "4095", &c.id])
        .failure();
    let line = out.one_line_error();
    for needle in [
        "unable to apply cgroup configuration",
        "cpuset.cpus",
        r#"\"4095\""#,
    ] {
        assert!(line.contains(needle), "error lacks {needle:?}: {line}");
    }
    assert_eq!(file(&c, "cpuset", "cpuset.cpus"), "0");
    let saved = saved_resources(&rt, &c.id);
    assert_eq!(saved["memory"]["limit"], 104857600, "{saved}");
    assert_eq!(saved["cpu"]["cpus"], "0", "{saved}");
    assert_eq!(c.status(), "running");
}

#[test]
fn update_of_bad_input_is_refused() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-update-input");
    let c = running(&rt, &bundle, "ops-update-input", "sleep 1000");
    let out = rt
        .cmd_stdin(&["update", "-r", "-", &c.id], Some("{not json"))
        .failure();
    assert!(out.stderr.contains("parsing resources"), "{out}");
    let out = rt.cmd(&["update", "--memory", "lots", &c.id]).failure();
    assert!(out.stderr.contains(r#"\"lots\""#), "{out}");
}

#[test]
fn update_of_a_stopped_container_is_refused() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-update-stopped");
    let c = running(&rt, &bundle, "ops-update-stopped", "true");
    c.wait_stopped();
    let out = rt.cmd(&["update", "--pids-limit", "10", &c.id]).failure();
    assert!(out.stderr.contains("container not running"), "{out}");
}

#[test]
fn update_takes_every_runc_resource_flag() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-update-all");
    let c = running(&rt, &bundle, "ops-update-all", "sleep 1000");
    rt.cmd(&[
        "update",
        "--memory",
        "200m",
        "--memory-reservation",
        "100m",
        "--memory-swap",
        "300m",
        "--cpu-quota",
        "50000",
        "--cpu-period",
        "200000",
        "--cpu-rt-period",
        "1000000",
        "--cpu-rt-runtime",
        "10000",
        "--blkio-weight",
        "500",
        "--cpuset-mems",
        "0",
        &c.id,
    ])
    .success();
    let expect = [
        ("memory", "memory.limit_in_bytes", "209715200"),
        ("memory", "memory.soft_limit_in_bytes", "104857600"),
        ("memory", "memory.memsw.limit_in_bytes", "314572800"),
        ("cpu", "cpu.cfs_quota_us", "50000"),
        ("cpu", "cpu.cfs_period_us", "200000"),
        ("cpu", "cpu.rt_period_us", "1000000"),
        ("cpu", "cpu.rt_runtime_us", "10000"),
        ("blkio", "blkio.bfq.weight", "500"),
        ("cpuset", "cpuset.mems", "0"),
    ];
    for (controller, name, value) in expect {
        assert_eq!(file(&c, controller, name), value, "{name}");
    }
    // -1 lifts the swap limit again.
    rt.cmd(&["update", "--memory-swap", "-1", &c.id]).success();
    assert_eq!(
        file(&c, "memory", "memory.memsw.limit_in_bytes"),
        "9223372036854771712"
    );
    assert_eq!(file(&c, "memory", "memory.limit_in_bytes"), "209715200");
}

#[test]
fn a_refused_update_undoes_its_own_earlier_writes() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-update-undo");
    let c = running(&rt, &bundle, "ops-update-undo", "sleep 1000");
    // pids.max is written before blkio, whose weight the kernel refuses (10..1000).
    let out = rt
        .cmd(&[
            "update",
            "--pids-limit",
            "20",
            "--blkio-weight",
            "5000",
            &c.id,
        ])
        .failure();
    assert!(out.one_line_error().contains("blkio"), "{out}");
    assert_eq!(
        file(&c, "pids", "pids.max"),
        "max",
        "the pids limit was undone"
    );
    assert_eq!(file(&c, "blkio", "blkio.bfq.weight"), "100");
    assert!(saved_resources(&rt, &c.id)
        .get("pids")
        .is_none_or(|p| p.is_null()));
}
