//! systemd: the cgroup driver that asks systemd for a transient scope over D-Bus.
pub mod dbus;
mod device_allow;
pub mod properties;
pub mod unit;
