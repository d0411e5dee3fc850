//! Path-based operations on an existing container cgroup, shared by both drivers.
use super::CgroupLocation;

/// A container cgroup found by its location; freeze/thaw, pids, kill_all, stats, exists.
pub struct CgroupHandle {
    pub location: CgroupLocation,
}
