//! `state` and `list` output: the runtime-spec state plus runc's extra fields, byte-shaped
//! like runc's because clients (containerd, podman) parse them.

use crate::support::{json, Bundle, Container, Runtime};

fn sleeping_bundle(name: &str) -> Bundle {
    let bundle = Bundle::busybox(name);
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| s["annotations"] = json!({ "org.shoji.test": "yes" }));
    bundle
}

#[test]
fn state_has_spec_and_runc_fields() {
    let rt = Runtime::new();
    let bundle = sleeping_bundle("state");
    let c = Container::create(&rt, &bundle, "state");
    let s = c.state();
    assert!(
        s["ociVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("1.")),
        "{s}"
    );
    assert_eq!(s["id"], c.id.as_str());
    assert_eq!(s["status"], "created");
    assert_eq!(s["pid"], c.pid);
    assert_eq!(s["bundle"], bundle.path_str());
    assert_eq!(s["rootfs"], bundle.rootfs().to_str().unwrap());
    assert_eq!(s["annotations"]["org.shoji.test"], "yes");
    let created = s["created"].as_str().expect("created is a string");
    assert!(
        looks_rfc3339(created),
        "created {created:?} is not RFC 3339"
    );
    assert!(s["owner"].is_string(), "owner missing: {s}");
    c.start().success();
    assert_eq!(c.state()["status"], "running");
}

/// `2026-12-01T19:04:35.872412177Z`: date, `T`, time, and a zone.
fn looks_rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && (t.ends_with('Z') || t[19..].contains('+') || t[19..].contains('-'))
}

#[test]
fn list_table_json_and_quiet() {
    let rt = Runtime::new();
    let bundle = sleeping_bundle("list");
    let a = Container::create(&rt, &bundle, "list-a");
    let b = Container::create(&rt, &bundle, "list-b");
    b.start().success();

    let table = rt.cmd(&["list"]).success().stdout;
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    assert_eq!(
        header,
        ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    for (c, status) in [(&a, "created"), (&b, "running")] {
        let row = rows
            .iter()
            .find(|r| r[0] == c.id)
            .unwrap_or_else(|| panic!("{} not listed:\n{table}", c.id));
        assert_eq!(row[1], c.pid.to_string());
        assert_eq!(row[2], status);
        assert_eq!(row[3], bundle.path_str());
    }

    let listed = rt.cmd(&["list", "--format", "json"]).success().json();
    let listed = listed.as_array().expect("list --format json is an array");
    assert_eq!(listed.len(), 2);
    for c in [&a, &b] {
        let entry = listed
            .iter()
            .find(|e| e["id"] == c.id.as_str())
            .expect("listed");
        assert_eq!(entry["pid"], c.pid);
        assert_eq!(entry["bundle"], bundle.path_str());
        assert_eq!(entry["rootfs"], bundle.rootfs().to_str().unwrap());
        assert_eq!(entry["annotations"]["org.shoji.test"], "yes");
        assert!(
            entry["created"].is_string() && entry["owner"].is_string(),
            "{entry}"
        );
    }

    let quiet = rt.cmd(&["list", "--quiet"]).success().stdout;
    let mut ids: Vec<&str> = quiet.lines().collect();
    ids.sort();
    let mut want = vec![a.id.as_str(), b.id.as_str()];
    want.sort();
    assert_eq!(ids, want);
}

#[test]
fn list_empty_root() {
    let rt = Runtime::new();
    let out = rt.cmd(&["list", "--format", "json"]).success();
    assert!(matches!(out.stdout.trim(), "[]" | "null"), "{out}");
}
