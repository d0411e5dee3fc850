//! `shoji features`: the runtime-spec features document, assembled from each module's own
//! list of what it supports, so it cannot claim what the code does not do.
use anyhow::Result;
use serde_json::json;

/// The runtime-spec versions whose configs shoji accepts (spec::validate takes any 1.x).
const OCI_VERSION_MIN: &str = "1.0.0";
const OCI_VERSION_MAX: &str = "1.2.1";

pub fn document() -> serde_json::Value {
    json!({
        "ociVersionMin": OCI_VERSION_MIN,
        "ociVersionMax": OCI_VERSION_MAX,
        "hooks": crate::hooks::KNOWN,
        "mountOptions": crate::rootfs::mount_options::KNOWN,
        "linux": {
            "namespaces": crate::namespaces::KNOWN,
            "capabilities": crate::security::capabilities::known(),
            "cgroup": {
                "v1": true,
                "v2": true,
                "systemd": crate::systemd::BUILT_IN,
                "systemdUser": false,
                "rdma": false
            },
            "seccomp": {"enabled": false},
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false},
            "intelRdt": {"enabled": false},
            "mountExtensions": {"idmap": {"enabled": false}}
        },
        "annotations": {
            "org.opencontainers.runtime-spec.version": OCI_VERSION_MAX,
            "io.github.shoji.version": env!("CARGO_PKG_VERSION")
        }
    })
}

pub fn run() -> Result<i32> {
    println!("{}", serde_json::to_string_pretty(&document())?);
    Ok(0)
}
