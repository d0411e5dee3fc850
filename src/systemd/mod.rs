//! systemd: the cgroup driver that asks systemd for a transient scope over D-Bus.
//!
//! Inputs: a [`CgroupLocation`] made by [`location`] (unit, slice, path) and the spec's
//! resources. Outputs: a running transient unit holding the container's processes, with the
//! limits systemd can express set as unit properties and everything else written to the cgroup
//! files by the cgroupfs driver on the same path (which also joins, on cgroup v1, the
//! hierarchies systemd does not realize for a scope: cpuset, freezer, blkio, cpuacct…).
//! Runs in the runtime parent only, after the container child is cloned (zbus starts threads).
//! Invariants: the D-Bus connection is opened on first use, so commands that only read the
//! cgroup (state, ps, pause) never pay for it; a failed create leaves no unit and no directory;
//! destroy is idempotent.
use std::cell::OnceCell;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;

use crate::cgroups::cgroupfs::CgroupfsDriver;
use crate::cgroups::handle::{pids_in, CgroupHandle};
use crate::cgroups::{CgroupDriver, CgroupLocation, CgroupMode, Owned};

pub mod dbus;
mod device_allow;
pub mod properties;
pub mod unit;

pub use unit::location;

use dbus::{Started, Systemd};

/// How long systemd may take to start or stop a unit (runc waits as long).
const JOB_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SystemdDriver {
    unit: String,
    slice: String,
    v2: bool,
    /// Writes the files systemd cannot express and owns the path-based handle.
    files: CgroupfsDriver,
    bus: OnceCell<Systemd>,
}

impl SystemdDriver {
    /// A driver for a location made by [`location`]; connects to systemd only when needed.
    pub fn new(loc: CgroupLocation) -> Result<Self> {
        let unit = loc
            .unit
            .clone()
            .context("systemd cgroup location without a unit name")?;
        let slice = loc
            .slice
            .clone()
            .unwrap_or_else(|| unit::DEFAULT_SLICE.into());
        Ok(SystemdDriver {
            unit,
            slice,
            v2: loc.mode == CgroupMode::V2,
            files: CgroupfsDriver::new(loc)?,
            bus: OnceCell::new(),
        })
    }

    fn bus(&self) -> Result<&Systemd> {
        if let Some(bus) = self.bus.get() {
            return Ok(bus);
        }
        let bus = Systemd::connect()?;
        Ok(self.bus.get_or_init(|| bus))
    }

    /// The directory systemd itself manages for the unit: name=systemd on v1, the cgroup2 one
    /// on v2.
    fn unit_dir(&self) -> Option<&Path> {
        self.files.cgroup().dirs().of("name=systemd")
    }

    /// See `claim`: a unit of our name holding processes is not ours to replace.
    fn refuse_populated_unit(&self) -> Result<()> {
        let Some(dir) = self.unit_dir().filter(|d| d.is_dir()) else {
            return Ok(());
        };
        let found = pids_in(dir)?.len();
        if found > 0 {
            bail!(
                "systemd unit {:?} already exists and holds {found} process(es): refusing to replace it",
                self.unit
            );
        }
        Ok(())
    }

    /// StartTransientUnit; a unit of the same name left by a crashed container (and empty) is
    /// stopped and reset, and the start retried once. Returns the resources the files must get.
    fn start_unit(&self, pid: Pid, r: Option<&LinuxResources>) -> Result<Option<LinuxResources>> {
        let bus = self.bus()?;
        let pid = u32::try_from(pid.as_raw()).context("invalid pid")?;
        let mut props = properties::unit_properties(&self.unit, &self.slice, pid, self.v2);
        let files = match r {
            Some(r) => {
                let translated = properties::resource_properties(r, self.v2)?;
                props.extend(translated.properties);
                Some(with_cpu_quota(r, translated.cpu_quota))
            }
            None => None,
        };
        if bus.start_transient_unit(&self.unit, &props, JOB_TIMEOUT)? == Started::Exists {
            // Stopping a unit kills what it holds: only an empty leftover is replaced.
            self.refuse_populated_unit()?;
            bus.stop_unit(&self.unit, JOB_TIMEOUT)?;
            bus.reset_failed_unit(&self.unit)?;
            if bus.start_transient_unit(&self.unit, &props, JOB_TIMEOUT)? == Started::Exists {
                bail!(
                    "systemd unit {:?} already exists and could not be replaced",
                    self.unit
                );
            }
        }
        Ok(files)
    }
}

