//! Checks made once, before anything is created, in runc's wording where runc has one.
use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use super::load::Bundle;

/// A spec that passed [`validate`], with the rootfs resolved against the bundle.
pub struct ValidatedSpec {
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub spec: Spec,
}

pub fn validate(bundle: Bundle) -> Result<ValidatedSpec> {
    let spec = bundle.spec;
    check_version(spec.version())?;
    let root = spec
        .root()
        .as_ref()
        .context("root must be set in config.json")?;
    let rootfs = bundle.path.join(root.path());
    if !rootfs.is_dir() {
        bail!("rootfs {rootfs:?} does not exist or is not a directory");
    }
    let rootfs = std::fs::canonicalize(&rootfs).with_context(|| format!("resolving {rootfs:?}"))?;
    // The runtime-spec requires `process` only for `start` (which refuses a container
    // without one): `create` accepts it, as the newest crun does.
    if let Some(process) = spec.process() {
        if process.args().as_ref().is_none_or(|a| a.is_empty()) {
            bail!("args must not be empty");
        }
        if !process.cwd().is_absolute() {
            bail!("cwd {:?} is not an absolute path", process.cwd());
        }
    }
    check_namespaces(&spec)?;
    Ok(ValidatedSpec {
        bundle: bundle.path,
        rootfs,
        spec,
    })
}

/// shoji implements runtime-spec 1.x; a 0.x or 2.x config means something else.
fn check_version(version: &str) -> Result<()> {
    let major = version.split('.').next().unwrap_or("");
    if major != "1" || version.split('.').count() < 3 {
        bail!("unsupported spec version {version:?}: shoji supports ociVersion 1.x.y");
    }
    Ok(())
}

fn check_namespaces(spec: &Spec) -> Result<()> {
    let linux = spec.linux().as_ref();
    let namespaces = linux
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    for ns in &namespaces {
        if !seen.insert(ns.typ()) {
            let name = serde_json::to_value(ns.typ())?;
            bail!("duplicate namespace type {name} in linux.namespaces");
        }
    }
    let has = |t: LinuxNamespaceType| namespaces.iter().any(|n| n.typ() == t);
    let user = namespaces
        .iter()
        .find(|n| n.typ() == LinuxNamespaceType::User);
    let mappings = linux.is_some_and(|l| {
        l.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
            || l.gid_mappings().as_ref().is_some_and(|m| !m.is_empty())
    });
    match user {
        None if mappings => {
            bail!("uidMappings/gidMappings are set but linux.namespaces has no user namespace")
        }
        Some(ns) if ns.path().is_some() && mappings => bail!(
            "user namespace path {:?} conflicts with uidMappings/gidMappings: the joined namespace has its own",
            ns.path().as_ref().unwrap()
        ),
        Some(ns) if ns.path().is_none() && !mappings => {
            bail!("a new user namespace needs uidMappings and gidMappings")
        }
        _ => {}
    }
    if spec.hostname().as_ref().is_some_and(|h| !h.is_empty()) && !has(LinuxNamespaceType::Uts) {
        bail!("unable to set hostname without a private UTS namespace");
    }
    if spec.domainname().as_ref().is_some_and(|h| !h.is_empty()) && !has(LinuxNamespaceType::Uts) {
        bail!("unable to set domainname without a private UTS namespace");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["1.0.0", "1.0.2-dev", "1.2.0", "1.3.0"] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in ["0.1.0", "2.0.0", "", "1", "abc"] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    fn spec_with(ns: serde_json::Value, extra: serde_json::Value) -> Spec {
        let mut v = serde_json::json!({"ociVersion": "1.0.2", "root": {"path": "rootfs"},
            "linux": {"namespaces": ns}});
        for (k, val) in extra.as_object().unwrap() {
            if k == "uidMappings" || k == "gidMappings" {
                v["linux"][k] = val.clone();
            } else {
                v[k] = val.clone();
            }
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn namespace_conflicts() {
        let mnt = serde_json::json!([{"type": "mount"}, {"type": "mount"}]);
        let e = check_namespaces(&spec_with(mnt, serde_json::json!({}))).unwrap_err();
        assert!(e.to_string().contains("duplicate namespace type"), "{e}");
        let m = serde_json::json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
        let user_path =
            serde_json::json!([{"type": "mount"}, {"type": "user", "path": "/proc/1/ns/user"}]);
        let e = check_namespaces(&spec_with(
            user_path,
            serde_json::json!({"uidMappings": m, "gidMappings": m}),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("conflicts"), "{e}");
        let no_uts = serde_json::json!([{"type": "mount"}]);
        let e =
            check_namespaces(&spec_with(no_uts, serde_json::json!({"hostname": "h"}))).unwrap_err();
        assert!(e.to_string().contains("UTS"), "{e}");
        let no_user = serde_json::json!([{"type": "mount"}]);
        let e = check_namespaces(&spec_with(no_user, serde_json::json!({"uidMappings": m})))
            .unwrap_err();
        assert!(e.to_string().contains("no user namespace"), "{e}");
    }
}
