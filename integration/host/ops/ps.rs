//! `ps` lists exactly the container's processes: the JSON pids are the cgroup's cgroup.procs,
//! and the table is ps(1)'s, with the caller's options, filtered to those pids.

use super::{cgroup_procs, running, wait_until};
use crate::support::{Bundle, Runtime};

#[test]
fn ps_json_is_the_cgroups_processes() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-ps");
    let c = running(&rt, &bundle, "ops-ps", "sleep 1000 & sleep 1000");
    wait_until("both sleeps in the cgroup", || {
        cgroup_procs(&c, "pids").len() == 2
    });
    let procs = cgroup_procs(&c, "pids");
    let out = rt.cmd(&["ps", "--format", "json", &c.id]).success();
    let mut pids: Vec<i64> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    pids.sort();
    assert_eq!(pids, procs, "{out}");
    assert!(pids.contains(&(c.pid as i64)));
    // An exec'd process is the container's too.
    rt.cmd(&["exec", "-d", &c.id, "sleep", "1000"]).success();
    wait_until("the exec'd sleep in the cgroup", || {
        cgroup_procs(&c, "pids").len() == 3
    });
    let out = rt.cmd(&["ps", "-f", "json", &c.id]).success();
    assert_eq!(out.json().as_array().unwrap().len(), 3, "{out}");
}

#[test]
fn ps_table_filters_ps_output_to_the_container() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-ps-table");
    let c = running(&rt, &bundle, "ops-ps-table", "sleep 1000 & sleep 1000");
    wait_until("both sleeps in the cgroup", || {
        cgroup_procs(&c, "pids").len() == 2
    });
    let procs = cgroup_procs(&c, "pids");
    let pid_column = |text: &str, col: usize| -> Vec<i64> {
        let mut v: Vec<i64> = text
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().nth(col).unwrap().parse().unwrap())
            .collect();
        v.sort();
        v
    };
    let out = rt.cmd(&["ps", &c.id]).success();
    assert!(out.stdout.starts_with("UID "), "default is ps -ef:\n{out}");
    assert_eq!(pid_column(&out.stdout, 1), procs, "{out}");
    // Extra arguments go to ps(1); the PID column is found wherever it is.
    let out = rt.cmd(&["ps", &c.id, "-o", "comm,pid"]).success();
    assert_eq!(
        out.stdout
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["COMMAND", "PID"]
    );
    assert_eq!(pid_column(&out.stdout, 1), procs, "{out}");
    assert!(
        out.stdout.lines().skip(1).all(|l| l.starts_with("sleep")),
        "{out}"
    );
}

#[test]
fn ps_of_a_missing_container_fails() {
    let rt = Runtime::new();
    let out = rt.cmd(&["ps", "ops-no-such"]).failure();
    assert!(out.stderr.contains("does not exist"), "{out}");
}
