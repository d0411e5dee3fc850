//! A container's cgroup directory in each hierarchy, from its saved location and the mounts.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};

use super::mode::{Hierarchy, Mounts};
use super::{path, CgroupLocation, CgroupMode};

/// One hierarchy's directory for the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    pub hierarchy: Hierarchy,
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerDirs {
    pub mode: CgroupMode,
    /// v1 hierarchies the container lives in (every mounted one runc knows; named hierarchies
    /// other than name=systemd belong to someone else).
    pub v1: Vec<Dir>,
    /// The cgroup2 directory: the container's only cgroup on V2; on Hybrid a best-effort
    /// membership so tools keyed by v2 cgroup ids (eBPF) find the container.
    pub unified: Option<PathBuf>,
}

impl ContainerDirs {
    pub fn new(loc: &CgroupLocation, mounts: &Mounts) -> Self {
        let below = |h: &Hierarchy| {
            loc.hierarchy_paths
                .get(&h.key())
                .unwrap_or(&loc.path)
                .clone()
        };
        let v1 = mounts
            .v1
            .iter()
            .filter(|h| {
                h.controllers
                    .iter()
                    .all(|c| !c.starts_with("name=") || c == "name=systemd")
            })
            .map(|h| Dir {
                hierarchy: h.clone(),
                path: path::in_hierarchy(h, &below(h)),
            })
            .collect();
        let unified = mounts
            .unified
            .as_ref()
            .map(|h| path::in_hierarchy(h, &below(h)));
        ContainerDirs {
            mode: mounts.mode,
            v1,
            unified,
        }
    }

    /// The directory of the hierarchy carrying `controller` (v1), or the cgroup2 directory on
    /// V2 for any controller.
    pub fn of(&self, controller: &str) -> Option<&Path> {
        match self.mode {
            CgroupMode::V2 => self.unified.as_deref(),
            _ => self
                .v1
                .iter()
                .find(|d| d.hierarchy.has(controller))
                .map(|d| d.path.as_path()),
        }
    }

    /// Like [`Self::of`], with the error naming the missing hierarchy.
    pub fn require(&self, controller: &str) -> Result<PathBuf> {
        self.of(controller).map(Path::to_path_buf).ok_or_else(|| {
            anyhow!("the {controller:?} cgroup hierarchy is not mounted on this host")
        })
    }

    /// Every directory of the container: v1 ones, then cgroup2.
    pub fn all(&self) -> impl Iterator<Item = &Path> {
        self.v1
            .iter()
            .map(|d| d.path.as_path())
            .chain(self.unified.as_deref())
    }

    /// The directory whose cgroup.procs (recursively) lists every process of the container:
    /// cgroup2 on V2, else the freezer (what pause acts on), else any v1 hierarchy.
    pub fn procs_dir(&self) -> Option<&Path> {
        match self.mode {
            CgroupMode::V2 => self.unified.as_deref(),
            _ => ["freezer", "pids", "memory", "devices"]
                .iter()
                .find_map(|c| self.of(c))
                .or_else(|| self.v1.first().map(|d| d.path.as_path())),
        }
    }
}
