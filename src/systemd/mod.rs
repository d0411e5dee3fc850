//! systemd: the cgroup driver that asks systemd for a transient scope over D-Bus.

/// The systemd driver is part of every build (`features` reports it).
pub const BUILT_IN: bool = true;
