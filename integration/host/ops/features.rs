//! `features` parses as the runtime-spec schema and tells the truth about this build: its
//! cgroup.systemd is true exactly when `--systemd-cgroup` reaches a systemd driver.

use crate::support::{Bundle, Runtime};

#[test]
fn features_parses_as_the_spec_schema() {
    let rt = Runtime::new();
    let out = rt.cmd(&["features"]).success();
    let doc = out.json();
    let typed: oci_spec::runtime::Features = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not the schema ({e}):\n{out}"));
    assert_eq!(typed.oci_version_min(), "1.0.0");
    assert!(typed.oci_version_max().starts_with("1."), "{out}");
    let hooks = typed.hooks().clone().unwrap();
    for h in [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ] {
        assert!(hooks.iter().any(|x| x == h), "hook {h} missing:\n{out}");
    }
    let opts = typed.mount_options().clone().unwrap();
    for o in ["ro", "nosuid", "rbind", "rprivate"] {
        assert!(
            opts.iter().any(|x| x == o),
            "mount option {o} missing:\n{out}"
        );
    }
    let linux = typed.linux().clone().unwrap();
    assert_eq!(linux.namespaces().as_ref().unwrap().len(), 8, "{out}");
    let caps = linux.capabilities().clone().unwrap();
    assert!(caps.iter().any(|c| c == "CAP_SYS_ADMIN"), "{out}");
    let cg = &doc["linux"]["cgroup"];
    for key in ["v1", "v2", "systemd", "systemdUser", "rdma"] {
        assert!(
            cg[key].is_boolean(),
            "linux.cgroup.{key} must be a boolean:\n{out}"
        );
    }
    for key in ["seccomp", "apparmor", "selinux", "intelRdt"] {
        assert!(
            doc["linux"][key]["enabled"].is_boolean(),
            "linux.{key}.enabled:\n{out}"
        );
    }
}

#[test]
fn features_cgroup_systemd_is_true_only_with_a_systemd_driver() {
    let rt = Runtime::new();
    let doc = rt.cmd(&["features"]).success().json();
    let claimed = doc["linux"]["cgroup"]["systemd"].as_bool().unwrap();
    let bundle = Bundle::busybox("ops-features-sd");
    bundle.edit(|s| s["linux"]["cgroupsPath"] = serde_json::json!("system.slice:ops:features"));
    let id = crate::support::unique_name("ops-features-sd");
    let out = rt.cmd(&[
        "--systemd-cgroup",
        "create",
        "--bundle",
        bundle.path_str(),
        &id,
    ]);
    // Whatever happened, nothing may stay behind.
    let _ = rt.cmd(&["delete", "--force", &id]);
    let not_built = out.stderr.contains("not built");
    if claimed {
        assert!(
            !not_built,
            "features claims systemd but the driver is missing:\n{out}"
        );
    } else {
        assert_eq!(out.code, Some(1), "{out}");
        assert!(
            not_built,
            "features denies systemd; create must say it is not built:\n{out}"
        );
    }
}
