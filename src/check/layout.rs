//! The host's cgroup layout as the kernel and PID 1 present it: v1, hybrid or v2 (from the
//! mount table), which controllers exist, are enabled for children and are delegated to the
//! checker's own cgroup, whether PID 1 is systemd and answers, and the kernel features
//! runtimes lean on (PSI, cgroup.kill, memory.oom.group, favordynmods).
use std::path::{Path, PathBuf};

use super::{Evidence, Finding, HostRoot, Severity};
use crate::cgroups::mode::{parse_mountinfo, Mounts};
use crate::cgroups::path::{own_cgroup, parse_proc_cgroup};
use crate::cgroups::CgroupMode;

const MOUNTINFO: &str = "/proc/self/mountinfo";
/// What the kubelet needs to enforce pod limits.
const KUBELET_CONTROLLERS: [&str; 4] = ["cpu", "cpuset", "memory", "pids"];

/// What later checks need to know about the host.
#[derive(Debug, Clone)]
pub struct Layout {
    pub mounts: Mounts,
    /// None when it cannot be told (no /proc/1 under the root).
    pub systemd_pid1: Option<bool>,
}

/// Inspect the layout; None (with an `unchecked` finding) when the mount table is unreadable.
pub fn inspect(root: &HostRoot, out: &mut Vec<Finding>) -> Option<Layout> {
    let text = match root.read(MOUNTINFO) {
        Ok(text) => text,
        Err(e) => {
            out.push(unchecked_mounts(format!("cannot read {MOUNTINFO:?}: {e}")));
            return None;
        }
    };
    let mounts = match parse_mountinfo(&text) {
        Ok(m) => m,
        Err(e) => {
            out.push(unchecked_mounts(format!("{e:#}")));
            return None;
        }
    };
    out.push(mode_finding(&mounts, &text));
    controllers(root, &mounts, out);
    let systemd_pid1 = pid1(root, out);
    features(root, &mounts, &text, out);
    Some(Layout {
        mounts,
        systemd_pid1,
    })
}

fn unchecked_mounts(why: String) -> Finding {
    Finding::new(Severity::Unchecked, "layout.mode", why).at(Evidence::file(MOUNTINFO, None))
}

/// The 1-based line of the mount table mounting `mount_point`.
fn mount_line(text: &str, mount_point: &Path) -> Option<usize> {
    text.lines()
        .position(|l| {
            crate::mountinfo::parse(l)
                .first()
                .map(|m| m.mount_point.as_path())
                == Some(mount_point)
        })
        .map(|i| i + 1)
}

fn mode_finding(mounts: &Mounts, text: &str) -> Finding {
    let first = mounts
        .all()
        .next()
        .map(|h| h.mount_point.clone())
        .unwrap_or_default();
    let at = Evidence::file(MOUNTINFO, mount_line(text, &first));
    let v1_note = "Kubernetes 1.35 and later refuse to run on cgroup v1 (the kubelet's \
                   failCgroupV1 defaults to true)";
    let (severity, message) = match mounts.mode {
        CgroupMode::V2 => (
            Severity::Info,
            "cgroup v2 (unified hierarchy only)".to_string(),
        ),
        CgroupMode::Hybrid => (
            Severity::Warning,
            format!(
                "cgroup v1, hybrid (cgroup2 at {:?} beside the v1 hierarchies): {v1_note}",
                mounts
                    .unified
                    .as_ref()
                    .map(|u| u.mount_point.clone())
                    .unwrap_or_default()
            ),
        ),
        CgroupMode::V1 => (Severity::Warning, format!("cgroup v1 (legacy): {v1_note}")),
    };
    let finding = Finding::new(severity, "layout.mode", message).at(at);
    match mounts.mode {
        CgroupMode::V2 => finding,
        _ => finding.fix("boot with `systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all` on the kernel command line"),
    }
}

/// Words of a cgroup interface file (`cgroup.controllers`, `cgroup.subtree_control`).
fn words(root: &HostRoot, file: &Path) -> Option<Vec<String>> {
    let text = root.read(file).ok()?;
    Some(text.split_whitespace().map(String::from).collect())
}

