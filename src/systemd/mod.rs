//! systemd: the cgroup driver that asks systemd for a transient scope over D-Bus.
pub mod dbus;
mod device_allow;
pub mod properties;
pub mod unit;

/// The systemd driver is part of every build (`features` reports it).
pub const BUILT_IN: bool = true;
