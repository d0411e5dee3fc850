//! Which cgroup hierarchies this host has and where they are mounted, read from
//! /proc/self/mountinfo once per command.
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};

use super::CgroupMode;

/// Every cgroup mount lives below this directory; mounts elsewhere (a bind into some rootfs)
/// are not the host's hierarchies and are ignored.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One mounted hierarchy: its controllers (`["cpu", "cpuacct"]`, `["name=systemd"]`, or empty
/// for cgroup2), where it is mounted, and which cgroup the mount shows at its mount point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub controllers: Vec<String>,
    pub mount_point: PathBuf,
    /// The mountinfo "root" field: `/` unless the mount shows a sub-cgroup (cgroup namespaces).
    pub root: PathBuf,
}

impl Hierarchy {
    /// The key naming this hierarchy in `CgroupLocation::hierarchy_paths` and in
    /// /proc/PID/cgroup: `cpu,cpuacct`, `memory`, `name=systemd`, or `unified` for cgroup2.
    pub fn key(&self) -> String {
        if self.controllers.is_empty() {
            UNIFIED_KEY.to_string()
        } else {
            self.controllers.join(",")
        }
    }

    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

pub const UNIFIED_KEY: &str = "unified";

/// The host's layout: v1 hierarchies (in mountinfo order) and the cgroup2 mount, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounts {
    pub mode: CgroupMode,
    pub v1: Vec<Hierarchy>,
    pub unified: Option<Hierarchy>,
}

impl Mounts {
    /// The v1 hierarchy carrying `controller`, e.g. `cpuacct` in a `cpu,cpuacct` mount.
    pub fn v1_with(&self, controller: &str) -> Option<&Hierarchy> {
        self.v1.iter().find(|h| h.has(controller))
    }

    /// Every hierarchy a container joins, in the order they are joined: v1 first, then cgroup2.
    pub fn all(&self) -> impl Iterator<Item = &Hierarchy> {
        self.v1.iter().chain(self.unified.iter())
    }
}

/// The host's mounts, detected on first use and then reused for the rest of the command.
pub fn mounts() -> Result<&'static Mounts> {
    static MOUNTS: OnceLock<Mounts> = OnceLock::new();
    if let Some(m) = MOUNTS.get() {
        return Ok(m);
    }
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .context("reading \"/proc/self/mountinfo\"")?;
    let parsed = parse_mountinfo(&text)?;
    Ok(MOUNTS.get_or_init(|| parsed))
}

/// Parse mountinfo text into the cgroup layout (pure, for tests).
pub fn parse_mountinfo(text: &str) -> Result<Mounts> {
    let mut v1: Vec<Hierarchy> = Vec::new();
    let mut unified = None;
    for m in crate::mountinfo::parse(text) {
        let Some(hierarchy) = hierarchy_of(&m) else {
            continue;
        };
        if !hierarchy.mount_point.starts_with(CGROUP_ROOT) {
            continue;
        }
        match m.fs_type.as_str() {
            "cgroup2" => unified = unified.or(Some(hierarchy)),
            _ if v1.iter().any(|h| h.controllers == hierarchy.controllers) => {}
            _ => v1.push(hierarchy),
        }
    }
    let mode = match (&unified, v1.is_empty()) {
        (Some(u), true) if u.mount_point == Path::new(CGROUP_ROOT) => CgroupMode::V2,
        (Some(_), true) => bail!("cgroup2 is mounted below {CGROUP_ROOT:?} but no v1 hierarchy is"),
        (Some(_), false) => CgroupMode::Hybrid,
        (None, false) => CgroupMode::V1,
        (None, true) => bail!("no cgroup filesystem is mounted at {CGROUP_ROOT:?}"),
    };
    Ok(Mounts { mode, v1, unified })
}

/// A cgroup or cgroup2 mount as a hierarchy; None for any other filesystem.
fn hierarchy_of(m: &crate::mountinfo::MountInfo) -> Option<Hierarchy> {
    let controllers = match m.fs_type.as_str() {
        "cgroup2" => Vec::new(),
        "cgroup" => m
            .super_options
            .split(',')
            .filter(|o| is_controller_option(o))
            .map(str::to_string)
            .collect(),
        _ => return None,
    };
    Some(Hierarchy {
        controllers,
        mount_point: m.mount_point.clone(),
        root: m.root.clone(),
    })
}

/// v1 super options mix controllers with mount flags; keep only the controllers.
fn is_controller_option(opt: &str) -> bool {
    !matches!(
        opt,
        "rw" | "ro" | "noprefix" | "clone_children" | "xattr" | "cpuset_v2_mode"
    ) && !opt.starts_with("release_agent=")
        && (opt.starts_with("name=") || !opt.contains('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_host_with_separate_cpu_and_cpuacct() {
        let m = parse_mountinfo(HYBRID).unwrap();
        assert_eq!(m.mode, CgroupMode::Hybrid);
        let keys: Vec<String> = m.all().map(Hierarchy::key).collect();
        assert_eq!(
            keys,
            ["cpu", "cpuacct", "memory", "name=systemd", "unified"]
        );
        assert_eq!(
            m.v1_with("cpuacct").unwrap().mount_point,
            Path::new("/sys/fs/cgroup/cpuacct")
        );
        assert_eq!(
            m.unified.unwrap().mount_point,
            Path::new("/sys/fs/cgroup/unified")
        );
    }

    #[test]
    fn co_mounted_cpu_cpuacct_and_release_agent_option() {
        let text = "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
                    26 24 0:23 /docker/x /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids,release_agent=/x\n";
        let m = parse_mountinfo(text).unwrap();
        assert_eq!(m.mode, CgroupMode::V1);
        assert_eq!(m.v1_with("cpu").unwrap().key(), "cpu,cpuacct");
        assert_eq!(m.v1_with("cpuacct").unwrap().key(), "cpu,cpuacct");
        assert_eq!(m.v1_with("pids").unwrap().root, Path::new("/docker/x"));
        assert!(m.v1_with("memory").is_none());
    }

    #[test]
    fn pure_v2_and_binds_outside_the_cgroup_root() {
        let text = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n\
                    90 80 0:32 / /run/shoji/c1/rootfs/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        let m = parse_mountinfo(text).unwrap();
        assert_eq!(m.mode, CgroupMode::V2);
        assert!(m.v1.is_empty());
    }

    #[test]
    fn no_cgroup_mount_is_an_error() {
        let err = parse_mountinfo("1 0 8:1 / / rw - ext4 /dev/vda rw\n").unwrap_err();
        assert!(err.to_string().contains("no cgroup filesystem"), "{err}");
    }
}
