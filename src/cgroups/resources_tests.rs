use super::*;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn pairs(writes: &[Write]) -> Vec<(&str, &str, &str)> {
    writes
        .iter()
        .map(|w| (w.controller, w.files[0].as_str(), w.value.as_str()))
        .collect()
}

#[test]
fn v1_file_value_table() {
    let r = res(r#"{
        "memory": {"limit": 104857600, "reservation": 52428800, "swappiness": 10},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0",
                "realtimePeriod": 1000000, "realtimeRuntime": 950000},
        "pids": {"limit": 64},
        "blockIO": {"weight": 500,
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                    "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
        "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]}
    }"#);
    let w = v1_writes(
        &r,
        MemoryNow {
            limit: u64::MAX,
            swap_accounting: true,
        },
    )
    .unwrap();
    assert_eq!(
        pairs(&w),
        [
            ("cpuset", "cpuset.cpus", "0"),
            ("cpuset", "cpuset.mems", "0"),
            ("cpu", "cpu.shares", "512"),
            ("cpu", "cpu.cfs_period_us", "100000"),
            ("cpu", "cpu.cfs_quota_us", "50000"),
            ("cpu", "cpu.rt_period_us", "1000000"),
            ("cpu", "cpu.rt_runtime_us", "950000"),
            ("memory", "memory.limit_in_bytes", "104857600"),
            ("memory", "memory.soft_limit_in_bytes", "52428800"),
            ("memory", "memory.swappiness", "10"),
            ("pids", "pids.max", "64"),
            ("blkio", "blkio.bfq.weight", "500"),
            ("blkio", "blkio.throttle.read_bps_device", "8:0 1048576"),
            ("blkio", "blkio.throttle.write_iops_device", "8:0 100"),
            ("hugetlb", "hugetlb.2MB.limit_in_bytes", "4194304"),
            ("hugetlb", "hugetlb.2MB.rsvd.limit_in_bytes", "4194304"),
            ("net_cls", "net_cls.classid", "1048577"),
            ("net_prio", "net_prio.ifpriomap", "eth0 5"),
        ]
    );
    assert_eq!(w[11].files, ["blkio.bfq.weight", "blkio.weight"]);
    assert!(w[3].deferrable && w[15].if_present);
}

#[test]
fn memsw_goes_first_when_it_exceeds_the_current_limit() {
    let r = res(r#"{"memory": {"limit": 200000000, "swap": 400000000}}"#);
    let raise = v1_writes(
        &r,
        MemoryNow {
            limit: 100_000_000,
            swap_accounting: true,
        },
    )
    .unwrap();
    assert_eq!(raise[0].files[0], "memory.memsw.limit_in_bytes");
    assert_eq!(raise[1].files[0], "memory.limit_in_bytes");
    let lower = v1_writes(
        &r,
        MemoryNow {
            limit: 500_000_000,
            swap_accounting: true,
        },
    )
    .unwrap();
    assert_eq!(lower[0].files[0], "memory.limit_in_bytes");
    assert_eq!(lower[1].files[0], "memory.memsw.limit_in_bytes");
}

#[test]
fn unlimited_memory_unlimits_swap_and_kernel_is_ignored() {
    let r = res(r#"{"memory": {"limit": -1, "kernel": 1000, "kernelTCP": 1000}}"#);
    let w = v1_writes(
        &r,
        MemoryNow {
            limit: 1 << 30,
            swap_accounting: true,
        },
    )
    .unwrap();
    assert_eq!(
        pairs(&w),
        [
            ("memory", "memory.memsw.limit_in_bytes", "-1"),
            ("memory", "memory.limit_in_bytes", "-1")
        ]
    );
}

#[test]
fn oom_killer_pids_unlimited_and_bad_swappiness() {
    let r = res(r#"{"memory": {"disableOOMKiller": true}, "pids": {"limit": -1}}"#);
    let w = v1_writes(&r, MemoryNow::default()).unwrap();
    assert_eq!(
        pairs(&w),
        [
            ("memory", "memory.oom_control", "1"),
            ("pids", "pids.max", "max")
        ]
    );
    let bad = res(r#"{"memory": {"swappiness": 101}}"#);
    let err = v1_writes(&bad, MemoryNow::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("swappiness value: 101"), "{err}");
}

#[test]
fn unified_map_is_refused_on_v1() {
    let r = res(r#"{"unified": {"memory.high": "1000000"}}"#);
    let err = v1_writes(&r, MemoryNow::default()).unwrap_err().to_string();
    assert!(err.contains("unified") && err.contains("v1"), "{err}");
}

#[test]
fn devices_always_start_from_deny_all() {
    let w = devices_v1(None);
    assert_eq!(pairs(&w[..1]), [("devices", "devices.deny", "a")]);
    assert!(w.iter().any(|x| x.value == "c 1:5 rwm"));
}

#[test]
fn rdma_value_format() {
    let r = res(r#"{"rdma": {"mlx4_0": {"hcaHandles": 2, "hcaObjects": 2000}}}"#);
    let w = v1_writes(&r, MemoryNow::default()).unwrap();
    assert_eq!(
        pairs(&w),
        [("rdma", "rdma.max", "mlx4_0 hca_handle=2 hca_object=2000")]
    );
}
