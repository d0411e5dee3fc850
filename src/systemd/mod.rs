//! systemd: the cgroup driver that asks systemd for a transient scope over D-Bus, and the pure
//! reading of its `slice:prefix:name` paths.
//!
//! Inputs: a [`CgroupLocation`](crate::cgroups::CgroupLocation) made by [`location`] (unit,
//! slice, path) and the spec's resources. Outputs: a running transient unit holding the
//! container's processes, with the limits systemd can express (and every allowed device) set
//! as unit properties and everything else written to the cgroup files by the cgroupfs driver
//! on the same path (which also joins, on cgroup v1, the hierarchies systemd does not realize
//! for a scope: cpuset, freezer, blkio, cpuacct…). Runs in the runtime parent only, after the
//! container child is cloned (zbus starts threads).
//! Invariants: what shoji writes to a file systemd also owns is in the unit's properties too,
//! so a `systemctl daemon-reload` (which re-applies them) changes nothing; the D-Bus
//! connection is opened on first use, so commands that only read the cgroup (state, ps,
//! pause) never pay for it; a failed create leaves no unit and no directory, and never stops
//! a unit another container lives in; destroy is idempotent.
//!
//! Files: `unit` (pure path parsing; built without the `systemd` feature too, as the cgroupfs
//! driver places a `slice:prefix:name` path where systemd would), `properties` and
//! `device_allow` (resources → unit properties, pure), `dbus` (the only zbus user), `driver`.
pub mod unit;

#[cfg(feature = "systemd")]
pub mod dbus;
#[cfg(feature = "systemd")]
mod device_allow;
#[cfg(feature = "systemd")]
mod driver;
#[cfg(feature = "systemd")]
pub mod properties;

#[cfg(feature = "systemd")]
pub use driver::SystemdDriver;
pub use unit::location;
