//! Bad input: each case gets a one-line error and exit 1, and leaves no state dir, cgroup,
//! mount or process behind.

use crate::support::{
    assert_no_leftovers, create_must_fail, json, unique_name, Bundle, Container, Runtime, Value,
};

/// `create` that must fail cleanly; returns the one error line.
fn create_fails(rt: &Runtime, bundle: &Bundle, bundle_arg: &str, id: &str) -> String {
    let out = create_must_fail(rt, bundle_arg, id).failure();
    let line = out.one_line_error();
    assert_no_leftovers(rt, id, bundle);
    line
}

/// The default namespaces (pid, network, ipc, uts, mount) plus `extra`, so that `extra` is
/// the only thing wrong with the config.
fn namespaces_plus(extra: Value) -> Value {
    let mut list = crate::support::spec::default_spec()["linux"]["namespaces"].clone();
    list.as_array_mut().unwrap().push(extra);
    list
}

fn sleeping(name: &str) -> Bundle {
    let bundle = Bundle::busybox(name);
    bundle.args(&["sleep", "1000"]);
    bundle
}

#[test]
fn invalid_ids() {
    let rt = Runtime::new();
    let bundle = sleeping("bad-id");
    let long = "x".repeat(1025);
    for id in ["", "/", "..", ".", "a/b", "../escape", long.as_str()] {
        create_fails(&rt, &bundle, bundle.path_str(), id);
    }
    let root_entries = std::fs::read_dir(rt.root()).map(|d| d.count()).unwrap_or(0);
    assert_eq!(root_entries, 0, "something was written under --root");
}

#[test]
fn duplicate_id() {
    let rt = Runtime::new();
    let bundle = sleeping("dup");
    let first = Container::create(&rt, &bundle, "dup");
    let out = create_must_fail(&rt, bundle.path_str(), &first.id).failure();
    let line = out.one_line_error();
    assert!(line.contains("already exists"), "{line}");
    // The first container is untouched.
    assert_eq!(first.status(), "created");
    assert!(crate::support::procfs::pid_alive(first.pid));
}

#[test]
fn missing_bundle() {
    let rt = Runtime::new();
    let bundle = sleeping("nobundle");
    let missing = bundle.path().join("does-not-exist");
    let id = unique_name("nobundle");
    let line = create_fails(&rt, &bundle, missing.to_str().unwrap(), &id);
    assert!(
        line.contains("does-not-exist"),
        "error does not name the bundle: {line}"
    );
}

#[test]
fn missing_rootfs() {
    let rt = Runtime::new();
    let bundle = sleeping("norootfs");
    bundle.edit(|s| s["root"]["path"] = json!("no-such-rootfs"));
    let id = unique_name("norootfs");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(
        line.contains("no-such-rootfs"),
        "error does not name the rootfs: {line}"
    );
}

#[test]
fn missing_config_json() {
    let rt = Runtime::new();
    let bundle = sleeping("noconfig");
    std::fs::remove_file(bundle.config_path()).unwrap();
    let id = unique_name("noconfig");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(
        line.contains("config.json"),
        "error does not name config.json: {line}"
    );
}

#[test]
fn malformed_json_names_line_and_column() {
    let rt = Runtime::new();
    let bundle = sleeping("badjson");
    std::fs::write(
        bundle.config_path(),
        "{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": }\n",
    )
    .unwrap();
    let id = unique_name("badjson");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(
        line.contains("line 3"),
        "error does not say the line: {line}"
    );
    assert!(
        line.contains("column"),
        "error does not say the column: {line}"
    );
}

#[test]
fn unsupported_oci_version() {
    let rt = Runtime::new();
    let bundle = sleeping("ociver");
    for version in ["0.1.0", "2.0.0", "banana"] {
        bundle.edit(|s| s["ociVersion"] = json!(version));
        let id = unique_name("ociver");
        let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
        assert!(
            line.contains(version),
            "error does not name the version: {line}"
        );
    }
}

#[test]
fn missing_process_binary() {
    let rt = Runtime::new();
    let bundle = sleeping("nobinary");
    bundle.args(&["/bin/no-such-binary"]);
    let id = unique_name("nobinary");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(
        line.contains("no-such-binary"),
        "error does not name the binary: {line}"
    );
}

#[test]
fn missing_process_binary_via_path_lookup() {
    let rt = Runtime::new();
    let bundle = sleeping("nolookup");
    bundle.args(&["no-such-command"]);
    let id = unique_name("nolookup");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(line.contains("no-such-command"), "{line}");
}

/// A systemd-format path the cgroupfs driver would place where systemd does, but which no
/// systemd would accept: systemd's error, naming the value (runc makes the literal directory).
#[test]
fn malformed_systemd_format_cgroups_path_for_cgroupfs() {
    let rt = Runtime::new();
    let bundle = sleeping("badcgpath");
    bundle.edit(|s| s["linux"]["cgroupsPath"] = json!("kube--pods.slice:shoji:bad"));
    let id = unique_name("badcgpath");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(
        line.contains("kube--pods.slice:shoji:bad") && line.contains("invalid slice name"),
        "{line}"
    );
}

#[test]
fn duplicate_namespace_type() {
    let rt = Runtime::new();
    let bundle = sleeping("dupns");
    bundle.edit(|s| s["linux"]["namespaces"] = namespaces_plus(json!({ "type": "network" })));
    let id = unique_name("dupns");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(
        line.contains("network"),
        "error does not name the namespace: {line}"
    );
}

#[test]
fn user_namespace_path_with_mappings() {
    let rt = Runtime::new();
    let bundle = sleeping("userns-conflict");
    bundle.edit(|s| {
        s["linux"]["namespaces"] =
            namespaces_plus(json!({ "type": "user", "path": "/proc/self/ns/user" }));
        s["linux"]["uidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 1000 }]);
        s["linux"]["gidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 1000 }]);
    });
    let id = unique_name("userns-conflict");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(
        line.contains("user"),
        "error does not name the user namespace: {line}"
    );
}

#[test]
fn unknown_namespace_type() {
    let rt = Runtime::new();
    let bundle = sleeping("unknown-ns");
    bundle.edit(|s| s["linux"]["namespaces"] = namespaces_plus(json!({ "type": "banana" })));
    let id = unique_name("unknown-ns");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(line.contains("banana"), "{line}");
}

#[test]
fn namespace_path_that_does_not_exist() {
    let rt = Runtime::new();
    let bundle = sleeping("nspath-missing");
    bundle.edit(|s| {
        s["linux"]["namespaces"] = json!([
            { "type": "pid" }, { "type": "mount" }, { "type": "uts" }, { "type": "ipc" },
            { "type": "network", "path": "/proc/999999999/ns/net" }
        ])
    });
    let id = unique_name("nspath-missing");
    let line = create_fails(&rt, &bundle, bundle.path_str(), &id);
    assert!(line.contains("/proc/999999999/ns/net"), "{line}");
}

#[test]
fn user_mappings_without_user_namespace() {
    let rt = Runtime::new();
    let bundle = sleeping("maps-no-userns");
    bundle.edit(|s| {
        s["linux"]["uidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 1000 }]);
        s["linux"]["gidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 1000 }]);
    });
    let id = unique_name("maps-no-userns");
    create_fails(&rt, &bundle, bundle.path_str(), &id);
}
