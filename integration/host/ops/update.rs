//! `update` writes the cgroup files, keeps earlier updates' other values (in the files and in
//! the saved state), reads `-r -` from stdin, and refuses what the kernel refuses (naming the
//! file and value, container unchanged) and stopped containers.

use super::{cgroup_dir_of, running};
use crate::support::procfs::{offered, read};
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
        "--cpu-quota",
        "50000",
        "--cpu-period",
        "200000",
        "--cpuset-mems",
        "0",
        &c.id,
    ])
    .success();
    let expect = [
        ("memory", "memory.limit_in_bytes", "209715200"),
        ("memory", "memory.soft_limit_in_bytes", "104857600"),
        ("cpu", "cpu.cfs_quota_us", "50000"),
        ("cpu", "cpu.cfs_period_us", "200000"),
        ("cpuset", "cpuset.mems", "0"),
    ];
    for (controller, name, value) in expect {
        assert_eq!(file(&c, controller, name), value, "{name}");
    }
}

/// The flags whose files are optional kernel features (swap accounting, realtime groups, a
/// weight-capable I/O scheduler): each lands in the file the kernel offers (BFQ's weight
/// before blkio.weight, as runc), or is refused naming the file(s) it lacks, changing nothing.
#[test]
fn update_flags_for_optional_kernel_features_apply_or_name_the_missing_file() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-update-opt");
    let c = running(&rt, &bundle, "ops-update-opt", "sleep 1000");
    rt.cmd(&["update", "--memory", "200m", &c.id]).success();
    let cases: [(&[&str], &str, &[&str], &str); 3] = [
        (
            &["--memory-swap", "300m"],
            "memory",
            &["memory.memsw.limit_in_bytes"],
            "314572800",
        ),
        (
            &["--cpu-rt-period", "1000000", "--cpu-rt-runtime", "10000"],
            "cpu",
            &["cpu.rt_runtime_us"],
            "10000",
        ),
        (
            &["--blkio-weight", "500"],
            "blkio",
            &["blkio.bfq.weight", "blkio.weight"],
            "500",
        ),
    ];
    for (flags, controller, files, value) in cases {
        let dir = cgroup_dir_of(&c, controller);
        let args: Vec<&str> = std::iter::once("update")
            .chain(flags.iter().copied())
            .chain([c.id.as_str()])
            .collect();
        let out = rt.cmd(&args);
        match offered(&dir, files) {
            Some(name) => {
                out.success();
                assert_eq!(file(&c, controller, name), value, "{flags:?}");
            }
            None => {
                let line = out.failure().one_line_error();
                for name in files {
                    assert!(line.contains(name), "{flags:?}: {line}");
                }
                assert!(line.contains("does not exist"), "{flags:?}: {line}");
            }
        }
    }
    if offered(
        &cgroup_dir_of(&c, "memory"),
        &["memory.memsw.limit_in_bytes"],
    )
    .is_some()
    {
        // -1 lifts the swap limit again.
        rt.cmd(&["update", "--memory-swap", "-1", &c.id]).success();
        assert_eq!(
            file(&c, "memory", "memory.memsw.limit_in_bytes"),
            "9223372036854771712"
        );
    }
    assert_eq!(file(&c, "memory", "memory.limit_in_bytes"), "209715200");
}

/// pids.max is written before blkio, whose weight the kernel refuses: out of range (10..1000)
/// where a weight file exists, no such file where none does. Either way the pids limit is
/// undone, the weight file (if any) keeps its value, and the undo writes nothing the kernel
/// lacks (no warning: the error is the only line).
#[test]
fn a_refused_update_undoes_its_own_earlier_writes() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-update-undo");
    let c = running(&rt, &bundle, "ops-update-undo", "sleep 1000");
    let blkio = cgroup_dir_of(&c, "blkio");
    let weight_file = offered(&blkio, &["blkio.bfq.weight", "blkio.weight"]);
    let weight_before = weight_file.map(|f| file(&c, "blkio", f));
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
    assert_eq!(weight_file.map(|f| file(&c, "blkio", f)), weight_before);
    assert!(saved_resources(&rt, &c.id)
        .get("pids")
        .is_none_or(|p| p.is_null()));
}

/// containerd's CRI sends the full resources, device rules included, on every update: as with
/// runc's update they are accepted and the container's device policy stays as created (in
/// the cgroup and in the saved state).
#[test]
fn update_keeps_the_device_rules_of_create() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-update-dev");
    let c = running(&rt, &bundle, "ops-update-dev", "sleep 1000");
    let list = || file(&c, "devices", "devices.list");
    let before = list();
    let saved_before = saved_resources(&rt, &c.id)["devices"].clone();
    let all = r#"{"devices": [{"allow": true, "access": "rwm"}], "pids": {"limit": 30}}"#;
    rt.cmd_stdin(&["update", "-r", "-", &c.id], Some(all))
        .success();
    assert_eq!(file(&c, "pids", "pids.max"), "30");
    assert_eq!(list(), before, "device rules changed by update");
    assert_eq!(saved_resources(&rt, &c.id)["devices"], saved_before);
}
