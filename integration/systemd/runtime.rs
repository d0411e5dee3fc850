//! The shoji binary with `--systemd-cgroup` in the sandbox, end to end: where a container
//! lands, its limits, `systemctl show`, what delete leaves, and the errors a user gets.
use std::path::Path;

use crate::driver::{
    assert_gone, assert_shows, read, K8S_CGROUP, K8S_PATH, K8S_UNIT, SHOJI_JOINED, SYSTEMD_MADE,
};
use crate::support::{assert_no_leftovers, json, unique_name, Bundle, Container, Runtime};
use crate::{in_sandbox, k8s_lock};

const SYSTEMD: &str = "--systemd-cgroup";

/// A busybox bundle running `args` in `cgroups_path` with memory, pids and cpu limits.
fn bundle(name: &str, cgroups_path: &str, args: &[&str]) -> Bundle {
    let b = Bundle::busybox(name);
    b.args(args).edit(|s| {
        s["linux"]["cgroupsPath"] = json!(cgroups_path);
        s["linux"]["resources"]["memory"] = json!({"limit": 104857600});
        s["linux"]["resources"]["pids"] = json!({"limit": 50});
        s["linux"]["resources"]["cpu"] = json!({"shares": 512});
    });
    b
}

/// The `controller:path` lines of /proc/PID/cgroup.
fn proc_cgroup(pid: i32) -> Vec<(String, String)> {
    read(&format!("/proc/{pid}/cgroup"))
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, c, p) = (f.next()?, f.next()?, f.next()?);
            Some((c.to_string(), p.to_string()))
        })
        .collect()
}

fn cgroup_of(pid: i32, controller: &str) -> String {
    proc_cgroup(pid)
        .into_iter()
        .find(|(c, _)| c.split(',').any(|c| c == controller))
        .unwrap_or_else(|| panic!("pid {pid} has no {controller} cgroup"))
        .1
}

#[test]
fn systemd_container_lands_in_nested_slices() {
    let _k8s = k8s_lock();
    in_sandbox("runtime::systemd_container_lands_in_nested_slices", || {
        let rt = Runtime::new();
        let b = bundle("k8s", K8S_PATH, &["sleep", "1000"]);
        let c = Container::create_with(&rt, &b, "k8s", &[SYSTEMD]);
        for h in [
            "name=systemd",
            "memory",
            "pids",
            "cpu",
            "devices",
            "cpuset",
            "freezer",
            "blkio",
            "cpuacct",
        ] {
            assert_eq!(cgroup_of(c.pid, h), K8S_CGROUP, "{h} cgroup of the init");
        }
        let file = |h: &str, f: &str| read(&format!("/sys/fs/cgroup/{h}{K8S_CGROUP}/{f}"));
        assert_eq!(file("memory", "memory.limit_in_bytes"), "104857600");
        assert_eq!(file("pids", "pids.max"), "50");
        assert_eq!(file("cpu", "cpu.shares"), "512");
        assert_shows(
            K8S_UNIT,
            &[
                "Delegate=yes",
                "MemoryLimit=104857600",
                "TasksMax=50",
                "CPUShares=512",
                "ActiveState=active",
            ],
        );
        // Later commands find the driver in the state, whatever flags they get.
        let saved = read(&rt.state_dir(&c.id).join("state.json").display().to_string());
        assert!(
            saved.contains("\"systemd\"") && saved.contains(K8S_UNIT),
            "{saved}"
        );
        c.start().success();
        assert_eq!(c.status(), "running");
        c.kill("KILL").success();
        c.wait_stopped();
        c.delete().success();
        assert_gone(K8S_UNIT, K8S_CGROUP);
    });
}

#[test]
fn systemd_run_leaves_no_unit() {
    in_sandbox("runtime::systemd_run_leaves_no_unit", || {
        let rt = Runtime::new();
        let b = bundle("run", "system.slice:shoji-test:run", &["true"]);
        let id = unique_name("run");
        rt.cmd_global(&[SYSTEMD], &["run", "--bundle", b.path_str(), &id])
            .success();
        assert_gone("shoji-test-run.scope", "/system.slice/shoji-test-run.scope");
        assert_no_leftovers(&rt, &id, &b);
    });
}

#[test]
fn cgroupfs_driver_uses_the_cgroupfs_path() {
    let _k8s = k8s_lock();
    in_sandbox("runtime::cgroupfs_driver_uses_the_cgroupfs_path", || {
        let rt = Runtime::new();
        let path = "/kubepods/besteffort/pod012abc/345def";
        let b = bundle("fs", path, &["sleep", "1000"]);
        let c = Container::create(&rt, &b, "fs");
        for h in ["name=systemd", "memory", "pids", "cpu", "freezer"] {
            assert_eq!(cgroup_of(c.pid, h), path, "{h} cgroup of the init");
        }
        assert_eq!(
            read(&format!(
                "/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"
            )),
            "104857600"
        );
        // systemd was not asked for anything.
        assert_shows("cri-containerd-345def.scope", &["LoadState=not-found"]);
        drop(c);
        assert!(!Path::new(&format!("/sys/fs/cgroup/memory{path}")).exists());
    });
}

#[test]
fn systemd_driver_rejects_a_cgroupfs_path() {
    let _k8s = k8s_lock();
    in_sandbox("runtime::systemd_driver_rejects_a_cgroupfs_path", || {
        let rt = Runtime::new();
        let fs_path = "/kubepods/besteffort/pod012abc/345def";
        let b = bundle("reject", fs_path, &["true"]);
        let id = unique_name("reject");
        let out = rt
            .cmd_global(&[SYSTEMD], &["create", "--bundle", b.path_str(), &id])
            .failure();
        let line = out.one_line_error();
        assert!(
            line.contains(fs_path) && line.contains("drop --systemd-cgroup"),
            "{line}"
        );
        assert_no_leftovers(&rt, &id, &b);
        for h in SYSTEMD_MADE.iter().chain(&SHOJI_JOINED) {
            let bad = format!("/sys/fs/cgroup/{h}{fs_path}");
            assert!(!Path::new(&bad).exists(), "{bad} was created");
        }
    });
}

