//! Stats from a fake cgroup tree in a tempdir, v1 and v2, checked as runc's JSON.
use std::path::{Path, PathBuf};

use super::*;
use crate::cgroups::dirs::Dir;
use crate::cgroups::mode::Hierarchy;

fn write(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn v1_dir(root: &Path, controller: &str) -> Dir {
    let path = root.join(controller).join("c1");
    let hierarchy = Hierarchy {
        controllers: vec![controller.to_string()],
        mount_point: root.join(controller),
        root: PathBuf::from("/"),
    };
    Dir { hierarchy, path }
}

/// cpuacct, cpu, memory, pids and blkio files of one container, as v1 writes them.
fn fake_v1_tree(root: &Path) -> ContainerDirs {
    let dirs = ContainerDirs {
        mode: CgroupMode::Hybrid,
        v1: ["cpuacct", "cpu", "memory", "pids", "blkio"]
            .iter()
            .map(|c| v1_dir(root, c))
            .collect(),
        unified: None,
    };
    write(
        &dirs.v1[0].path,
        &[
            ("cpuacct.usage", "3000\n"),
            ("cpuacct.stat", "user 2\nsystem 1\n"),
            ("cpuacct.usage_percpu", "1000 2000 \n"),
            (
                "cpuacct.usage_all",
                "cpu user system\n0 600 400\n1 1500 500\n",
            ),
        ],
    );
    write(
        &dirs.v1[1].path,
        &[(
            "cpu.stat",
            "nr_periods 10\nnr_throttled 3\nthrottled_time 777\n",
        )],
    );
    let mem = &dirs.v1[2].path;
    write(mem, &[("memory.stat", "cache 4096\nrss 8192\n")]);
    for (prefix, usage) in [
        ("memory", "12288"),
        ("memory.memsw", "12288"),
        ("memory.kmem", "100"),
    ] {
        write(
            mem,
            &[
                (&format!("{prefix}.usage_in_bytes"), usage),
                (&format!("{prefix}.max_usage_in_bytes"), "20000"),
                (&format!("{prefix}.failcnt"), "0"),
            ],
        );
    }
    write(
        mem,
        &[
            ("memory.limit_in_bytes", "67108864"),
            ("memory.memsw.limit_in_bytes", "9223372036854771712"),
        ],
    );
    write(
        &dirs.v1[3].path,
        &[("pids.current", "2\n"), ("pids.max", "max\n")],
    );
    write(
        &dirs.v1[4].path,
        &[(
            "blkio.throttle.io_service_bytes_recursive",
            "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n",
        )],
    );
    dirs
}

#[test]
fn v1_tree_in_runc_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = fake_v1_tree(tmp.path());
    let json = serde_json::to_value(read(&dirs).unwrap()).unwrap();
    assert_eq!(
        json["cpu"],
        serde_json::json!({
            "usage": {"total": 3000, "percpu": [1000, 2000], "percpu_kernel": [400, 500],
                      "percpu_user": [600, 1500], "kernel": 10_000_000u64, "user": 20_000_000u64},
            "throttling": {"periods": 10, "throttledPeriods": 3, "throttledTime": 777}
        })
    );
    assert_eq!(
        json["memory"],
        serde_json::json!({
            "cache": 4096,
            "usage": {"limit": 67108864, "usage": 12288, "max": 20000, "failcnt": 0},
            "swap": {"limit": 9223372036854771712u64, "usage": 12288, "max": 20000, "failcnt": 0},
            "kernel": {"limit": 0, "usage": 100, "max": 20000, "failcnt": 0},
            "kernelTCP": {"limit": 0, "failcnt": 0},
            "raw": {"cache": 4096, "rss": 8192}
        })
    );
    assert_eq!(json["pids"], serde_json::json!({"current": 2}));
    assert_eq!(
        json["blkio"],
        serde_json::json!({"ioServiceBytesRecursive": [
            {"major": 8, "op": "Read", "value": 4096}, {"major": 8, "op": "Write"}
        ]})
    );
}

#[test]
fn v2_tree_in_runc_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c1");
    write(&dir, &[
        ("cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 4\nnr_throttled 1\nthrottled_usec 9\n"),
        ("cpu.pressure", "some avg10=1.50 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
        ("memory.current", "1000\n"),
        ("memory.max", "max\n"),
        ("memory.peak", "3000\n"),
        ("memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n"),
        ("memory.stat", "anon 600\nfile 400\n"),
        ("memory.swap.current", "50\n"),
        ("memory.swap.max", "max\n"),
        ("pids.current", "3\n"),
        ("pids.max", "100\n"),
        ("io.stat", "254:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n"),
        ("hugetlb.2MB.current", "2097152\n"),
        ("hugetlb.2MB.events", "max 0\n"),
    ]);
    let dirs = ContainerDirs {
        mode: CgroupMode::V2,
        v1: vec![],
        unified: Some(dir),
    };
    let json = serde_json::to_value(read(&dirs).unwrap()).unwrap();
    assert_eq!(
        json["cpu"]["usage"],
        serde_json::json!({"total": 5000, "kernel": 2000, "user": 3000})
    );
    assert_eq!(
        json["cpu"]["throttling"],
        serde_json::json!({"periods": 4, "throttledPeriods": 1, "throttledTime": 9000})
    );
    assert_eq!(
        json["cpu"]["psi"],
        serde_json::json!({"some": {"avg10": 1.5, "avg60": 0.0, "avg300": 0.0, "total": 42}})
    );
    assert_eq!(json["memory"]["cache"], 400);
    assert_eq!(
        json["memory"]["usage"],
        serde_json::json!({"limit": u64::MAX, "usage": 1000, "max": 3000, "failcnt": 2})
    );
    assert_eq!(
        json["memory"]["swap"],
        serde_json::json!({"limit": u64::MAX, "usage": 1050, "failcnt": 0})
    );
    assert_eq!(
        json["pids"],
        serde_json::json!({"current": 3, "limit": 100})
    );
    assert_eq!(
        json["blkio"]["ioServicedRecursive"],
        serde_json::json!([{"major": 254, "op": "Read", "value": 1}, {"major": 254, "op": "Write", "value": 2}])
    );
    assert_eq!(
        json["hugetlb"]["2MB"],
        serde_json::json!({"usage": 2097152, "failcnt": 0})
    );
}

#[test]
fn cpu_list_and_blkio_lines() {
    assert_eq!(cpu_list("0-2,5").unwrap(), [0, 1, 2, 5]);
    assert_eq!(cpu_list("").unwrap(), Vec::<u16>::new());
    assert!(cpu_list("x").is_err());
    let e = blkio_entries("8:16 42\n").unwrap();
    assert_eq!(
        (e[0].major, e[0].minor, e[0].op.as_str(), e[0].value),
        (8, 16, "", 42)
    );
}
