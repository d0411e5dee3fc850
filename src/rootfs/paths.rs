//! After the pivot: read-only remounts of tmpfs mounts (kept writable while /dev was filled),
//! `linux.readonlyPaths`, `linux.maskedPaths` and a read-only root. Paths resolve inside the
//! container's root now, so plain path lookups cannot leave it.
use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{major, minor, stat, SFlag};
use oci_spec::runtime::Mount;

use super::mount_options;
use super::safe_path::clean;
use super::sys_mount::{errno_error, mount_flags_of};

fn remount(target: &Path, flags: MsFlags) -> nix::Result<()> {
    mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
}

/// Remount read-only the tmpfs (and /dev) mounts whose options said `ro`. MS_BIND|MS_REMOUNT
/// changes only the per-mount flags, which a user namespace may do as long as the mount's
/// other flags are passed along unchanged.
pub fn remount_readonly_mounts(mounts: &[Mount]) -> Result<()> {
    for m in mounts {
        let typ = m.typ().as_deref().unwrap_or("");
        let opts = mount_options::parse(m.options().as_deref().unwrap_or(&[]), typ)?;
        let is_dev = clean(m.destination()) == Path::new("dev");
        if !opts.flags.contains(MsFlags::MS_RDONLY) || opts.is_bind() || !(typ == "tmpfs" || is_dev)
        {
            continue;
        }
        let dest = Path::new("/").join(clean(m.destination()));
        let flags = opts.flags | MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
        // Another thread still holding a file open for writing makes it EBUSY for a moment.
        let mut result = remount(&dest, flags);
        for _ in 0..4 {
            if result != Err(Errno::EBUSY) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            result = remount(&dest, flags);
        }
        result
            .map_err(errno_error)
            .with_context(|| format!("unable to mount {dest:?} as readonly"))?;
    }
    Ok(())
}

/// Bind each path onto itself and remount it read-only, keeping the nosuid/nodev/noexec the
/// mount already has (dropping one is refused with EPERM). Missing paths are skipped.
pub fn readonly_paths(paths: &[String]) -> Result<()> {
    for path in paths {
        let p = Path::new(path);
        match mount(
            Some(p),
            p,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        ) {
            Ok(()) => {}
            Err(Errno::ENOENT) => continue,
            Err(e) => {
                return Err(errno_error(e))
                    .with_context(|| format!("can't make {path:?} read-only"))
            }
        }
        let keep = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        let flags = mount_flags_of(p).map_err(errno_error)? & keep;
        remount(
            p,
            flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        )
        .map_err(errno_error)
        .with_context(|| format!("can't make {path:?} read-only"))?;
    }
    Ok(())
}

/// Cover each path: /dev/null over a file, an empty read-only tmpfs over a directory.
/// Missing paths and repeats are skipped.
pub fn mask_paths(paths: &[String]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let null = stat("/dev/null")
        .map_err(errno_error)
        .context("can't mask paths")?;
    if null.st_mode & libc::S_IFMT != SFlag::S_IFCHR.bits()
        || (major(null.st_rdev), minor(null.st_rdev)) != (1, 3)
    {
        bail!("can't mask paths: container's /dev/null is invalid");
    }
    let mut done = HashSet::new();
    for path in paths {
        let p = Path::new("/").join(clean(Path::new(path)));
        if !done.insert(p.clone()) {
            continue;
        }
        let st = match stat(&p) {
            Ok(st) => st,
            Err(Errno::ENOENT) => continue,
            Err(e) => {
                return Err(errno_error(e)).with_context(|| format!("can't mask path {path:?}"))
            }
        };
        let result = if st.st_mode & libc::S_IFMT == SFlag::S_IFDIR.bits() {
            let data = Some("nr_blocks=1,nr_inodes=1");
            mount(Some("tmpfs"), &p, Some("tmpfs"), MsFlags::MS_RDONLY, data)
                .map_err(|e| (e, "dir"))
        } else {
            mount(
                Some("/dev/null"),
                &p,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| (e, "path"))
        };
        if let Err((e, kind)) = result {
            return Err(errno_error(e)).with_context(|| format!("can't mask {kind} {path:?}"));
        }
    }
    Ok(())
}

/// `root.readonly`: remount `/` read-only; when that is refused (locked flags in a user
/// namespace), again with the flags it already has.
pub fn readonly_root() -> Result<()> {
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    if remount(Path::new("/"), flags).is_ok() {
        return Ok(());
    }
    let current = mount_flags_of(Path::new("/")).map_err(errno_error)?;
    remount(Path::new("/"), flags | current)
        .map_err(errno_error)
        .context("error setting rootfs as readonly")
}
