//! The cgroup id eBPF tools key on: what `bpf_get_current_cgroup_id()` returns for the
//! container's processes. That helper reads the task's cgroup in the default (cgroup2)
//! hierarchy and returns its kernfs node id, which on 64-bit kernels is also the inode number
//! of the cgroup's directory on cgroup2 (and the 8-byte handle name_to_handle_at gives), so a
//! stat of the directory yields it without loading anything. cgroup v1 hierarchies have no
//! such id: on a v1-only host there is none.
use std::os::unix::fs::MetadataExt;

use super::dirs::ContainerDirs;
use super::{mode, CgroupLocation};

/// The cgroup2 id of the container's cgroup (on v2, or in the unified hierarchy of a hybrid
/// host), or None when there is no cgroup2 mount or the directory is gone.
pub fn cgroup_id(loc: &CgroupLocation) -> Option<u64> {
    let mounts = mode::mounts().ok()?;
    let dir = ContainerDirs::new(loc, mounts).unified?;
    std::fs::metadata(dir).ok().map(|m| m.ino())
}
