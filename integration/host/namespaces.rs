//! Namespaces as a user checks them: the /proc/PID/ns links of the container's init compared
//! with the host's, uid/gid maps of a user namespace, and joining a namespace by path.

use crate::support::procfs::{ns_link, read, wait_until};
use crate::support::{json, Bundle, Container, Runtime, Value};

/// The test process's own namespace: the host's, as the tests run in the host namespaces.
fn host_link(kind: &str) -> String {
    ns_link(std::process::id() as i32, kind)
}

fn namespaces(kinds: &[&str]) -> Value {
    json!(kinds
        .iter()
        .map(|k| json!({ "type": k }))
        .collect::<Vec<_>>())
}

#[test]
fn new_namespaces_differ_from_host() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ns-new");
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| {
        s["linux"]["namespaces"] = namespaces(&["pid", "network", "ipc", "uts", "mount", "cgroup"])
    });
    let c = Container::create(&rt, &bundle, "ns-new");
    for link in ["pid", "net", "ipc", "uts", "mnt", "cgroup"] {
        assert_ne!(
            ns_link(c.pid, link),
            host_link(link),
            "{link} namespace is the host's"
        );
    }
    // Not asked for: shared with the host.
    assert_eq!(ns_link(c.pid, "user"), host_link("user"));
}

#[test]
fn omitted_namespaces_are_shared() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ns-shared");
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| {
        s["linux"]["namespaces"] = namespaces(&["pid", "mount"]);
        // A hostname needs a private UTS namespace.
        s.as_object_mut().unwrap().remove("hostname");
    });
    let c = Container::create(&rt, &bundle, "ns-shared");
    for link in ["net", "ipc", "uts", "cgroup", "user"] {
        assert_eq!(
            ns_link(c.pid, link),
            host_link(link),
            "{link} namespace not shared"
        );
    }
    assert_ne!(ns_link(c.pid, "pid"), host_link("pid"));
}

#[test]
fn user_namespace_with_mappings() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ns-user");
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| {
        s["linux"]["namespaces"] = namespaces(&["pid", "network", "ipc", "uts", "mount", "user"]);
        s["linux"]["uidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
        s["linux"]["gidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
    });
    let c = Container::create(&rt, &bundle, "ns-user");
    assert_ne!(ns_link(c.pid, "user"), host_link("user"));
    for map in ["uid_map", "gid_map"] {
        let fields: Vec<String> = read(format!("/proc/{}/{map}", c.pid))
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        assert_eq!(fields, ["0", "100000", "65536"], "{map}");
    }
    // The init runs as container root, which is host uid 100000.
    let status = read(format!("/proc/{}/status", c.pid));
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(uid.split_whitespace().nth(1), Some("100000"), "{uid}");
}

#[test]
fn user_namespace_process_sees_itself_as_root() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ns-user-in");
    bundle.edit(|s| {
        s["linux"]["namespaces"] = namespaces(&["pid", "network", "ipc", "uts", "mount", "user"]);
        s["linux"]["uidMappings"] = json!([{ "containerID": 0, "hostID": 200000, "size": 1000 }]);
        s["linux"]["gidMappings"] = json!([{ "containerID": 0, "hostID": 200000, "size": 1000 }]);
    });
    let out = crate::support::sh(&rt, &bundle, "cat /proc/self/uid_map; id -u");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["0", "200000", "1000"]
    );
    assert_eq!(lines[1], "0");
}

#[test]
fn join_namespaces_by_path() {
    let rt = Runtime::new();
    let first = Bundle::busybox("ns-first");
    first.args(&["sleep", "1000"]);
    let a = Container::create(&rt, &first, "ns-first");

    let second = Bundle::busybox("ns-second");
    second.args(&["sleep", "1000"]);
    let path = |link: &str| format!("/proc/{}/ns/{link}", a.pid);
    second.edit(|s| {
        s["linux"]["namespaces"] = json!([
            { "type": "pid" },
            { "type": "mount" },
            { "type": "network", "path": path("net") },
            { "type": "ipc", "path": path("ipc") },
            { "type": "uts", "path": path("uts") }
        ])
    });
    let b = Container::create(&rt, &second, "ns-second");
    for link in ["net", "ipc", "uts"] {
        assert_eq!(
            ns_link(b.pid, link),
            ns_link(a.pid, link),
            "{link} not joined"
        );
        assert_ne!(ns_link(b.pid, link), host_link(link));
    }
    assert_ne!(
        ns_link(b.pid, "pid"),
        ns_link(a.pid, "pid"),
        "pid namespace should be new"
    );
    assert_ne!(
        ns_link(b.pid, "mnt"),
        ns_link(a.pid, "mnt"),
        "mount namespace should be new"
    );
}

#[test]
fn time_namespace() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ns-time");
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| {
        s["linux"]["namespaces"] = namespaces(&["pid", "network", "ipc", "uts", "mount", "time"])
    });
    let c = Container::create(&rt, &bundle, "ns-time");
    c.start().success();
    // A new time namespace applies to the process from its execve on.
    let moved = wait_until(|| ns_link(c.pid, "time") != host_link("time"));
    assert!(moved, "time namespace is the host's");
}

/// A bind source behind a directory only the host's root may enter (0700) is out of reach
/// of the container's mapped root; the runtime opens it before the user namespace exists and
/// the mount works, as in runc.
#[test]
fn user_namespace_bind_mount_of_a_source_mapped_root_cannot_reach() {
    use std::os::unix::fs::PermissionsExt;
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ns-user-bind");
    let locked = bundle.path().join("locked");
    let source = locked.join("data");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("hello"), "from the host\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    bundle.edit(|s| {
        s["linux"]["namespaces"] = namespaces(&["pid", "network", "ipc", "uts", "mount", "user"]);
        s["linux"]["uidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
        s["linux"]["gidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/run", "type": "bind", "source": source, "options": ["rbind", "ro"]
        }));
    });
    let script = "cat /run/hello; touch /run/x 2>/dev/null && echo writable || echo read-only";
    let out = crate::support::sh(&rt, &bundle, script);
    assert_eq!(out, "from the host\nread-only\n", "the ro option holds too");
}
