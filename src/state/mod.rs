//! state: what a container leaves in `<root>/<id>/` so later commands can find it.
//!
//! Inputs: the record `create` writes before it makes anything and completes when the init waits
//! on the exec FIFO (`creating`). Outputs: the record and its computed status. Runs in the runtime parent. Invariants: status is never stored
//! (it is derived from the init's pid + start time, the FIFO and the freezer); writes are
//! atomic (temp + rename); every mutating command holds the container's flock.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};

use crate::cgroups::dirs::ContainerDirs;
use crate::cgroups::{CgroupLocation, Owned};

mod creating;
mod id;
mod owner;
mod status;
mod store;

pub use creating::Creator;
pub use id::validate_id;
pub use owner::name_of as owner_name;
pub use status::{pid_start_time, Status};
pub use store::{ContainerDir, ContainerDirView, Store};

/// The persisted record of one container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub init_pid: i32,
    /// Field 22 of /proc/PID/stat at create: tells a live init from a recycled pid.
    pub init_start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339 creation time.
    pub created: String,
    pub owner: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    pub cgroup: CgroupLocation,
    /// The validated config, for hooks at start/delete and defaults for exec and update.
    pub config: Spec,
    /// Set while `create` builds the container, cleared when the init waits on the exec FIFO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating: Option<Creator>,
    /// The cgroup directories (and systemd unit) this container made: all that delete removes.
    /// Absent in a record written before shoji kept it: that container owns all of its cgroup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_owned: Option<Owned>,
}

/// runc's `state` output (runtime-spec state plus rootfs, created, owner), then shoji's own
/// fields. runc's come first and in runc's order: clients parse them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateView {
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    pub status: Status,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub annotations: HashMap<String, String>,
    /// The container's resolved cgroup path below each hierarchy's mount point.
    pub cgroup_path: PathBuf,
    /// What `bpf_get_current_cgroup_id()` returns in the container (cgroup2 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup_id: Option<u64>,
}

impl Record {
    /// What delete may remove and `kill --all` may signal wholesale, for a container whose
    /// cgroup directories are `dirs`.
    pub fn owned_cgroup(&self, dirs: &ContainerDirs) -> Owned {
        match &self.cgroup_owned {
            Some(owned) => owned.clone(),
            None => Owned::everything(dirs),
        }
    }

    /// The status right now, derived from the live system.
    pub fn status(&self, fifo: &Path) -> Status {
        status::compute(self, fifo)
    }

    /// The state document that `state`, `list --format json` and hooks show.
    pub fn view(&self, fifo: &Path) -> StateView {
        let status = self.status(fifo);
        self.view_with(status)
    }

    /// The state document with a given status (for hooks, before the record is saved).
    pub fn view_with(&self, status: Status) -> StateView {
        StateView {
            oci_version: self.config.version().clone(),
            id: self.id.clone(),
            pid: if status == Status::Stopped {
                0
            } else {
                self.init_pid
            },
            status,
            bundle: self.bundle.clone(),
            rootfs: self.rootfs.clone(),
            created: self.created.clone(),
            owner: self.owner.clone(),
            annotations: self.annotations.clone(),
            cgroup_path: self.cgroup.path.clone(),
            cgroup_id: crate::cgroups::identity::cgroup_id(&self.cgroup),
        }
    }
}

/// Fail unless the container is in one of `allowed` states, in runc's words.
pub fn require_status(record: &Record, fifo: &Path, allowed: &[Status]) -> Result<Status> {
    let status = record.status(fifo);
    if allowed.contains(&status) {
        return Ok(status);
    }
    match status {
        Status::Stopped => anyhow::bail!("container not running"),
        Status::Paused => anyhow::bail!("container paused"),
        other => anyhow::bail!("cannot do this with a container in state {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::CgroupMode;

    /// A record written before shoji kept ownership: its container owns its whole cgroup, so
    /// delete removes it as it did then.
    #[test]
    fn a_record_without_ownership_owns_its_whole_cgroup() {
        let json = serde_json::json!({
            "id": "c", "init_pid": 1, "init_start_time": 1, "bundle": "/b", "rootfs": "/r",
            "created": "t", "owner": "root", "config": Spec::default(),
            "cgroup": {"driver": "cgroupfs", "mode": "hybrid", "path": "/c", "unit": null, "slice": null},
        });
        let record: Record = serde_json::from_value(json).unwrap();
        assert!(record.cgroup_owned.is_none() && record.creating.is_none());
        let dirs = ContainerDirs {
            mode: CgroupMode::Hybrid,
            v1: vec![],
            unified: Some("/sys/fs/cgroup/unified/c".into()),
        };
        let owned = record.owned_cgroup(&dirs);
        assert_eq!(owned.dirs, [PathBuf::from("/sys/fs/cgroup/unified/c")]);
        assert!(owned.unit);
    }
}
