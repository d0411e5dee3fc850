//! The container process as it sees itself: user and groups, capabilities, no_new_privs,
//! oom_score_adj, rlimits, env, cwd and umask, read from /proc/self inside the container.

use crate::support::{json, sh, Bundle, Runtime};

/// The value of `field:` in /proc/self/status text, whitespace-normalised.
fn status_field(status: &str, field: &str) -> String {
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in status:\n{status}"));
    line[field.len() + 1..]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn user_uid_gid_and_additional_gids() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("user");
    bundle.edit(|s| {
        s["process"]["user"] = json!({ "uid": 65534, "gid": 65534, "additionalGids": [5, 100] })
    });
    let status = sh(&rt, &bundle, "cat /proc/self/status");
    assert_eq!(status_field(&status, "Uid"), "65534 65534 65534 65534");
    assert_eq!(status_field(&status, "Gid"), "65534 65534 65534 65534");
    let mut groups: Vec<u32> = status_field(&status, "Groups")
        .split(' ')
        .map(|g| g.parse().unwrap())
        .collect();
    groups.sort();
    assert_eq!(groups, [5, 100]);
}

#[test]
fn root_without_additional_gids_has_no_supplementary_groups() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("groups0");
    let status = sh(&rt, &bundle, "cat /proc/self/status");
    assert_eq!(status_field(&status, "Uid"), "0 0 0 0");
    assert_eq!(status_field(&status, "Groups"), "");
}

#[test]
fn capabilities_sets() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("caps");
    let caps = json!(["CAP_CHOWN", "CAP_KILL"]);
    bundle.edit(|s| {
        s["process"]["capabilities"] = json!({
            "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps
        })
    });
    let status = sh(&rt, &bundle, "cat /proc/self/status");
    // CAP_CHOWN is bit 0, CAP_KILL bit 5.
    for set in ["CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"] {
        assert_eq!(status_field(&status, set), "0000000000000021", "{set}");
    }
}

#[test]
fn default_capabilities_are_runcs_three() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("caps-default");
    let status = sh(&rt, &bundle, "cat /proc/self/status");
    // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
    assert_eq!(status_field(&status, "CapEff"), "0000000020000420");
    assert_eq!(status_field(&status, "CapBnd"), "0000000020000420");
}

#[test]
fn capabilities_of_non_root_user_come_from_ambient() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("caps-user");
    let caps = json!(["CAP_NET_BIND_SERVICE"]);
    bundle.edit(|s| {
        s["process"]["user"] = json!({ "uid": 1000, "gid": 1000 });
        s["process"]["capabilities"] = json!({
            "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps
        })
    });
    let status = sh(&rt, &bundle, "cat /proc/self/status");
    assert_eq!(status_field(&status, "CapEff"), "0000000000000400");
}

#[test]
fn no_new_privileges() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("nnp");
    for (flag, want) in [(true, "1"), (false, "0")] {
        bundle.edit(|s| s["process"]["noNewPrivileges"] = json!(flag));
        let status = sh(&rt, &bundle, "cat /proc/self/status");
        assert_eq!(
            status_field(&status, "NoNewPrivs"),
            want,
            "noNewPrivileges {flag}"
        );
    }
}

#[test]
fn oom_score_adj() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("oom");
    bundle.edit(|s| s["process"]["oomScoreAdj"] = json!(500));
    assert_eq!(
        sh(&rt, &bundle, "cat /proc/self/oom_score_adj").trim(),
        "500"
    );
}

#[test]
fn rlimits() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("rlimits");
    bundle.edit(|s| {
        s["process"]["rlimits"] = json!([
            { "type": "RLIMIT_NOFILE", "soft": 1000, "hard": 1001 },
            { "type": "RLIMIT_NPROC", "soft": 333, "hard": 444 }
        ])
    });
    let limits = sh(&rt, &bundle, "cat /proc/self/limits");
    let row = |name: &str| -> Vec<String> {
        let line = limits
            .lines()
            .find(|l| l.starts_with(name))
            .expect("limit row");
        line[name.len()..]
            .split_whitespace()
            .take(2)
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(row("Max open files"), ["1000", "1001"]);
    assert_eq!(row("Max processes"), ["333", "444"]);
}

#[test]
fn env_and_cwd() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("env");
    bundle.edit(|s| {
        s["process"]["env"] = json!(["PATH=/bin", "SHOJI_TEST=hello world"]);
        s["process"]["cwd"] = json!("/tmp");
    });
    let out = sh(&rt, &bundle, "echo \"$SHOJI_TEST\"; pwd; env | sort");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "hello world");
    assert_eq!(lines[1], "/tmp");
    assert!(lines.contains(&"SHOJI_TEST=hello world"), "{out}");
}

#[test]
fn umask() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("umask");
    bundle.edit(|s| s["process"]["user"]["umask"] = json!(0o027));
    assert_eq!(sh(&rt, &bundle, "umask").trim(), "0027");
}

#[test]
fn args_are_passed_verbatim() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("args");
    bundle.args(&["echo", "a b", "", "*"]);
    let out = crate::support::run_container(&rt, &bundle, "args").success();
    assert_eq!(out.stdout, "a b  *\n");
}
