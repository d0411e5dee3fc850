//! The `spec` command writes runc's default config.json, which must itself run.

use crate::support::{Runtime, Scratch, Value};

fn spec_in(rt: &Runtime, dir: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["spec", "--bundle", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    rt.cmd(&args).success();
    serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap()
}

#[test]
fn spec_writes_runcs_default() {
    let rt = Runtime::new();
    let dir = Scratch::new("spec");
    let spec = spec_in(&rt, dir.path(), &[]);
    assert!(spec["ociVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("1.")));
    assert_eq!(spec["process"]["args"], serde_json::json!(["sh"]));
    assert_eq!(spec["process"]["terminal"], true);
    assert_eq!(spec["root"]["path"], "rootfs");
    let kinds = namespace_kinds(&spec);
    for kind in ["pid", "network", "ipc", "uts", "mount"] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    // A second `spec` refuses to overwrite.
    rt.cmd(&["spec", "--bundle", dir.path().to_str().unwrap()])
        .failure();
}

#[test]
fn spec_rootless_maps_the_caller() {
    let rt = Runtime::new();
    let dir = Scratch::new("spec-rootless");
    let spec = spec_in(&rt, dir.path(), &["--rootless"]);
    let kinds = namespace_kinds(&spec);
    assert!(kinds.contains(&"user"), "{kinds:?}");
    assert_eq!(spec["linux"]["uidMappings"][0]["hostID"], 0);
    assert_eq!(spec["linux"]["uidMappings"][0]["containerID"], 0);
}

/// The namespace types a generated config asks for.
fn namespace_kinds(spec: &serde_json::Value) -> Vec<&str> {
    spec["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect()
}
