//! `cgroup` and `cgroup2` mounts.
//!
//! On a v1 or hybrid host a `cgroup` mount is a tmpfs at the destination holding one directory
//! per host hierarchy, named as on the host (`memory`, `systemd`, `unified`, ...). With a new
//! cgroup namespace each is a fresh mount (it shows the namespace's root); without one, the
//! container's own cgroup directory in each hierarchy is bound there, so the container never
//! sees its parents. On a pure v2 host `cgroup` means `cgroup2`. This follows runc, plus the
//! `unified` hierarchy of hybrid hosts, which runc leaves out.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC};

use super::mount::{bind_mount, mount_entry, mount_fs, open_mountpoint, Entry, MountCtx};
use super::mount_options::MountOptions;
use super::safe_path::clean;
use super::sys_mount::{errno_error, io_error, is_errno};
use crate::mountinfo::{self, MountInfo};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One host hierarchy as the container should see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// The directory name under the destination: the host mountpoint's base name.
    pub name: String,
    /// `cgroup` or `cgroup2`.
    pub fs_type: String,
    /// Data for a fresh mount: the controllers (`memory`, `name=systemd`); empty for v2.
    pub data: String,
    /// This process's cgroup in the hierarchy, as a host path; None when it is not below the
    /// mount's root (as seen from inside a cgroup namespace).
    pub own_dir: Option<PathBuf>,
}

/// Match each cgroup mount (outside `exclude_under`, the rootfs) with its line of
/// /proc/self/cgroup; the first mount of a hierarchy wins.
pub fn hierarchies(
    mounts: &[MountInfo],
    proc_cgroup: &str,
    exclude_under: &Path,
) -> Vec<Hierarchy> {
    let lines: Vec<(&str, &str)> = proc_cgroup
        .lines()
        .filter_map(|l| {
            let mut fields = l.splitn(3, ':');
            fields.next()?;
            Some((fields.next()?, fields.next()?))
        })
        .collect();
    let mut used = vec![false; lines.len()];
    let mut out = Vec::new();
    for m in mounts
        .iter()
        .filter(|m| !m.mount_point.starts_with(exclude_under))
    {
        let super_opts: Vec<&str> = m.super_options.split(',').collect();
        let found = lines
            .iter()
            .position(|(ctrls, _)| match m.fs_type.as_str() {
                "cgroup2" => ctrls.is_empty(),
                "cgroup" => !ctrls.is_empty() && ctrls.split(',').all(|c| super_opts.contains(&c)),
                _ => false,
            });
        let Some(i) = found.filter(|i| !used[*i]) else {
            continue;
        };
        used[i] = true;
        let (ctrls, path) = lines[i];
        let own_dir = Path::new(path)
            .strip_prefix(&m.root)
            .ok()
            .map(|rel| m.mount_point.join(rel));
        let name = m
            .mount_point
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(Hierarchy {
            name,
            fs_type: m.fs_type.clone(),
            data: ctrls.to_string(),
            own_dir,
        });
    }
    out
}

fn host_is_unified() -> bool {
    statfs(CGROUP_ROOT).is_ok_and(|s| s.filesystem_type() == CGROUP2_SUPER_MAGIC)
}

fn own_hierarchies(ctx: &MountCtx) -> Result<Vec<Hierarchy>> {
    let mounts = mountinfo::read_self()
        .map_err(io_error)
        .context("read /proc/self/mountinfo")?;
    let cgroups = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(io_error)
        .context("read /proc/self/cgroup")?;
    Ok(hierarchies(&mounts, &cgroups, ctx.root.path()))
}

/// A `cgroup` mount.
pub fn mount_cgroup(ctx: &MountCtx, e: &Entry) -> Result<()> {
    if host_is_unified() {
        return mount_cgroup2(ctx, e);
    }
    let found = own_hierarchies(ctx)?;
    let holder = MountOptions {
        flags: MsFlags::MS_NOEXEC | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        data: "mode=755".into(),
        propagation: e.opts.propagation.clone(),
        ..Default::default()
    };
    let tmpfs = Entry {
        source: "tmpfs".into(),
        dest: e.dest.clone(),
        kind: "tmpfs".into(),
        opts: holder,
    };
    mount_entry(ctx, &tmpfs)?;
    for h in &found {
        let dest = e.dest.join(&h.name);
        if ctx.cgroup_ns {
            let mut opts = MountOptions {
                data: h.data.clone(),
                ..Default::default()
            };
            opts.flags = MsFlags::MS_NOEXEC | MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
            opts.flags |= e.opts.flags & MsFlags::MS_RDONLY;
            let source = if h.data.starts_with("name=") {
                "systemd"
            } else {
                h.fs_type.as_str()
            };
            let fresh = Entry {
                source: source.into(),
                dest,
                kind: h.fs_type.clone(),
                opts,
            };
            mount_fs(ctx, &fresh, &h.fs_type, open_mountpoint(ctx, &fresh)?)?;
        } else {
            let own = h
                .own_dir
                .as_ref()
                .ok_or_else(|| anyhow!("cannot find own cgroup in the {:?} hierarchy", h.name))?;
            let mut opts = e.opts.clone();
            opts.flags |= MsFlags::MS_BIND | MsFlags::MS_REC;
            let source = own.to_string_lossy().into_owned();
            bind_mount(
                ctx,
                &Entry {
                    source,
                    dest,
                    kind: "bind".into(),
                    opts,
                },
            )?;
        }
    }
    link_comounted(ctx, e, &found)
}

