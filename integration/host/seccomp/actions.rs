//! Each action, each operator, defaultErrnoRet and errnoRet, the bad-arch action, with real
//! syscalls in a container. Actions that end the process are seen in its exit status.

use super::{one_rule, outcome, probe_bundle, results, ENOSYS, EPERM};
use crate::support::{json, run_container, Runtime, Value};

fn probe(name: &str, profile: Value, calls: &[&str]) -> crate::support::Output {
    let rt = Runtime::new();
    let bundle = probe_bundle(name, profile);
    let mut args = vec!["probe"];
    args.extend_from_slice(calls);
    args.push("x64:39:after");
    bundle.args(&args);
    run_container(&rt, &bundle, name)
}

/// getpid (39) under `action`: the exit status or the probe's answer.
fn getpid_under(action: &str, errno_ret: Option<u32>) -> crate::support::Output {
    let mut rule = json!({"names": ["getpid"], "action": action});
    if let Some(e) = errno_ret {
        rule["errnoRet"] = e.into();
    }
    probe("action", one_rule(rule), &["x64:39"])
}

#[test]
fn errno_action_with_and_without_errno_ret() {
    let out = getpid_under("SCMP_ACT_ERRNO", Some(123)).success();
    assert_eq!(outcome(&results(&out.stdout), "x64:39"), "errno 123");
    let out = getpid_under("SCMP_ACT_ERRNO", None).success();
    assert_eq!(outcome(&results(&out.stdout), "x64:39"), EPERM);
}

#[test]
fn allow_and_log_actions_let_the_call_through() {
    for action in ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG"] {
        let profile = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                {"names": ["getpid"], "action": action},
                {"names": super::everything_but(&["getpid", "getppid"]), "action": "SCMP_ACT_ALLOW"}
            ]
        });
        let out = probe("allow-log", profile, &["x64:39", "x64:110"]).success();
        let res = results(&out.stdout);
        assert_eq!(outcome(&res, "x64:39"), "ok", "{action}");
        assert_eq!(
            outcome(&res, "x64:110"),
            EPERM,
            "{action}: getppid is not named"
        );
    }
}

/// The kernel's answers: KILL ends the thread (the probe is single-threaded: its process),
/// KILL_PROCESS the process, both with SIGSYS; TRAP sends SIGSYS; TRACE without a tracer
/// fails the call with ENOSYS.
#[test]
fn kill_trap_and_trace_actions() {
    for action in [
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_TRAP",
    ] {
        let out = getpid_under(action, None);
        assert_eq!(out.code, Some(128 + 31), "{action}: died of SIGSYS\n{out}");
        assert!(
            !out.stdout.contains("after"),
            "{action}: nothing ran after the call"
        );
    }
    let out = getpid_under("SCMP_ACT_TRACE", None).success();
    assert_eq!(outcome(&results(&out.stdout), "x64:39"), ENOSYS);
}

#[test]
fn default_errno_ret() {
    let profile = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 77,
        "syscalls": [{"names": super::everything_but(&["getppid"]), "action": "SCMP_ACT_ALLOW"}]
    });
    let out = probe("default-errno", profile, &["x64:110", "x64:39"]).success();
    let res = results(&out.stdout);
    assert_eq!(outcome(&res, "x64:110"), "errno 77");
    assert_eq!(outcome(&res, "x64:39"), "ok");
}

/// Every operator on getpid's first argument (getpid ignores its arguments), with values
/// that differ only in the upper 32 bits.
#[test]
fn every_operator() {
    let hi = 1u64 << 32;
    let cases: [(&str, u64, u64, u64, bool); 9] = [
        ("SCMP_CMP_EQ", hi | 5, 0, hi | 5, true),
        ("SCMP_CMP_EQ", hi | 5, 0, 5, false),
        ("SCMP_CMP_NE", 5, 0, hi | 5, true),
        ("SCMP_CMP_LT", hi, 0, hi - 1, true),
        ("SCMP_CMP_LE", hi, 0, hi + 1, false),
        ("SCMP_CMP_GE", hi, 0, hi, true),
        ("SCMP_CMP_GT", hi, 0, hi - 1, false),
        ("SCMP_CMP_MASKED_EQ", 0xf0, 0x30, 0x3f, true),
        ("SCMP_CMP_MASKED_EQ", hi | 0xf0, hi | 0x30, 0x3f, false),
    ];
    let rules: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (op, value, two, _, _))| {
            json!({"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 100 + i,
                   "args": [{"index": 0, "value": value, "valueTwo": two, "op": op},
                            {"index": 1, "value": i, "op": "SCMP_CMP_EQ"}]})
        })
        .collect();
    let calls: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, _, _, arg, _))| format!("x64:39:{arg}:{i}"))
        .collect();
    let profile = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules});
    let call_refs: Vec<&str> = calls.iter().map(String::as_str).collect();
    let out = probe("operators", profile, &call_refs).success();
    let res = results(&out.stdout);
    for (i, (op, value, _, arg, hit)) in cases.iter().enumerate() {
        let want = match hit {
            true => format!("errno {}", 100 + i),
            false => "ok".to_owned(),
        };
        assert_eq!(
            outcome(&res, &calls[i]),
            want,
            "{op} {value:#x} on {arg:#x}"
        );
    }
}

/// An architecture the profile does not list gets libseccomp's bad-arch action (KILL_THREAD):
/// an int 0x80 call under an x86_64-only profile, and an x32 call, end the probe.
#[test]
fn unlisted_architectures_are_killed() {
    for call in ["i386:20", "x32:39"] {
        let mut profile = one_rule(json!({"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}));
        profile["architectures"] = json!(["SCMP_ARCH_X86_64"]);
        let out = probe("bad-arch", profile, &["x64:39:first", call]);
        assert_eq!(out.code, Some(128 + 31), "{call}: died of SIGSYS\n{out}");
        assert_eq!(outcome(&results(&out.stdout), "x64:39:first"), "ok");
    }
}
