//! systemd: the cgroup driver that asks systemd for a transient scope over D-Bus.
pub mod unit;
