//! What a user checks of a container from the sandbox: where its cgroups are (and, under the
//! systemd driver, its scope unit), its state directory and mounts; and that none of it is
//! left once the client removed the container.
use std::path::PathBuf;

use crate::env::{run, Driver};
use crate::support::procfs::{self, CgroupEntry};

/// A container's cgroups as /proc/PID/cgroup (or the container's own view) lists them.
pub struct Observed {
    pub tag: String,
    pub cgroups: Vec<CgroupEntry>,
    /// shoji's state directory for it, when the client's id for it is known.
    pub state_dir: Option<PathBuf>,
    /// Text that names it in mountinfo (its id) when known.
    pub id: Option<String>,
}

/// `N:controllers:path` lines in `text` (other output lines ignored).
pub fn parse_cgroup_lines(text: &str) -> Vec<CgroupEntry> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().splitn(3, ':');
            let (n, ctrl, path) = (f.next()?, f.next()?, f.next()?);
            n.parse::<u32>().ok()?;
            Some(CgroupEntry {
                controllers: ctrl.to_string(),
                path: path.to_string(),
            })
        })
        .collect()
}

impl Observed {
    pub fn new(tag: &str, cgroups: Vec<CgroupEntry>) -> Observed {
        assert!(!cgroups.is_empty(), "{tag}: no cgroup lines");
        Observed {
            tag: tag.to_string(),
            cgroups,
            state_dir: None,
            id: None,
        }
    }

    /// The container's path in the memory hierarchy.
    pub fn memory_path(&self) -> &str {
        self.path_of("memory")
    }

    pub fn path_of(&self, controller: &str) -> &str {
        let entry = self.cgroups.iter().find(|e| {
            e.controllers.split(',').any(|c| c == controller) || e.controllers == controller
        });
        &entry
            .unwrap_or_else(|| panic!("{}: no {controller} line", self.tag))
            .path
    }

    pub fn file(&self, controller: &str, file: &str) -> String {
        procfs::cgroup_file(controller, self.path_of(controller), file)
    }

    /// Under systemd, the scope unit: the last component of the memory path.
    pub fn scope(&self) -> String {
        self.memory_path().rsplit('/').next().unwrap().to_string()
    }

    /// The container is where the driver puts it: in a `.scope` (systemd) or a plain
    /// directory (cgroupfs), the same path in every v1 hierarchy, never the root.
    pub fn assert_placed(&self, driver: Driver) {
        let path = self.memory_path();
        assert_ne!(path, "/", "{}: in the root memory cgroup", self.tag);
        match driver {
            Driver::Systemd => {
                assert!(
                    path.ends_with(".scope"),
                    "{}: memory cgroup {path}",
                    self.tag
                )
            }
            Driver::Cgroupfs => {
                assert!(
                    !path.contains(".scope"),
                    "{}: cgroupfs put it at {path}",
                    self.tag
                )
            }
        }
        for entry in &self.cgroups {
            if !entry.controllers.is_empty() {
                assert_eq!(entry.path, path, "{}: {entry:?}", self.tag);
            }
        }
    }

    /// Under systemd, the scope unit is running.
    pub fn assert_scope_active(&self) {
        let state = systemctl_show(&self.scope(), "ActiveState");
        assert_eq!(state, "active", "{}: scope {}", self.tag, self.scope());
    }

    /// Nothing of the container is left: no cgroup directory in any hierarchy, no scope unit,
    /// no state directory, no mount naming its id.
    pub fn assert_gone(&self, driver: Driver) {
        for entry in &self.cgroups {
            let dir = procfs::cgroup_dir(&entry.controllers, &entry.path)
                .unwrap_or_else(|| panic!("{}: no hierarchy for {entry:?}", self.tag));
            // Removal follows the client's command asynchronously (shim, systemd): poll.
            let gone = procfs::wait_until(|| !dir.exists());
            assert!(gone, "{}: cgroup {dir:?} left", self.tag);
        }
        if driver == Driver::Systemd {
            let unit = self.scope();
            let gone = procfs::wait_until(|| systemctl_show(&unit, "LoadState") == "not-found");
            assert!(gone, "{}: scope {unit} left", self.tag);
        }
        if let Some(state) = &self.state_dir {
            assert!(!state.exists(), "{}: state {state:?} left", self.tag);
        }
        if let Some(id) = &self.id {
            let mounts = procfs::read("/proc/self/mountinfo");
            let left: Vec<&str> = mounts.lines().filter(|l| l.contains(id.as_str())).collect();
            assert!(left.is_empty(), "{}: mounts left {left:#?}", self.tag);
        }
    }
}

pub fn systemctl_show(unit: &str, property: &str) -> String {
    let out = run("systemctl", &["show", "-P", property, unit]).ok();
    out.trim().to_string()
}

/// Lines in this mount namespace's mountinfo.
pub fn mount_count() -> usize {
    procfs::read("/proc/self/mountinfo").lines().count()
}