/// The resources with systemd's rounded CPU quota, so the files and the unit agree.
fn with_cpu_quota(r: &LinuxResources, quota: Option<i64>) -> LinuxResources {
    let mut r = r.clone();
    if let (Some(q), Some(cpu)) = (quota, r.cpu_mut().as_mut()) {
        cpu.set_quota(Some(q));
    }
    r
}

impl CgroupDriver for SystemdDriver {
    fn create(&self, pid: Pid, resources: Option<&LinuxResources>) -> Result<()> {
        // Unit first: systemd makes the directories it manages and moves `pid` in; then the
        // cgroupfs driver makes the rest, joins them all and writes the files.
        // On error the caller's guard stops the unit and removes what it claimed.
        self.start_unit(pid, resources)
            .and_then(|files| self.files.create(pid, files.as_ref().or(resources)))
    }

    /// A scope of this name that still holds processes belongs to a live container (or
    /// whatever else started it): replacing it would kill them, so it is refused. An empty
    /// one is a leftover of a crashed create, replaced and then owned.
    fn claim(&self) -> Result<Owned> {
        self.refuse_populated_unit()?;
        let mut owned = self.files.claim()?;
        owned.unit = true;
        Ok(owned)
    }

    fn join(&self, pid: Pid, sub_cgroup: Option<&str>) -> Result<()> {
        // The scope is delegated: writing cgroup.procs below it is allowed, on every hierarchy.
        self.files.join(pid, sub_cgroup)
    }

    fn update(&self, resources: &LinuxResources) -> Result<()> {
        let translated = properties::resource_properties(resources, self.v2)?;
        self.bus()?
            .set_unit_properties(&self.unit, &translated.properties)?;
        self.files
            .update(&with_cpu_quota(resources, translated.cpu_quota))
    }

    fn restore(&self, resources: &LinuxResources) -> Result<()> {
        let translated = properties::resource_properties(resources, self.v2)?;
        self.bus()?
            .set_unit_properties(&self.unit, &translated.properties)?;
        self.files
            .restore(&with_cpu_quota(resources, translated.cpu_quota))
    }

    fn destroy(&self, owned: &Owned) -> Result<()> {
        if !owned.unit {
            // Not our unit: only the directories this container made beside it are ours.
            return self.files.destroy(owned);
        }
        // SIGKILL first: StopUnit sends SIGTERM, which a container's PID 1 ignores, and waits
        // out systemd's stop timeout before killing. The handle thaws a paused container (a
        // frozen task cannot die); KillUnit, a round trip more, is only for a unit whose other
        // directories were never made (a create that failed half way).
        let handle = self.files.cgroup();
        let killed = handle.exists();
        if killed {
            handle.kill_all(Signal::SIGKILL)?;
        }
        match self.bus() {
            Ok(bus) => {
                if !killed {
                    bus.kill_unit(&self.unit, Signal::SIGKILL as i32)?;
                }
                bus.stop_unit(&self.unit, JOB_TIMEOUT)?;
                bus.reset_failed_unit(&self.unit)?;
            }
            // No systemd and no directory of the unit: there is no unit to stop (a create that
            // failed to reach systemd). With a directory, the unit may live: report it.
            Err(e) if self.unit_dir().is_some_and(Path::exists) => return Err(e),
            Err(_) => {}
        }
        // The directories systemd does not manage (and any sub-cgroups) are ours to remove.
        self.files.destroy(owned)
    }

    fn cgroup(&self) -> &CgroupHandle {
        self.files.cgroup()
    }
}
