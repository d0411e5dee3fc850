//! Intermediate cgroup directories a test's cgroupsPath makes the runtime create (kubelet's
//! pod cgroups in real life). Removing the container's own leaf is the runtime's job and is
//! checked by the `Container` guard; the parents above it are the test's to remove.

use std::path::{Path, PathBuf};

use super::procfs::{cgroup_mounts, cgroup_of};

/// Directories, in every mounted hierarchy, that did not exist when the value was made and
/// lie on the way to the leaf; removed deepest first on Drop (rmdir: never anything in use).
pub struct CgroupParents(Vec<PathBuf>);

impl CgroupParents {
    /// For an absolute cgroupsPath: parents under each hierarchy's root.
    pub fn absolute(cgroups_path: &str) -> CgroupParents {
        CgroupParents::under(cgroups_path, |_| "/".to_owned())
    }

    /// For a relative cgroupsPath: parents under the test process's own cgroup, where the
    /// cgroupfs driver puts relative paths.
    pub fn relative(cgroups_path: &str) -> CgroupParents {
        let me = std::process::id() as i32;
        CgroupParents::under(cgroups_path, |controllers| {
            let first = controllers.split(',').next().unwrap_or("");
            cgroup_of(me, first).unwrap_or_else(|| "/".to_owned())
        })
    }

    fn under(cgroups_path: &str, base: impl Fn(&str) -> String) -> CgroupParents {
        let parents: Vec<&std::ffi::OsStr> = match Path::new(cgroups_path).parent() {
            Some(parent) => parent.iter().filter(|p| *p != "/").collect(),
            None => Vec::new(),
        };
        let mut dirs = Vec::new();
        for mount in cgroup_mounts() {
            let base = base(&mount.controllers);
            let rel = base
                .strip_prefix(mount.root.trim_end_matches('/'))
                .unwrap_or(&base);
            let mut dir = mount.mount_point.join(rel.trim_start_matches('/'));
            for part in &parents {
                dir.push(part);
                if !dir.exists() {
                    dirs.push(dir.clone());
                }
            }
        }
        CgroupParents(dirs)
    }
}

impl Drop for CgroupParents {
    fn drop(&mut self) {
        for dir in self.0.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}
