//! Checks made once, before anything is created, in runc's wording where runc has one.
use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};

use super::load::Bundle;
use crate::quote::quoted;
use crate::security::lsm;

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
            let cwd = process.cwd().to_string_lossy();
            bail!("cwd {} is not an absolute path", quoted(&cwd));
        }
        check_process(process)?;
    }
    check_namespaces(&spec)?;
    check_restricted_paths(&spec)?;
    super::sysctl::check(&spec)?;
    let mount_label = spec.linux().as_ref().and_then(|l| l.mount_label().clone());
    lsm::refuse_labels(&lsm::Labels {
        mount_label: mount_label.as_deref(),
        ..Default::default()
    })?;
    Ok(ValidatedSpec {
        bundle: bundle.path,
        rootfs,
        spec,
    })
}

/// The largest id runc accepts: above it, (u32)-1 is setresuid's "unchanged" (the process
/// would stay root) and the rest are negative ids to much of userspace.
const MAX_ID: u32 = 2_147_483_647;

/// What a process (of the config, or of `exec`) may ask for: ids in range, `KEY=VALUE`
/// environment entries, no LSM label shoji would drop.
pub fn check_process(process: &Process) -> Result<()> {
    let user = process.user();
    let ids = [("uid", user.uid()), ("gid", user.gid())]
        .into_iter()
        .chain(
            user.additional_gids()
                .iter()
                .flatten()
                .map(|g| ("additionalGids", *g)),
        );
    for (field, id) in ids {
        if id > MAX_ID {
            bail!("process.user.{field} {id}: uids and gids must be in range 0-{MAX_ID}");
        }
    }
    for entry in process.env().iter().flatten() {
        match entry.split_once('=') {
            None => bail!(
                "invalid environment variable {}: missing '='",
                quoted(entry)
            ),
            Some(("", _)) => bail!(
                "invalid environment variable {}: name cannot be empty",
                quoted(entry)
            ),
            Some(_) => {}
        }
    }
    lsm::refuse_labels(&lsm::Labels {
        apparmor_profile: process.apparmor_profile().as_deref(),
        selinux_label: process.selinux_label().as_deref(),
        mount_label: None,
    })
}

/// maskedPaths and readonlyPaths are mounts made in the container's own mount namespace;
/// without a new one there is nowhere to make them (runc's check and wording).
fn check_restricted_paths(spec: &Spec) -> Result<()> {
    let Some(linux) = spec.linux().as_ref() else {
        return Ok(());
    };
    let listed = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
    let restricted = listed(linux.masked_paths()) || listed(linux.readonly_paths());
    let new_mount_ns = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|n| n.typ() == LinuxNamespaceType::Mount && n.path().is_none());
    if restricted && !new_mount_ns {
        bail!("unable to restrict sys entries without a private MNT namespace");
    }
    Ok(())
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