fn controllers(root: &HostRoot, mounts: &Mounts, out: &mut Vec<Finding>) {
    let v1: Vec<String> = mounts.v1.iter().map(|h| h.key()).collect();
    let mut parts = Vec::new();
    if !v1.is_empty() {
        parts.push(format!("v1 hierarchies: {}", v1.join(" ")));
    }
    let mut v2_available = Vec::new();
    if let Some(u) = &mounts.unified {
        let available = words(root, &u.mount_point.join("cgroup.controllers")).unwrap_or_default();
        let enabled =
            words(root, &u.mount_point.join("cgroup.subtree_control")).unwrap_or_default();
        parts.push(format!("cgroup2 controllers: {}", list(&available)));
        parts.push(format!(
            "enabled for children of the root (cgroup.subtree_control): {}",
            list(&enabled)
        ));
        if let Some((dir, delegated)) = delegated(root, mounts) {
            parts.push(format!(
                "delegated to this process's cgroup {dir:?}: {}",
                list(&delegated)
            ));
        }
        v2_available = available;
    }
    let at = Evidence::cgroup(crate::cgroups::mode::CGROUP_ROOT);
    out.push(Finding::new(Severity::Info, "layout.controllers", parts.join("; ")).at(at.clone()));
    let missing: Vec<&str> = KUBELET_CONTROLLERS
        .into_iter()
        .filter(|c| mounts.v1_with(c).is_none() && !v2_available.iter().any(|a| a == c))
        .collect();
    if !missing.is_empty() {
        let message = format!(
            "controllers the kubelet needs are missing: {}",
            missing.join(" ")
        );
        out.push(Finding::new(Severity::Warning, "layout.controllers-missing", message).at(at));
    }
}

fn list(words: &[String]) -> String {
    if words.is_empty() {
        "(none)".into()
    } else {
        words.join(" ")
    }
}

/// The cgroup2 controllers available in this process's own cgroup (what it may hand down).
fn delegated(root: &HostRoot, mounts: &Mounts) -> Option<(PathBuf, Vec<String>)> {
    let unified = mounts.unified.as_ref()?;
    let own = parse_proc_cgroup(&root.read("/proc/self/cgroup").ok()?);
    let path = own_cgroup(unified, &own)?;
    let dir = crate::cgroups::path::in_hierarchy(unified, Path::new(path));
    Some((dir.clone(), words(root, &dir.join("cgroup.controllers"))?))
}

/// Whether PID 1 is systemd, and on the live host whether it answers over D-Bus.
fn pid1(root: &HostRoot, out: &mut Vec<Finding>) -> Option<bool> {
    let comm = root.read("/proc/1/comm").ok().map(|c| c.trim().to_string());
    let at = Evidence::file("/proc/1/comm", Some(1));
    let Some(comm) = comm else {
        let f = Finding::new(
            Severity::Info,
            "layout.pid1",
            "PID 1 unknown (no /proc/1/comm under the root)",
        );
        out.push(f);
        return None;
    };
    if comm != "systemd" {
        let message =
            format!("PID 1 is {comm:?}, not systemd: only the cgroupfs driver works here");
        out.push(Finding::new(Severity::Info, "layout.pid1", message).at(at));
        return Some(false);
    }
    let (severity, reach) = systemd_reachable(root);
    out.push(
        Finding::new(
            severity,
            "layout.pid1",
            format!("PID 1 is systemd; {reach}"),
        )
        .at(at),
    );
    Some(true)
}

const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";
const PRIVATE_SOCKET: &str = "/run/systemd/private";

