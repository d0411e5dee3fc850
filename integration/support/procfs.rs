//! Readers for what a user inspects from the host: /proc/PID/ns links, /proc/PID/cgroup,
//! cgroup files under the mounted hierarchies, and mountinfo. They work on v1, hybrid and v2
//! hosts because hierarchies are found through mountinfo, not by assumed directory names.

use std::path::{Path, PathBuf};

/// The target of /proc/PID/ns/KIND, e.g. `pid:[4026531836]`.
pub fn ns_link(pid: i32, kind: &str) -> String {
    let path = format!("/proc/{pid}/ns/{kind}");
    std::fs::read_link(&path)
        .unwrap_or_else(|e| panic!("readlink {path:?}: {e}"))
        .to_string_lossy()
        .into_owned()
}

/// One line of /proc/PID/cgroup: `controllers` is `memory`, `name=systemd`, `cpu,cpuacct` or
/// empty for the cgroup2 line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupEntry {
    pub controllers: String,
    pub path: String,
}

pub fn proc_cgroup(pid: i32) -> Vec<CgroupEntry> {
    let text = read(format!("/proc/{pid}/cgroup"));
    text.lines().filter_map(parse_cgroup_line).collect()
}

fn parse_cgroup_line(line: &str) -> Option<CgroupEntry> {
    let mut parts = line.splitn(3, ':');
    let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
    Some(CgroupEntry {
        controllers: controllers.to_owned(),
        path: path.to_owned(),
    })
}

/// The path of PID's cgroup in the hierarchy that holds `controller` (`memory`, `name=systemd`,
/// or `""` for cgroup2).
pub fn cgroup_of(pid: i32, controller: &str) -> Option<String> {
    proc_cgroup(pid)
        .into_iter()
        .find(|e| e.controllers.split(',').any(|c| c == controller) || e.controllers == controller)
        .map(|e| e.path)
}

/// A cgroup hierarchy mounted in the test's mount namespace.
#[derive(Clone, Debug)]
pub struct CgroupMount {
    /// `memory`, `name=systemd`, `cpu,cpuacct`; empty for cgroup2.
    pub controllers: String,
    /// The mount's root inside the hierarchy (usually `/`).
    pub root: String,
    pub mount_point: PathBuf,
}

pub fn cgroup_mounts() -> Vec<CgroupMount> {
    let mut mounts = Vec::new();
    for m in mountinfo(std::process::id() as i32) {
        let controllers = match m.fstype.as_str() {
            "cgroup2" => String::new(),
            "cgroup" => v1_controllers(&m.super_options),
            _ => continue,
        };
        mounts.push(CgroupMount {
            controllers,
            root: m.root,
            mount_point: m.mount_point,
        });
    }
    mounts
}

fn v1_controllers(super_options: &str) -> String {
    let skip = ["rw", "ro", "xattr", "noprefix", "clone_children"];
    super_options
        .split(',')
        .filter(|o| !skip.contains(o) && !o.starts_with("release_agent="))
        .collect::<Vec<_>>()
        .join(",")
}

/// The directory of cgroup `path` (as /proc/PID/cgroup shows it) in the hierarchy whose
/// controller list is `controllers`, or None when that hierarchy is not mounted here.
pub fn cgroup_dir(controllers: &str, path: &str) -> Option<PathBuf> {
    let mount = cgroup_mounts()
        .into_iter()
        .find(|m| m.controllers == controllers)?;
    let rel = path
        .strip_prefix(mount.root.trim_end_matches('/'))
        .unwrap_or(path);
    Some(mount.mount_point.join(rel.trim_start_matches('/')))
}

/// The directory of `path` in the hierarchy holding `controller` (a single name).
pub fn controller_dir(controller: &str, path: &str) -> PathBuf {
    let mount = cgroup_mounts()
        .into_iter()
        .find(|m| m.controllers.split(',').any(|c| c == controller))
        .unwrap_or_else(|| panic!("no cgroup hierarchy with {controller:?} mounted"));
    let rel = path
        .strip_prefix(mount.root.trim_end_matches('/'))
        .unwrap_or(path);
    mount.mount_point.join(rel.trim_start_matches('/'))
}