/// containerd's CRI sends `slice:prefix:name` whenever the pod's parent is a slice, even to a
/// runtime without SystemdCgroup: the cgroupfs driver puts it where systemd would, says so
/// once, and asks systemd for nothing.
#[test]
fn cgroupfs_driver_places_a_systemd_path_where_systemd_would() {
    let _k8s = k8s_lock();
    in_sandbox(
        "runtime::cgroupfs_driver_places_a_systemd_path_where_systemd_would",
        || {
            let rt = Runtime::new();
            let b = bundle("sdpath", K8S_PATH, &["sleep", "1000"]);
            let id = unique_name("sdpath");
            let out = rt.cmd(&["create", "--bundle", b.path_str(), &id]);
            let c = (out.code == Some(0)).then(|| Container::adopt(&rt, &id));
            let out = out.success();
            let line = out.one_line_error();
            for want in ["level=warning", K8S_PATH, K8S_CGROUP, "--systemd-cgroup"] {
                assert!(line.contains(want), "{want} not in {line}");
            }
            let c = c.expect("created");
            for h in ["name=systemd", "memory", "pids", "cpu", "devices", "cpuset"] {
                assert_eq!(cgroup_of(c.pid, h), K8S_CGROUP, "{h} cgroup of the init");
            }
            let limit = format!("/sys/fs/cgroup/memory{K8S_CGROUP}/memory.limit_in_bytes");
            assert_eq!(read(&limit), "104857600");
            assert_shows(K8S_UNIT, &["LoadState=not-found"]);
            for h in SYSTEMD_MADE.iter().chain(&SHOJI_JOINED) {
                let literal = format!("/sys/fs/cgroup/{h}/{K8S_PATH}");
                assert!(!Path::new(&literal).exists(), "{literal} was created");
            }
            drop(c);
            assert!(!Path::new(&format!("/sys/fs/cgroup/memory{K8S_CGROUP}")).exists());
        },
    );
}

/// Two containers given one scope: the second joins it with a warning (as runc), at once,
/// instead of stopping the first's unit (which waited out systemd's 30 s stop timeout, as a
/// container's PID 1 ignores SIGTERM).
#[test]
fn second_container_joins_an_existing_scope() {
    in_sandbox("runtime::second_container_joins_an_existing_scope", || {
        let rt = Runtime::new();
        let b = bundle(
            "shared",
            "system.slice:shoji-test:shared",
            &["sleep", "1000"],
        );
        let (unit, cgroup) = (
            "shoji-test-shared.scope",
            "/system.slice/shoji-test-shared.scope",
        );
        let first = Container::create_with(&rt, &b, "shared1", &[SYSTEMD]);
        first.start().success();
        let id = unique_name("shared2");
        let out = rt.cmd_global(&[SYSTEMD], &["create", "--bundle", b.path_str(), &id]);
        let second = (out.code == Some(0)).then(|| Container::adopt(&rt, &id));
        let out = out.success();
        // runc's warning about a populated cgroup, and the unit's name.
        let warned = |needle: &str| {
            out.stderr
                .lines()
                .any(|l| l.contains("level=warning") && l.contains(needle))
        };
        assert!(
            warned("container's cgroup is not empty: 1 process(es) found")
                && warned(unit)
                && warned("already exists"),
            "{out}"
        );
        let second = second.expect("created");
        assert_eq!(first.status(), "running");
        for h in ["name=systemd", "memory", "pids", "cpuset", "freezer"] {
            assert_eq!(cgroup_of(second.pid, h), cgroup, "{h} of the second init");
            assert_eq!(cgroup_of(first.pid, h), cgroup, "{h} of the first init");
        }
        assert_shows(unit, &["ActiveState=active", "TasksMax=50"]);
        // The unit is the first container's: deleting it stops the unit (and so the second
        // container, which only joined it); both guards then find nothing.
        drop(first);
        drop(second);
        assert_gone(unit, cgroup);
    });
}

#[test]
fn failed_create_after_the_unit_exists_leaves_no_unit() {
    in_sandbox(
        "runtime::failed_create_after_the_unit_exists_leaves_no_unit",
        || {
            let rt = Runtime::new();
            let b = bundle(
                "missing",
                "system.slice:shoji-test:missing",
                &["/no/such/binary"],
            );
            let id = unique_name("missing");
            let out = rt
                .cmd_global(&[SYSTEMD], &["create", "--bundle", b.path_str(), &id])
                .failure();
            assert!(out.stderr.contains("/no/such/binary"), "{out}");
            assert_gone(
                "shoji-test-missing.scope",
                "/system.slice/shoji-test-missing.scope",
            );
            assert_no_leftovers(&rt, &id, &b);
        },
    );
}

#[test]
fn systemd_flag_without_systemd_is_a_clear_error() {
    // On this host, outside the sandbox, no systemd runs.
    let rt = Runtime::new();
    let b = bundle("nosd", "system.slice:shoji-test:nosd", &["true"]);
    let id = unique_name("nosd");
    let out = rt
        .cmd_global(&[SYSTEMD], &["run", "--bundle", b.path_str(), &id])
        .failure();
    let line = out.one_line_error();
    assert!(line.contains("systemd is not reachable"), "{line}");
    assert_no_leftovers(&rt, &id, &b);
    assert!(!Path::new("/sys/fs/cgroup/memory/system.slice/shoji-test-nosd.scope").exists());
}