/// On the live host, a read-only call (the manager's Version); under another root, whether
/// its sockets are there (nothing is contacted).
fn systemd_reachable(root: &HostRoot) -> (Severity, String) {
    #[cfg(feature = "systemd")]
    if root.is_live() {
        return match crate::systemd::dbus::Systemd::connect().and_then(|s| s.version()) {
            Ok(v) => (
                Severity::Info,
                format!("it answers over D-Bus (systemd {v})"),
            ),
            Err(e) => (
                Severity::Warning,
                format!(
                    "it does not answer over D-Bus ({e:#}): the systemd cgroup driver will fail"
                ),
            ),
        };
    }
    let sockets: Vec<&str> = [SYSTEM_BUS, PRIVATE_SOCKET]
        .into_iter()
        .filter(|s| root.exists(s))
        .collect();
    if sockets.is_empty() {
        (Severity::Warning, format!("neither {SYSTEM_BUS} nor {PRIVATE_SOCKET} exists: the systemd cgroup driver cannot reach it"))
    } else {
        (
            Severity::Info,
            format!(
                "its D-Bus sockets exist ({}; not contacted)",
                sockets.join(", ")
            ),
        )
    }
}

/// PSI, cgroup.kill, memory.oom.group and favordynmods, each as an info or a warning.
fn features(root: &HostRoot, mounts: &Mounts, mountinfo: &str, out: &mut Vec<Finding>) {
    if root.exists("/proc/pressure/cpu") {
        out.push(
            Finding::new(
                Severity::Info,
                "layout.psi",
                "PSI is on (/proc/pressure exists)",
            )
            .at(Evidence::file("/proc/pressure/cpu", None)),
        );
    } else {
        let f = Finding::new(
            Severity::Warning,
            "layout.psi",
            "PSI is off: no pressure files for the kubelet or for `events`",
        )
        .at(Evidence::file("/proc/pressure/cpu", None))
        .fix("add `psi=1` to the kernel command line");
        out.push(f);
    }
    let Some(unified) = &mounts.unified else {
        return;
    };
    let mnt = &unified.mount_point;
    // cgroup.kill exists only below the root: ask the children (none: cannot tell).
    let children = child_cgroups(root, mnt);
    if !children.is_empty() {
        let kill = children.iter().any(|c| root.exists(c.join("cgroup.kill")));
        let kill_note = if kill {
            "cgroup.kill is available (one write kills a cgroup)"
        } else {
            "no cgroup.kill (kernel older than 5.14): a cgroup is killed pid by pid"
        };
        out.push(
            Finding::new(Severity::Info, "layout.cgroup-kill", kill_note)
                .at(Evidence::cgroup(children[0].display().to_string())),
        );
    }
    let memory_v2 = words(root, &mnt.join("cgroup.controllers"))
        .unwrap_or_default()
        .iter()
        .any(|c| c == "memory");
    let oom_note = if memory_v2 {
        "memory.oom.group is available (an OOM kills the whole container)"
    } else {
        "no memory.oom.group: memory is not a cgroup2 controller here"
    };
    out.push(
        Finding::new(Severity::Info, "layout.oom-group", oom_note)
            .at(Evidence::cgroup(mnt.display().to_string())),
    );
    favordynmods(mounts, mountinfo, mnt, out);
}

fn favordynmods(mounts: &Mounts, mountinfo: &str, mnt: &Path, out: &mut Vec<Finding>) {
    let on = crate::mountinfo::parse(mountinfo).iter().any(|m| {
        m.mount_point == mnt
            && m.fs_type == "cgroup2"
            && m.super_options.split(',').any(|o| o == "favordynmods")
    });
    let at = Evidence::file(MOUNTINFO, mount_line(mountinfo, mnt));
    let f = if on {
        Finding::new(
            Severity::Info,
            "layout.favordynmods",
            "cgroup2 is mounted with favordynmods (cheaper cgroup migrations)",
        )
    } else {
        let f = Finding::new(
            Severity::Info,
            "layout.favordynmods",
            "cgroup2 is mounted without favordynmods: moving a process between cgroups is slower",
        );
        match mounts.mode {
            CgroupMode::V2 => f.fix(format!("mount -o remount,favordynmods {}", mnt.display())),
            _ => f,
        }
    };
    out.push(f.at(at));
}

/// The child cgroups of the hierarchy's root.
fn child_cgroups(root: &HostRoot, mnt: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.path(mnt)) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| mnt.join(e.file_name()))
        .collect();
    dirs.sort();
    dirs
}
