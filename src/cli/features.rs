//! `shoji features`: the runtime-spec features document (features.md), assembled from each
//! module's own list of what it supports, so it cannot claim what the code does not do. The
//! fields are written in runc's order; absent means "unknown" in the spec, so every field
//! shoji knows the answer to is present, `false` included.
use anyhow::Result;
use serde::Serialize;

/// The newest runtime-spec version shoji implements, as a literal for `concat!` (the version
/// text is a constant clap prints).
macro_rules! oci_version_max {
    () => {
        "1.2.1"
    };
}
pub(crate) use oci_version_max;

/// The runtime-spec versions whose configs shoji accepts (spec::validate takes any 1.x).
const OCI_VERSION_MIN: &str = "1.0.0";
pub const OCI_VERSION_MAX: &str = oci_version_max!();

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    oci_version_min: &'static str,
    oci_version_max: &'static str,
    hooks: Vec<&'static str>,
    mount_options: Vec<&'static str>,
    linux: Linux,
    annotations: std::collections::BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Linux {
    namespaces: Vec<&'static str>,
    capabilities: Vec<String>,
    cgroup: Cgroup,
    seccomp: crate::security::seccomp::Features,
    apparmor: Enabled,
    selinux: Enabled,
    intel_rdt: Enabled,
    mount_extensions: MountExtensions,
}

/// Whether support is compiled in, not whether this host uses it (features.md).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Cgroup {
    v1: bool,
    v2: bool,
    systemd: bool,
    systemd_user: bool,
    rdma: bool,
}

#[derive(Serialize)]
struct Enabled {
    enabled: bool,
}

#[derive(Serialize)]
struct MountExtensions {
    idmap: Enabled,
}

const NO: Enabled = Enabled { enabled: false };

pub fn document() -> Features {
    let mut capabilities = crate::security::capabilities::known();
    capabilities.sort(); // the caps crate hands out a hash set
    Features {
        oci_version_min: OCI_VERSION_MIN,
        oci_version_max: OCI_VERSION_MAX,
        hooks: crate::hooks::KNOWN.to_vec(),
        mount_options: crate::rootfs::mount_options::KNOWN.to_vec(),
        linux: Linux {
            namespaces: crate::namespaces::KNOWN.to_vec(),
            capabilities,
            cgroup: Cgroup {
                // Both are written by the cgroupfs driver; rdma is not a resource shoji sets.
                v1: true,
                v2: true,
                systemd: cfg!(feature = "systemd"),
                systemd_user: false,
                rdma: false,
            },
            seccomp: crate::security::seccomp::features(),
            // No LSM, RDT or id-mapped mount support is built yet.
            apparmor: NO,
            selinux: NO,
            intel_rdt: NO,
            mount_extensions: MountExtensions { idmap: NO },
        },
        annotations: [
            ("org.opencontainers.runtime-spec.version", OCI_VERSION_MAX),
            ("io.github.shoji.version", env!("CARGO_PKG_VERSION")),
        ]
        .into(),
    }
}

pub fn run() -> Result<i32> {
    println!("{}", serde_json::to_string_pretty(&document())?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field parses as the spec's schema (oci-spec's Features type) and survives the
    /// round trip: nothing is misnamed or of the wrong type.
    #[test]
    fn matches_the_spec_schema() {
        let ours = serde_json::to_value(document()).unwrap();
        let parsed: oci_spec::runtime::Features = serde_json::from_value(ours.clone()).unwrap();
        let back = strip_nulls(serde_json::to_value(parsed).unwrap());
        assert_eq!(back, ours);
    }

    fn strip_nulls(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => m
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
            other => other,
        }
    }
}
