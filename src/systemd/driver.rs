//! The systemd driver: a transient unit per container, started, changed and stopped over
//! D-Bus, wrapping the cgroupfs driver for the files systemd does not write.
use std::cell::OnceCell;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use anyhow::{Context, Result};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;

use crate::cgroups::cgroupfs::CgroupfsDriver;
use crate::cgroups::handle::CgroupHandle;
use crate::cgroups::{devices, CgroupDriver, CgroupLocation, CgroupMode, Owned};

use super::dbus::{Started, Systemd};
use super::device_allow::{self, DeviceGroups};
use super::properties::{self, Property};
use super::unit;

/// How long systemd may take to start or stop a unit (runc waits as long).
const JOB_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SystemdDriver {
    unit: String,
    slice: String,
    v2: bool,
    /// Writes the files systemd cannot express and owns the path-based handle.
    files: CgroupfsDriver,
    bus: OnceCell<Rc<Systemd>>,
}

impl SystemdDriver {
    /// A driver for a location made by [`super::location`]; connects to systemd only when needed.
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
        let bus = Systemd::shared()?;
        Ok(self.bus.get_or_init(|| bus))
    }

    /// The directory systemd itself manages for the unit: name=systemd on v1, the cgroup2 one
    /// on v2.
    fn unit_dir(&self) -> Option<&Path> {
        self.files.cgroup().dirs().of("name=systemd")
    }

    /// Every property of a new unit: identity, resources, and the device rules the files get
    /// (the spec's and the defaults), so a daemon-reload re-applies what the files say.
    fn new_unit_properties(
        &self,
        pid: u32,
        r: Option<&LinuxResources>,
    ) -> Result<(Vec<Property>, Option<LinuxResources>)> {
        let mut props = properties::unit_properties(&self.unit, &self.slice, pid, self.v2);
        let spec_rules = r.and_then(|r| r.devices().clone()).unwrap_or_default();
        let rules = devices::effective_rules(&spec_rules);
        let device_props = device_allow::properties(&rules, &DeviceGroups::of_host());
        for warning in &device_props.warnings {
            tracing::warn!("unit {:?}: {warning}", self.unit);
        }
        props.extend(device_props.properties);
        let files = match r {
            Some(r) => {
                let translated = properties::resource_properties(r, self.v2)?;
                props.extend(translated.properties);
                Some(with_cpu_quota(r, translated.cpu_quota))
            }
            None => None,
        };
        Ok((props, files))
    }

    /// StartTransientUnit. A unit of the same name that is loaded but failed (left by a crashed
    /// container) is reset and the start retried once; one that still exists is live, shared
    /// with another container: as runc, say so and go on with it (never stop it: that would
    /// SIGTERM the other container and wait out systemd's stop timeout).
    fn start_unit(&self, pid: Pid, r: Option<&LinuxResources>) -> Result<UnitStart> {
        let bus = self.bus()?;
        let pid = u32::try_from(pid.as_raw()).context("invalid pid")?;
        let (props, files) = self.new_unit_properties(pid, r)?;
        if bus.start_transient_unit(&self.unit, &props, JOB_TIMEOUT)? == Started::Done {
            return Ok(UnitStart::New { files });
        }
        bus.reset_failed_unit(&self.unit)?;
        if bus.start_transient_unit(&self.unit, &props, JOB_TIMEOUT)? == Started::Done {
            return Ok(UnitStart::New { files });
        }
        tracing::warn!(
            "systemd unit {:?} already exists: the container joins it (and shares its limits)",
            self.unit
        );
        let settable = props
            .into_iter()
            .filter(|p| !IDENTITY.contains(&p.name))
            .collect();
        Ok(UnitStart::Joined { settable, files })
    }
}

/// Properties that only StartTransientUnit takes: a live unit's identity cannot change.
const IDENTITY: [&str; 6] = [
    "Description",
    "Slice",
    "Wants",
    "PIDs",
    "Delegate",
    "DefaultDependencies",
];

/// Whether `start_unit` made the unit or found it live (then with the properties to set on
/// it), and the resources the files must get.
enum UnitStart {
    New {
        files: Option<LinuxResources>,
    },
    Joined {
        settable: Vec<Property>,
        files: Option<LinuxResources>,
    },
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
        // cgroupfs driver makes the rest, joins them all and writes the files. A unit another
        // container lives in is joined, and left alone if that fails.
        // On error the caller's guard removes what `claim` said this container makes.
        match self.start_unit(pid, resources)? {
            UnitStart::Joined { settable, files } => self
                .bus()?
                .set_unit_properties(&self.unit, &settable)
                .and_then(|()| self.files.join_shared(pid, files.as_ref().or(resources))),
            UnitStart::New { files } => self.files.create(pid, files.as_ref().or(resources)),
        }
    }

    /// A unit of this name whose cgroup exists is live (another container's, or a mistyped
    /// name): it is joined (see `start_unit`), and then neither stopped nor emptied by this
    /// container's delete. A loaded but failed one has no cgroup: it is reset, replaced and
    /// then ours.
    fn claim(&self) -> Result<Owned> {
        let live = self.unit_dir().is_some_and(Path::is_dir);
        // systemd realizes only some hierarchies for a scope: count in the unit's own.
        let mut owned = self.files.claim_counting(self.unit_dir())?;
        owned.unit = !live;
        Ok(owned)
    }

    fn connect(&self) -> Result<()> {
        self.bus()?;
        tracing::debug!("connected to systemd");
        Ok(())
    }

    fn join(&self, pid: Pid, sub_cgroup: Option<&str>) -> Result<()> {
        // The scope is delegated: writing cgroup.procs below it is allowed, on every hierarchy.
        self.files.join(pid, sub_cgroup)
    }

    fn update(&self, resources: &LinuxResources) -> Result<()> {
        let resources = &self.files.keeping_cpu_quota(resources)?;
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
