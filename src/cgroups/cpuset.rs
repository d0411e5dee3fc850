//! v1 cpuset directories: a new cpuset cgroup starts with empty `cpuset.cpus` and
//! `cpuset.mems`, and the kernel refuses to move a task into it (ENOSPC) until both are set.
//! So, as runc does, each directory from the mount down to the container's gets its parent's
//! values wherever its own are empty. (libcgroups 0.7 does the same walk, but only inside its
//! Manager's add_task, which joins the task at once, before any limit is written, and in every
//! hierarchy in hash order; its controllers are private, so the walk lives here.)
use std::path::Path;

use anyhow::{Context, Result};

use super::files;

/// mkdir -p `dir` below `mount`, filling empty cpus/mems from the parent at every level.
pub fn create(mount: &Path, dir: &Path) -> Result<()> {
    let below = dir
        .strip_prefix(mount)
        .with_context(|| format!("{dir:?} is not below the cpuset mount {mount:?}"))?;
    let mut parent = mount.to_path_buf();
    for part in below.components() {
        let child = parent.join(part);
        files::mkdir(&child)?;
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if files::read(&child.join(file))?.trim().is_empty() {
                let inherited = files::read(&parent.join(file))?;
                files::write(&child.join(file), inherited.trim())?;
            }
        }
        parent = child;
    }
    Ok(())
}
