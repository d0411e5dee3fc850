//! Placeholder seam for the cgroup v2 device filter (a BPF_PROG_TYPE_CGROUP_DEVICE program),
//! which the VM work replaces. Until then v2 hosts refuse to create a container rather than run
//! it without a device policy.
use std::path::Path;

use anyhow::{bail, Result};
use oci_spec::runtime::LinuxDeviceCgroup;

/// Attach (or atomically replace) the program enforcing `rules` on `cgroup_dir`.
pub fn apply(cgroup_dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<()> {
    bail!(
        "device rules ({} of them) for {cgroup_dir:?} need the cgroup v2 eBPF device filter, \
         which this build does not have yet",
        rules.len()
    )
}
