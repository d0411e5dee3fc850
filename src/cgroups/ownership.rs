//! What a container's create made, decided before it makes anything: the directories that do
//! not exist yet are the container's (it may remove them), the ones that exist belong to
//! someone else (a pod cgroup named by a mistyped cgroupsPath, another container's scope) and
//! are only joined. A frozen cgroup is refused here: a process moved into it stops in the
//! kernel and create would wait forever.
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::dirs::ContainerDirs;
use super::handle::pids_in;
use super::{files, CgroupMode};

/// Recorded in the state dir before the first mkdir (see `state::Record::cgroup_owned`):
/// delete removes exactly these, and kills every process of the cgroup only when `dirs`
/// includes the one listing the container's processes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    /// The container's directories, per hierarchy, that its create made.
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    /// systemd: the transient unit was started (or an empty leftover of it replaced) by this
    /// container, so delete stops it.
    #[serde(default)]
    pub unit: bool,
}

impl Owned {
    /// Every directory and the unit: a container recorded before ownership was kept.
    pub fn everything(dirs: &ContainerDirs) -> Owned {
        Owned {
            dirs: dirs.all().map(Path::to_path_buf).collect(),
            unit: true,
        }
    }

    /// Every process in `dirs`' process directory was placed there by this container.
    pub fn whole_cgroup(&self, dirs: &ContainerDirs) -> bool {
        dirs.procs_dir()
            .is_some_and(|d| self.dirs.iter().any(|o| o == d))
    }

    pub fn owns(&self, dir: &Path) -> bool {
        self.dirs.iter().any(|o| o == dir)
    }
}

/// Inspect the container's directories before create makes them: refuse a frozen one, warn
/// (as runc) when `procs` (the directory listing the cgroup's processes: the freezer's, or a
/// systemd unit's) already holds some, and return the directories still to be made.
pub fn claim(dirs: &ContainerDirs, procs: Option<&Path>) -> Result<Owned> {
    refuse_frozen(dirs)?;
    if let Some(procs) = procs.filter(|d| d.is_dir()) {
        let found = pids_in(procs)?.len();
        if found > 0 {
            tracing::warn!("container's cgroup is not empty: {found} process(es) found");
        }
    }
    Ok(Owned {
        dirs: dirs
            .all()
            .filter(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect(),
        unit: false,
    })
}

/// A process joining a frozen cgroup (or one below a frozen parent) never runs again.
fn refuse_frozen(dirs: &ContainerDirs) -> Result<()> {
    let Some(leaf) = dirs.of("freezer") else {
        return Ok(());
    };
    // A directory yet to be made inherits its parent's freezer state: check the nearest one
    // that exists.
    let Some(dir) = leaf.ancestors().find(|d| d.is_dir()) else {
        return Ok(());
    };
    let frozen = match dirs.mode {
        CgroupMode::V2 => {
            let events = files::read(&dir.join("cgroup.events")).unwrap_or_default();
            events.lines().any(|l| l == "frozen 1")
                || files::read(&dir.join("cgroup.freeze")).is_ok_and(|v| v.trim() == "1")
        }
        _ => files::read(&dir.join("freezer.state")).is_ok_and(|s| s.trim() != "THAWED"),
    };
    if frozen {
        bail!("cgroup {dir:?} is frozen: a container cannot be created in a frozen cgroup (thaw it first)");
    }
    Ok(())
}
