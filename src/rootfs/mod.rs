//! rootfs: the container's filesystem view, built in the container child.
//!
//! Inputs: the spec's `root`, `mounts`, `linux.{devices, maskedPaths, readonlyPaths,
//! rootfsPropagation}`. Runs in the container child, which must already be in its own mount
//! namespace (and user namespace, maps written and uid/gid 0 taken in it, if any: files made
//! in a tmpfs by an unmapped uid fail with EOVERFLOW), hold CAP_SYS_ADMIN there, have the
//! host's /proc mounted at /proc (mounts go through /proc/self/fd), sit in its final cgroup
//! (a `cgroup` mount binds the directories /proc/self/cgroup names) and have the bundle as
//! its cwd (relative bind sources resolve against it, as in runc). Called in this order:
//! `prepare`, then the createContainer hooks, `enter`, then `finalize` before execve.
//! Invariants: nothing here touches the host's mount table (`/` is made rslave or as
//! `rootfsPropagation` asks before anything is mounted, and the rootfs's parent mount is made
//! private); every mount destination is resolved inside the rootfs (openat2 RESOLVE_IN_ROOT);
//! every error names the mount's source and destination the way runc does.
//! The only raw syscall, mount_setattr, lives in `sys_mount.rs` (src/sys.rs is the lead's).
mod cgroup_mount;
mod copyup;
mod devices;
mod mount;
pub mod mount_options;
mod paths;
mod pivot;
mod safe_path;
mod sys_mount;
#[cfg(test)]
mod tests_real;

use std::path::Path;

use anyhow::{Context, Result};
use oci_spec::runtime::Spec;

/// In the runtime parent, before any namespace exists: an O_PATH fd for every bind mount's
/// source, in spec order (None for other mounts, or a source that cannot be opened: the init
/// then tries the path and reports it as before). A container's mapped root may be unable to
/// reach a source (a 0700 directory of the host's root on the way); runc opens the sources
/// while it is still the host's root, and so does shoji. The fds are close-on-exec.
pub fn open_bind_sources(spec: &Spec, bundle: &Path) -> Vec<Option<std::os::fd::OwnedFd>> {
    let mounts = spec.mounts().as_deref().unwrap_or(&[]);
    mounts
        .iter()
        .map(|m| mount::open_bind_source(m, bundle))
        .collect()
}

/// What the child knows when it builds the rootfs.
pub struct RootfsConfig<'a> {
    pub spec: &'a Spec,
    /// Absolute host path of `root.path` (already resolved against the bundle).
    pub rootfs: &'a Path,
    /// `--no-pivot`: move the rootfs onto / and chroot instead of pivot_root.
    pub no_pivot: bool,
    /// The container has a new user namespace: device nodes are bind-mounted, not mknod'ed.
    pub user_ns: bool,
    /// The container has a new cgroup namespace (affects how `cgroup` mounts are made).
    pub cgroup_ns: bool,
    /// Per spec mount, a bind source the runtime opened before the user namespace existed
    /// (see [`open_bind_sources`]); the init mounts it through /proc/self/fd.
    pub bind_sources: &'a [Option<std::os::fd::RawFd>],
}

impl RootfsConfig<'_> {
    fn mounts(&self) -> &[oci_spec::runtime::Mount] {
        self.spec.mounts().as_deref().unwrap_or(&[])
    }

    fn linux(&self) -> Option<&oci_spec::runtime::Linux> {
        self.spec.linux().as_ref()
    }

    fn propagation(&self) -> Result<nix::mount::MsFlags> {
        let value = self.linux().and_then(|l| l.rootfs_propagation().as_deref());
        mount_options::parse_root_propagation(value)
    }
}

/// The spec checks that need no kernel: mount options, `rootfsPropagation`, device types.
/// Pure, so the runtime parent can call it before creating anything (`prepare` repeats it).
pub fn validate(spec: &Spec, no_pivot: bool) -> Result<()> {
    for m in spec.mounts().as_deref().unwrap_or(&[]) {
        let source = m
            .source()
            .as_ref()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        let context = || {
            format!(
                "error mounting {source:?} to rootfs at {:?}",
                m.destination()
            )
        };
        let typ = m.typ().as_deref().unwrap_or("");
        mount_options::parse(m.options().as_deref().unwrap_or(&[]), typ).with_context(context)?;
    }
    let linux = spec.linux().as_ref();
    let value = linux.and_then(|l| l.rootfs_propagation().as_deref());
    let propagation = mount_options::parse_root_propagation(value)?;
    // After a chroot the host's mounts stay referenced by this namespace, which cannot unmount
    // them; with private propagation the host's unmounts would never reach them (runc's rule).
    if no_pivot && propagation.contains(nix::mount::MsFlags::MS_PRIVATE) {
        anyhow::bail!("rootfsPropagation of [r]private is not safe without pivot_root");
    }
    devices::node_list(linux.and_then(|l| l.devices().as_deref()).unwrap_or(&[]))?;
    Ok(())
}

