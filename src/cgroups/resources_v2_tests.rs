use super::*;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn pairs(writes: &[Write]) -> Vec<(&str, &str)> {
    writes
        .iter()
        .map(|w| (w.files[0].as_str(), w.value.as_str()))
        .collect()
}

fn now(controllers: &[&str]) -> V2Now {
    V2Now {
        controllers: controllers.iter().map(|c| c.to_string()).collect(),
        bfq: false,
    }
}

#[test]
fn shares_to_weight_table() {
    let table = [
        (0, 0),
        (1, 1),
        (2, 1),
        (3, 2),
        (1024, 100),
        (262143, 10000),
        (262144, 10000),
        (262145, 10000),
    ];
    for (shares, weight) in table {
        assert_eq!(cpu_weight(shares), weight, "cpu_weight({shares})");
    }
}

#[test]
fn swap_table() {
    let ok = [
        ((0, -1), Some(-1)),
        ((0, 1000), None),
        ((-1, 1000), Some(-1)),
        ((3000, -1), Some(3000)),
        ((3000, 1000), Some(2000)),
        ((1000, 1000), Some(0)),
    ];
    for ((swap, limit), want) in ok {
        assert_eq!(
            swap_max(swap, limit).unwrap(),
            want,
            "swap_max({swap}, {limit})"
        );
    }
    for (swap, limit, msg) in [
        (3000, 0, "without memory limit"),
        (500, 1000, ">= memory limit"),
    ] {
        let err = swap_max(swap, limit).unwrap_err().to_string();
        assert!(err.contains(msg), "{err}");
    }
}

#[test]
fn quota_period_table() {
    assert_eq!(cpu_max(50000, 100000), "50000 100000");
    assert_eq!(cpu_max(50000, 0), "50000 100000");
    assert_eq!(cpu_max(-1, 200000), "max 200000");
    assert_eq!(cpu_max(0, 250000), "max 250000");
}

#[test]
fn io_weight_table() {
    assert_eq!(io_weight(0), 0);
    assert_eq!(io_weight(10), 1);
    assert_eq!(io_weight(500), 4950);
    assert_eq!(io_weight(1000), 10000);
}

#[test]
fn v2_file_value_table() {
    let r = res(r#"{
        "memory": {"limit": 104857600, "swap": 209715200, "reservation": 52428800},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "idle": 1, "cpus": "0-1", "mems": "0"},
        "pids": {"limit": 32},
        "blockIO": {"weight": 500,
                    "throttleReadBpsDevice": [{"major": 254, "minor": 0, "rate": 1048576}],
                    "throttleWriteIOPSDevice": [{"major": 254, "minor": 0, "rate": 10}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
        "unified": {"memory.high": "90000000", "memory.oom.group": "1", "cgroup.max.depth": "3"}
    }"#);
    let w = v2_writes(
        &r,
        &now(&["cpu", "memory", "pids", "io", "hugetlb", "cpuset"]),
    )
    .unwrap();
    assert_eq!(
        pairs(&w),
        [
            ("memory.swap.max", "104857600"),
            ("memory.max", "104857600"),
            ("memory.low", "52428800"),
            ("cpu.idle", "1"),
            ("cpu.weight", "100"),
            ("cpu.max", "50000 100000"),
            ("cpuset.cpus", "0-1"),
            ("cpuset.mems", "0"),
            ("pids.max", "32"),
            ("io.weight", "4950"),
            ("io.max", "254:0 rbps=1048576"),
            ("io.max", "254:0 wiops=10"),
            ("hugetlb.2MB.max", "2097152"),
            ("hugetlb.2MB.rsvd.max", "2097152"),
            ("cgroup.max.depth", "3"),
            ("memory.high", "90000000"),
            ("memory.oom.group", "1"),
        ]
    );
}

#[test]
fn bfq_takes_blkio_weights_as_is() {
    let r = res(
        r#"{"blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 300}]}}"#,
    );
    let w = v2_writes(
        &r,
        &V2Now {
            controllers: vec![],
            bfq: true,
        },
    )
    .unwrap();
    assert_eq!(
        pairs(&w),
        [("io.bfq.weight", "500"), ("io.bfq.weight", "8:0 300")]
    );
}

#[test]
fn unlimited_memory_and_swap_without_accounting() {
    let r = res(r#"{"memory": {"limit": -1}}"#);
    let w = v2_writes(&r, &now(&[])).unwrap();
    assert_eq!(
        pairs(&w),
        [("memory.swap.max", "max"), ("memory.max", "max")]
    );
    assert!(w[0].if_present && !w[1].if_present);
}

#[test]
fn refusals_name_what_is_wrong() {
    let table = [
        (
            r#"{"unified": {"memory.high": "1"}}"#,
            "controller \"memory\" not available",
        ),
        (r#"{"unified": {"../memory.high": "1"}}"#, "no slashes"),
        (r#"{"unified": {"nodot": "1"}}"#, "CONTROLLER.PARAMETER"),
        (
            r#"{"memory": {"disableOOMKiller": true}}"#,
            "disableOOMKiller",
        ),
        (r#"{"cpu": {"realtimeRuntime": 1000}}"#, "realtime"),
        (r#"{"network": {"classID": 1}}"#, "net_cls"),
    ];
    for (json, msg) in table {
        let err = v2_writes(&res(json), &now(&["cpu"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(msg), "{json}: {err}");
    }
}
