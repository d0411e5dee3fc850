//! Where the filter applies: the container's process with and without no_new_privs (without
//! it the filter must go in before the capabilities are dropped), every process `exec` starts,
//! and startContainer hooks; filter flags; a bad profile refused before anything exists.

use super::{one_rule, outcome, probe_bundle, results};
use crate::support::{
    assert_no_leftovers, create_must_fail, json, run_container, unique_name, Bundle, Container,
    Runtime,
};

/// getppid (110) fails with 99.
fn getppid_denied() -> serde_json::Value {
    one_rule(json!({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 99}))
}

fn status_line<'a>(stdout: &'a str, field: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in:\n{stdout}"))
        .trim()
}

/// A non-root user with no capabilities, with and without no_new_privs: the filter is on
/// either way.
#[test]
fn with_and_without_no_new_privileges() {
    for nnp in [false, true] {
        let rt = Runtime::new();
        let bundle = probe_bundle("nnp", getppid_denied());
        bundle.edit(|s| {
            s["process"]["noNewPrivileges"] = nnp.into();
            s["process"]["user"] = json!({"uid": 65534, "gid": 65534});
            s["process"]["capabilities"] = json!({});
            s["process"]["args"] = json!(["sh", "-c", "cat /proc/self/status; probe x64:110"]);
        });
        let out = run_container(&rt, &bundle, "nnp").success();
        assert_eq!(status_line(&out.stdout, "Seccomp"), "2", "nnp {nnp}");
        assert_eq!(
            status_line(&out.stdout, "NoNewPrivs"),
            if nnp { "1" } else { "0" }
        );
        assert_eq!(status_line(&out.stdout, "CapEff"), "0000000000000000");
        assert_eq!(
            outcome(&results(&out.stdout), "x64:110"),
            "errno 99",
            "nnp {nnp}"
        );
    }
}

#[test]
fn exec_processes_get_the_containers_filter() {
    let rt = Runtime::new();
    let bundle = probe_bundle("exec", getppid_denied());
    bundle.args(&["sleep", "1000"]);
    let c = Container::create(&rt, &bundle, "exec");
    c.start().success();
    let out = rt
        .cmd(&[
            "exec",
            &c.id,
            "sh",
            "-c",
            "grep Seccomp: /proc/self/status; probe x64:110 x64:39",
        ])
        .success();
    assert_eq!(status_line(&out.stdout, "Seccomp"), "2");
    let res = results(&out.stdout);
    assert_eq!(outcome(&res, "x64:110"), "errno 99");
    assert_eq!(outcome(&res, "x64:39"), "ok");
}

/// startContainer hooks run in the container after the filter is in place, as runc's do.
#[test]
fn start_container_hook_runs_under_the_filter() {
    let rt = Runtime::new();
    let bundle = probe_bundle("hook", getppid_denied());
    bundle.edit(|s| {
        s["root"]["readonly"] = false.into();
        s["process"]["args"] = json!(["true"]);
        s["hooks"] = json!({"startContainer": [{
            "path": "/bin/sh",
            "args": ["sh", "-c", "{ grep Seccomp: /proc/self/status; probe x64:110; } > /hook.out"]
        }]});
    });
    let id = unique_name("hook");
    rt.cmd(&["run", "--bundle", bundle.path_str(), &id])
        .success();
    let out = std::fs::read_to_string(bundle.rootfs().join("hook.out")).unwrap();
    assert_eq!(status_line(&out, "Seccomp"), "2");
    assert_eq!(outcome(&results(&out), "x64:110"), "errno 99");
}

/// The flags are honoured (the kernel refuses one it lacks: create would fail); TSYNC is
/// accepted with nothing to do, as in runc.
#[test]
fn filter_flags() {
    let rt = Runtime::new();
    let mut profile = getppid_denied();
    profile["flags"] = json!([
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_TSYNC"
    ]);
    let bundle = probe_bundle("flags", profile);
    bundle.args(&["probe", "x64:110", "x64:39"]);
    let res = results(&run_container(&rt, &bundle, "flags").success().stdout);
    assert_eq!(outcome(&res, "x64:110"), "errno 99");
    assert_eq!(outcome(&res, "x64:39"), "ok");
}

/// Bad profiles: a one-line error naming the field, nothing left behind.
#[test]
fn bad_profiles_are_refused_before_anything_exists() {
    let rt = Runtime::new();
    let cases = [
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BOGUS"]}),
            "SECCOMP_FILTER_FLAG_BOGUS",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_NOTIFY"}),
            "linux.seccomp.defaultAction",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 7, "value": 0, "op": "SCMP_CMP_EQ"}]}]}),
            "linux.seccomp.syscalls[0].args[0].index",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}),
            "linux.seccomp.syscalls[0].names",
        ),
        (json!({"defaultAction": "SCMP_ACT_BOGUS"}), "SCMP_ACT_BOGUS"),
    ];
    for (profile, needle) in cases {
        let bundle = Bundle::busybox("bad-seccomp");
        bundle.edit(|s| s["linux"]["seccomp"] = profile);
        let id = unique_name("bad-seccomp");
        let out = create_must_fail(&rt, bundle.path_str(), &id).failure();
        assert!(out.one_line_error().contains(needle), "{needle}:\n{out}");
        assert_no_leftovers(&rt, &id, &bundle);
    }
}