/// Propagation, rootfs bind, every spec mount, devices and /dev links; stops before pivot.
pub fn prepare(cfg: &RootfsConfig) -> Result<()> {
    validate(cfg.spec, cfg.no_pivot)?;
    let propagation = cfg.propagation()?;
    pivot::prepare_root(cfg.rootfs, propagation).context("error preparing rootfs")?;
    // Opened after the self-bind, so every mount lands on the bind the pivot will enter.
    let root = safe_path::Root::open(cfg.rootfs)?;
    let ctx = mount::MountCtx {
        root: &root,
        user_ns: cfg.user_ns,
        cgroup_ns: cfg.cgroup_ns,
    };
    for (i, m) in cfg.mounts().iter().enumerate() {
        let opened = cfg.bind_sources.get(i).copied().flatten();
        mount::mount_spec_entry(&ctx, m, opened)?;
        // A host tree stays open no longer than its own mount (see process/fds.rs).
        if let Some(tree) = opened {
            nix::unistd::close(tree).context("closing a bind source")?;
        }
    }
    if devices::needs_dev_setup(cfg.mounts()) {
        let spec_devices = cfg
            .linux()
            .and_then(|l| l.devices().as_deref())
            .unwrap_or(&[]);
        devices::setup_dev(&root, spec_devices, cfg.user_ns)
            .context("configuring container /dev")?;
    }
    Ok(())
}

/// pivot_root into the rootfs (or move + chroot with `--no-pivot`), ending at cwd `/`.
pub fn enter(cfg: &RootfsConfig) -> Result<()> {
    let jail = if cfg.no_pivot {
        pivot::move_root(cfg.rootfs)
    } else {
        pivot::pivot(cfg.rootfs)
    };
    jail.context("error jailing process inside rootfs")?;
    pivot::apply_root_propagation(cfg.propagation()?)?;
    if devices::needs_dev_setup(cfg.mounts()) {
        devices::reopen_dev_null().context("error reopening /dev/null inside container")?;
    }
    Ok(())
}

/// After pivot: read-only tmpfs remounts, readonlyPaths, maskedPaths, a read-only root.
/// Sysctls must be written before this (readonlyPaths usually covers /proc/sys).
pub fn finalize(cfg: &RootfsConfig) -> Result<()> {
    paths::remount_readonly_mounts(cfg.mounts())?;
    let linux = cfg.linux();
    paths::readonly_paths(
        linux
            .and_then(|l| l.readonly_paths().as_deref())
            .unwrap_or(&[]),
    )?;
    paths::mask_paths(
        linux
            .and_then(|l| l.masked_paths().as_deref())
            .unwrap_or(&[]),
    )?;
    if cfg
        .spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        paths::readonly_root()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> Spec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn validate_names_the_bad_field() {
        let cases = [
            (
                r#"{"mounts":[{"destination":"/d","source":"/s","options":["rbind","nosiud"]}]}"#,
                false,
                r#"error mounting "/s" to rootfs at "/d": unknown mount option "nosiud""#,
            ),
            (
                r#"{"linux":{"rootfsPropagation":"sideways"}}"#,
                false,
                "rootfsPropagation=sideways is not supported",
            ),
            (
                r#"{"linux":{"rootfsPropagation":"rprivate"}}"#,
                true,
                "rootfsPropagation of [r]private is not safe without pivot_root",
            ),
            (
                r#"{"linux":{"devices":[{"path":"/dev/x","type":"a","major":1,"minor":1}]}}"#,
                false,
                r#""a" is not a valid device type for device "/dev/x""#,
            ),
        ];
        for (json, no_pivot, want) in cases {
            let err = validate(
                &spec(&format!(r#"{{"ociVersion":"1.0.2",{}"#, &json[1..])),
                no_pivot,
            );
            assert_eq!(format!("{:#}", err.unwrap_err()), want, "{json}");
        }
        let ok = r#"{"ociVersion":"1.0.2","linux":{"rootfsPropagation":"rprivate"}}"#;
        validate(&spec(ok), false).unwrap();
    }
}
