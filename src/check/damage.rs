//! Damage already done: cgroup directories literally named `slice:prefix:name` (a runtime on
//! the cgroupfs driver was handed the systemd driver's path: the fingerprint of a driver
//! mismatch), and pod cgroups with no containers left in them. Each hierarchy is walked to a
//! bounded depth; a directory found in several hierarchies is reported once, with every
//! hierarchy's path as evidence.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::layout::Layout;
use super::{Evidence, Finding, HostRoot, Severity};
use crate::cgroups::path::looks_like_systemd;

/// kubepods/burstable/pod<uid>/<container> is depth 4; systemd's nesting adds a level per
/// slice: 8 leaves room for a runtime's own parents.
const MAX_DEPTH: usize = 8;
/// At most this many directories per hierarchy, so a huge tree cannot stall the check.
const MAX_DIRS: usize = 50_000;

/// One suspicious cgroup, by its path below the hierarchies' mount points.
#[derive(Debug, Default)]
struct Found {
    dirs: Vec<PathBuf>,
    has_processes: bool,
}

pub fn inspect(root: &HostRoot, layout: &Layout, out: &mut Vec<Finding>) {
    let mut literal: BTreeMap<PathBuf, Found> = BTreeMap::new();
    let mut empty_pods: BTreeMap<PathBuf, Found> = BTreeMap::new();
    for h in layout.mounts.all() {
        let mut budget = MAX_DIRS;
        walk(
            root,
            &h.mount_point,
            Path::new("/"),
            0,
            &mut budget,
            &mut |rel, dir, children| {
                let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let procs = has_processes(root, dir);
                if looks_like_systemd(name) {
                    let f = literal.entry(rel.to_path_buf()).or_default();
                    f.dirs.push(dir.to_path_buf());
                    f.has_processes |= procs;
                } else if is_pod_cgroup(rel) && children == 0 && !procs {
                    empty_pods
                        .entry(rel.to_path_buf())
                        .or_default()
                        .dirs
                        .push(dir.to_path_buf());
                }
            },
        );
    }
    for (rel, found) in literal {
        out.push(literal_finding(&rel, &found, layout.systemd_pid1));
    }
    for (rel, found) in empty_pods {
        let message = format!("pod cgroup {} has no containers in it (a pod the kubelet did not clean up, or one being created)", rel.display());
        let fix = format!(
            "if the kubelet no longer knows the pod: rmdir {}",
            join_dirs(&found.dirs)
        );
        let mut f = Finding::new(Severity::Warning, "damage.empty-pod", message).fix(fix);
        f.evidence = found
            .dirs
            .iter()
            .map(|d| Evidence::cgroup(d.display().to_string()))
            .collect();
        out.push(f);
    }
}

/// Depth-first over the directories below `dir` (`rel` is its path below the mount point),
/// calling `visit(rel, dir, number of child directories)` for every directory but the root.
fn walk(
    root: &HostRoot,
    dir: &Path,
    rel: &Path,
    depth: usize,
    budget: &mut usize,
    visit: &mut dyn FnMut(&Path, &Path, usize),
) {
    if depth > MAX_DEPTH || *budget == 0 {
        return;
    }
    *budget -= 1;
    let children: Vec<String> = std::fs::read_dir(root.path(dir))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    if depth > 0 {
        visit(rel, dir, children.len());
    }
    for name in children {
        walk(
            root,
            &dir.join(&name),
            &rel.join(&name),
            depth + 1,
            budget,
            visit,
        );
    }
}

fn has_processes(root: &HostRoot, dir: &Path) -> bool {
    root.read(dir.join("cgroup.procs"))
        .is_ok_and(|p| !p.trim().is_empty())
}

/// A pod's cgroup: `kubepods-…-pod<uid>.slice` (systemd) or `pod<uid>` below `kubepods`
/// (cgroupfs).
fn is_pod_cgroup(rel: &Path) -> bool {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let systemd = name.starts_with("kubepods") && name.ends_with(".slice") && name.contains("-pod");
    let cgroupfs = name.starts_with("pod") && rel.components().any(|c| c.as_os_str() == "kubepods");
    systemd || cgroupfs
}

/// Who makes `slice:prefix:name` paths with this prefix.
fn creator(prefix: &str) -> String {
    let who = match prefix {
        "cri-containerd" => "containerd's CRI plugin",
        "crio" => "CRI-O",
        "docker" => "dockerd",
        "libpod" => "podman",
        _ => return format!("a manager using the prefix {prefix:?}"),
    };
    who.to_string()
}

/// `systemd_pid1` picks the side of the fix: where systemd runs, the runtime moves to it;
/// where it does not, the manager that asked must stop asking for systemd paths.
fn literal_finding(rel: &Path, found: &Found, systemd_pid1: Option<bool>) -> Finding {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let prefix = name.split(':').nth(1).unwrap_or_default();
    let procs = if found.has_processes {
        "; processes still run in it"
    } else {
        ""
    };
    let message = format!(
        "cgroup {} is literally named in the systemd driver's slice:prefix:name format: {} (by \
         its prefix) asked for it and an OCI runtime on the cgroupfs driver made a directory of \
         it (the pod's limits and metrics are not where the kubelet looks){procs}",
        rel.display(),
        creator(prefix)
    );
    let stop = if found.has_processes {
        "stop its container, then "
    } else {
        ""
    };
    let side = match systemd_pid1 {
        Some(false) => {
            "put the manager that asked for it on the cgroupfs driver (PID 1 is not systemd)"
        }
        _ => "put the OCI runtime that made it on the systemd driver",
    };
    let fix = format!("{side}, {stop}rmdir {}", join_dirs(&found.dirs));
    let mut f = Finding::new(Severity::Error, "damage.literal-cgroup", message).fix(fix);
    f.evidence = found
        .dirs
        .iter()
        .map(|d| Evidence::cgroup(d.display().to_string()))
        .collect();
    f
}

fn join_dirs(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_cgroups_and_creators() {
        let cases = [
            (
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod012abc.slice",
                true,
            ),
            ("/kubepods.slice/kubepods-besteffort.slice", false),
            ("/kubepods/besteffort/pod012abc", true),
            ("/kubepods/besteffort/pod012abc/345def", false),
            ("/system.slice/pod.scope", false),
        ];
        for (rel, want) in cases {
            assert_eq!(is_pod_cgroup(Path::new(rel)), want, "{rel}");
        }
        assert_eq!(creator("cri-containerd"), "containerd's CRI plugin");
        assert_eq!(creator("runc"), "a manager using the prefix \"runc\"");
    }
}