/// The trimmed content of FILE in the cgroup `path` of `controller`'s hierarchy.
pub fn cgroup_file(controller: &str, path: &str, file: &str) -> String {
    read(controller_dir(controller, path).join(file))
        .trim()
        .to_owned()
}

/// Every directory named `name` anywhere under /sys/fs/cgroup (a full walk; use sparingly).
pub fn find_cgroup_dirs_named(name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for m in cgroup_mounts() {
        walk_dirs(&m.mount_point, &mut |dir| {
            if dir.file_name().is_some_and(|n| n == name) {
                found.push(dir.to_owned());
            }
        });
    }
    found
}

fn walk_dirs(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            let path = entry.path();
            visit(&path);
            walk_dirs(&path, visit);
        }
    }
}

/// One line of /proc/PID/mountinfo.
#[derive(Clone, Debug)]
pub struct MountInfo {
    pub root: String,
    pub mount_point: PathBuf,
    pub options: String,
    pub optional: String,
    pub fstype: String,
    pub source: String,
    pub super_options: String,
}

pub fn mountinfo(pid: i32) -> Vec<MountInfo> {
    parse_mountinfo(&read(format!("/proc/{pid}/mountinfo")))
}

/// Parses mountinfo text (from the host or printed by `cat /proc/self/mountinfo` inside).
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines().filter_map(parse_mountinfo_line).collect()
}

fn parse_mountinfo_line(line: &str) -> Option<MountInfo> {
    let (pre, post) = line.split_once(" - ")?;
    let pre: Vec<&str> = pre.split(' ').collect();
    let post: Vec<&str> = post.split(' ').collect();
    Some(MountInfo {
        root: unescape(pre.get(3)?),
        mount_point: PathBuf::from(unescape(pre.get(4)?)),
        options: pre.get(5)?.to_string(),
        optional: pre.get(6..).map(|p| p.join(" ")).unwrap_or_default(),
        fstype: post.first()?.to_string(),
        source: post.get(1).unwrap_or(&"").to_string(),
        super_options: post.get(2).unwrap_or(&"").to_string(),
    })
}

/// mountinfo escapes space, tab, newline and backslash as octal `\NNN`.
fn unescape(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Mount points in the test's own namespace at or below `dir`.
pub fn host_mounts_under(dir: &Path) -> Vec<PathBuf> {
    mountinfo(std::process::id() as i32)
        .into_iter()
        .map(|m| m.mount_point)
        .filter(|p| p.starts_with(dir))
        .collect()
}

/// Whether PID names a live (non-zombie) process.
pub fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command, which may itself hold spaces.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Polls `cond` every 10 ms for up to 10 s. For effects that follow a command
/// asynchronously (a death after SIGKILL, an exec after start): a wait for a condition with a
/// generous bound, never a timing assertion.
pub fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}

/// Polls until PID is gone (see `wait_until`).
pub fn wait_pid_gone(pid: i32) -> bool {
    wait_until(|| !pid_alive(pid))
}

pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path:?}: {e}"))
}

/// The first of `files` this kernel offers in cgroup directory `dir`. Optional features differ
/// per machine (BFQ weights, swap accounting, realtime groups): a test asserts the value where
/// the file exists and the runtime's error naming it where it does not.
pub fn offered<'a>(dir: &Path, files: &[&'a str]) -> Option<&'a str> {
    files.iter().copied().find(|f| dir.join(f).exists())
}

/// "major:minor" of a block device this machine has (the first under /sys/block).
pub fn a_block_device() -> String {
    let disk = std::fs::read_dir("/sys/block")
        .expect("/sys/block")
        .flatten()
        .next()
        .expect("this machine has a block device")
        .path();
    read(disk.join("dev")).trim().to_owned()
}
