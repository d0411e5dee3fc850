//! systemd: the cgroup driver that asks systemd for a transient scope over D-Bus.

/// Whether the systemd driver is part of this build (`features` reports it). False until the
/// driver is wired into `cgroups::driver`: `--systemd-cgroup` is refused meanwhile.
pub const BUILT_IN: bool = false;