/// `cpu,cpuacct` gets `cpu` and `cpuacct` symlinks beside it, as on the host.
fn link_comounted(ctx: &MountCtx, e: &Entry, found: &[Hierarchy]) -> Result<()> {
    for h in found.iter().filter(|h| h.name.contains(',')) {
        for part in h.name.split(',') {
            let link = clean(&e.dest.join(part));
            match ctx.root.symlink(&h.name, &link) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(err) => return Err(errno_error(err)).context(format!("symlink {link:?}")),
            }
        }
    }
    Ok(())
}

/// A `cgroup2` mount: fresh when the kernel allows it, else (a user namespace without its own
/// cgroup namespace) a bind of the host's v2 hierarchy, or of the container's own cgroup in it.
pub fn mount_cgroup2(ctx: &MountCtx, e: &Entry) -> Result<()> {
    let source = if e.source.is_empty() {
        "cgroup2".to_string()
    } else {
        e.source.clone()
    };
    let fresh = Entry {
        source,
        kind: "cgroup2".into(),
        ..e.clone()
    };
    match mount_fs(ctx, &fresh, "cgroup2", open_mountpoint(ctx, e)?) {
        Err(err) if is_errno(&err, Errno::EPERM) || is_errno(&err, Errno::EBUSY) => {}
        other => return other,
    }
    let unified = if host_is_unified() {
        CGROUP_ROOT.to_string()
    } else {
        format!("{CGROUP_ROOT}/unified")
    };
    let mut source = unified;
    if ctx.cgroup_ns {
        let own = own_hierarchies(ctx)?
            .into_iter()
            .find(|h| h.fs_type == "cgroup2")
            .and_then(|h| h.own_dir);
        if let Some(own) = own {
            source = own.to_string_lossy().into_owned();
        }
    }
    let mut opts = e.opts.clone();
    opts.flags |= MsFlags::MS_BIND;
    bind_mount(
        ctx,
        &Entry {
            source,
            dest: e.dest.clone(),
            kind: "bind".into(),
            opts,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
90 80 0:32 / /run/ctr/rootfs/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
91 31 0:32 /kube /mnt/memory-again rw - cgroup cgroup rw,memory";

    const PROC_CGROUP: &str = "\
12:memory:/process_api/abc
11:cpu,cpuacct:/c1
1:name=systemd:/init.scope
0::/c1";

    #[test]
    fn matches_hierarchies_with_own_cgroup() {
        let mounts = mountinfo::parse(MOUNTINFO);
        let got = hierarchies(&mounts, PROC_CGROUP, Path::new("/run/ctr/rootfs"));
        let names: Vec<&str> = got.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["cpu,cpuacct", "memory", "systemd", "unified"]);
        assert_eq!(got[0].data, "cpu,cpuacct");
        assert_eq!(
            got[1].own_dir,
            Some(PathBuf::from("/sys/fs/cgroup/memory/process_api/abc"))
        );
        assert_eq!(got[2].data, "name=systemd");
        assert_eq!(
            got[2].own_dir,
            Some(PathBuf::from("/sys/fs/cgroup/systemd/init.scope"))
        );
        assert_eq!(got[3].fs_type, "cgroup2");
        assert_eq!(got[3].data, "");
        assert_eq!(
            got[3].own_dir,
            Some(PathBuf::from("/sys/fs/cgroup/unified/c1"))
        );
    }

    #[test]
    fn cgroup_outside_the_mount_root_has_no_own_dir() {
        let text = "91 31 0:32 /kube /mnt/memory rw - cgroup cgroup rw,memory";
        let got = hierarchies(
            &mountinfo::parse(text),
            "12:memory:/other/x",
            Path::new("/rootfs"),
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].own_dir, None);
    }
}
