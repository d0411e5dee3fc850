//! A cgroup that exists before the container and is not the container's: a pod cgroup that a
//! mistyped cgroupsPath names. Made by hand in every mounted hierarchy, with a `sleep` of the
//! test's own inside; on Drop it is thawed, the sleep is killed (by pid) and the directories
//! the test made are removed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::procfs::{cgroup_mounts, pid_alive, read};
use super::scratch::unique_name;

pub struct SharedCgroup {
    /// The cgroupsPath naming it, absolute: `/shoji-shared-<unique>[/leaf]`.
    pub path: String,
    /// Directories the test made, parents first.
    made: Vec<PathBuf>,
    sleeper: Child,
}

impl SharedCgroup {
    /// `/shoji-shared-<unique>` in every hierarchy, holding one `sleep`.
    pub fn populated(name: &str) -> SharedCgroup {
        let path = format!("/{}", unique_name(name));
        let mut made = Vec::new();
        for dir in dirs_of(&path) {
            std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
            made.push(dir.clone());
            // A cpuset cgroup takes no task until it has cpus and mems (copied from the root).
            for file in ["cpuset.cpus", "cpuset.mems"] {
                let parent = dir.parent().unwrap().join(file);
                if parent.exists() {
                    std::fs::write(dir.join(file), read(&parent)).unwrap();
                }
            }
        }
        let sleeper = Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sleep");
        let shared = SharedCgroup {
            path,
            made,
            sleeper,
        };
        for dir in &shared.made {
            std::fs::write(dir.join("cgroup.procs"), shared.sleeper_pid().to_string())
                .unwrap_or_else(|e| panic!("moving the sleep into {dir:?}: {e}"));
        }
        shared
    }

    pub fn sleeper_pid(&self) -> i32 {
        self.sleeper.id() as i32
    }

    /// The sleep is alive and still in every directory.
    pub fn intact(&self) -> bool {
        let pid = self.sleeper_pid().to_string();
        pid_alive(self.sleeper_pid())
            && self.made.iter().all(|d| {
                std::fs::read_to_string(d.join("cgroup.procs"))
                    .is_ok_and(|p| p.lines().any(|l| l == pid))
            })
    }

    /// The directories, one per hierarchy.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.made
    }

    /// Freeze it: the v1 freezer where mounted, else cgroup2's cgroup.freeze.
    pub fn freeze(&self) {
        let (file, value) = freezer_file(&self.made).expect("no freezer.state nor cgroup.freeze");
        std::fs::write(&file, value).unwrap_or_else(|e| panic!("freezing {file:?}: {e}"));
    }

    /// Best effort: the directory may be gone (a runtime that removed what was not its own).
    fn thaw(&self) {
        if let Some((file, frozen)) = freezer_file(&self.made) {
            let thawed = if frozen == "FROZEN" { "THAWED" } else { "0" };
            let _ = std::fs::write(file, thawed);
        }
    }
}

impl Drop for SharedCgroup {
    fn drop(&mut self) {
        self.thaw();
        // Our own child, by pid.
        let _ = self.sleeper.kill();
        let _ = self.sleeper.wait();
        for dir in self.made.iter().rev() {
            remove_tree(dir);
        }
    }
}

/// `path` in every mounted hierarchy (v1 ones and cgroup2), under each mount's root.
fn dirs_of(path: &str) -> Vec<PathBuf> {
    cgroup_mounts()
        .into_iter()
        .filter(|m| {
            m.controllers.is_empty()
                || !m.controllers.starts_with("name=")
                || m.controllers == "name=systemd"
        })
        .map(|m| m.mount_point.join(path.trim_start_matches('/')))
        .collect()
}

/// The file that freezes the cgroup and the value that does it.
fn freezer_file(dirs: &[PathBuf]) -> Option<(PathBuf, &'static str)> {
    let v1 = dirs
        .iter()
        .map(|d| d.join("freezer.state"))
        .find(|f| f.exists());
    match v1 {
        Some(f) => Some((f, "FROZEN")),
        None => dirs
            .iter()
            .map(|d| d.join("cgroup.freeze"))
            .find(|f| f.exists())
            .map(|f| (f, "1")),
    }
}

/// rmdir deepest first (a runtime that wrongly left sub-cgroups must not make the test leak).
fn remove_tree(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir);
}
