//! The cgroupfs driver against the real /sys/fs/cgroup of this host (root required: a test
//! that cannot run fails and says why). Each test works under a unique `/shoji-test-<pid>-<n>`
//! and a Drop guard kills its child and removes every directory, even when the test panics.
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxResources, Spec};

use super::cgroupfs::CgroupfsDriver;
use super::{mode, path, plan, CgroupDriver, CgroupLocation, CgroupMode, Owned};

static SEQ: AtomicU32 = AtomicU32::new(0);

fn unique_root() -> String {
    format!(
        "/shoji-test-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    )
}

fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests write /sys/fs/cgroup: run them as root"
    );
    assert_ne!(
        mode::mounts().unwrap().mode,
        CgroupMode::V2,
        "this module tests the v1/hybrid host"
    );
}

fn spec_with_path(cgroups_path: Option<&str>) -> Spec {
    let mut spec = Spec::default();
    let mut linux = spec.linux().clone().unwrap_or_default();
    linux.set_cgroups_path(cgroups_path.map(PathBuf::from));
    spec.set_linux(Some(linux));
    spec
}

/// A child that waits for a line on stdin, then allocates and reports, so its work happens
/// after it has joined the cgroup (memory and cpu are charged where the task runs then).
fn spawn_child() -> Child {
    Command::new("sh")
        .args([
            "-c",
            "read go; v=$(seq 1 100000); echo done; exec sleep 1000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A planned container cgroup with a waiting child; cleans up everything on drop.
struct Fixture {
    loc: CgroupLocation,
    driver: CgroupfsDriver,
    /// What the driver claimed before the test made anything: all that destroy removes.
    owned: Owned,
    child: Child,
    /// More processes (exec'd ones), killed on drop too.
    extra: Vec<Child>,
    /// The test's top directory below every mount (the driver removes only the leaf).
    top: Option<String>,
}

impl Fixture {
    fn new(cgroups_path: &str, top: Option<String>) -> Fixture {
        Fixture::with(Some(cgroups_path), "c1", top)
    }

    fn with(cgroups_path: Option<&str>, id: &str, top: Option<String>) -> Fixture {
        require_root();
        let loc = plan(&spec_with_path(cgroups_path), id, false).unwrap();
        let driver = CgroupfsDriver::new(loc.clone()).unwrap();
        let owned = driver.claim().unwrap();
        let child = spawn_child();
        Fixture {
            loc,
            driver,
            owned,
            child,
            extra: Vec::new(),
            top,
        }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Let the child do its work inside the cgroup and wait until it has.
    fn work(&mut self) {
        writeln!(self.child.stdin.as_mut().unwrap(), "go").unwrap();
        let mut line = String::new();
        BufReader::new(self.child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "done\n");
    }

    fn v1_dir(&self, controller: &str) -> PathBuf {
        self.driver
            .cgroup()
            .dirs()
            .of(controller)
            .unwrap()
            .to_path_buf()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for child in std::iter::once(&mut self.child).chain(&mut self.extra) {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.driver.destroy(&self.owned);
        if let Some(top) = &self.top {
            for h in mode::mounts().unwrap().all() {
                remove_tree(&path::in_hierarchy(h, Path::new(top)));
            }
        }
    }
}

/// rmdir a test's directories, deepest first (cgroup directories hold no removable files).
fn remove_tree(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir);
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .trim()
        .to_string()
}

fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

#[test]
fn create_writes_limits_and_joins_every_hierarchy_then_destroy_removes_them() {
    let top = unique_root();
    let fx = Fixture::new(&format!("{top}/pod012abc/345def"), Some(top.clone()));
    let r = resources(
        r#"{"memory": {"limit": 67108864}, "cpu": {"shares": 512, "cpus": "0"}, "pids": {"limit": 50}}"#,
    );
    fx.driver.create(fx.pid(), Some(&r)).unwrap();

    let leaf = format!("{top}/pod012abc/345def");
    assert_eq!(fx.loc.path, Path::new(&leaf));
    assert_eq!(
        read(&fx.v1_dir("memory"), "memory.limit_in_bytes"),
        "67108864"
    );
    assert_eq!(read(&fx.v1_dir("cpu"), "cpu.shares"), "512");
    assert_eq!(read(&fx.v1_dir("pids"), "pids.max"), "50");
    assert_eq!(read(&fx.v1_dir("cpuset"), "cpuset.cpus"), "0");
    assert_eq!(
        read(&fx.v1_dir("devices"), "devices.list").lines().next(),
        Some("c *:* m")
    );

    let proc_cgroup = std::fs::read_to_string(format!("/proc/{}/cgroup", fx.pid())).unwrap();
    let lines = path::parse_proc_cgroup(&proc_cgroup);
    let hierarchies: Vec<_> = mode::mounts().unwrap().all().cloned().collect();
    for h in &hierarchies {
        assert_eq!(
            path::own_cgroup(h, &lines),
            Some(leaf.as_str()),
            "{} in {proc_cgroup}",
            h.key()
        );
    }

    fx.driver.destroy(&fx.owned).unwrap();
    for h in &hierarchies {
        let dir = path::in_hierarchy(h, Path::new(&leaf));
        assert!(!dir.exists(), "{dir:?} left behind");
        assert!(
            dir.parent().unwrap().exists(),
            "the shared parent of {dir:?} must stay"
        );
    }
    fx.driver.destroy(&fx.owned).unwrap();
}

#[test]
fn relative_path_lands_under_the_runtimes_own_memory_cgroup() {
    let rel = unique_root().trim_start_matches('/').to_string();
    let fx = Fixture::new(&rel, None);
    fx.driver.create(fx.pid(), None).unwrap();

    let own = path::parse_proc_cgroup(&std::fs::read_to_string("/proc/self/cgroup").unwrap());
    let memory = mode::mounts().unwrap().v1_with("memory").unwrap().clone();
    let own_memory = path::own_cgroup(&memory, &own).unwrap();
    let want = Path::new("/sys/fs/cgroup/memory")
        .join(own_memory.trim_start_matches('/'))
        .join(&rel);
    assert_eq!(fx.v1_dir("memory"), want);
    assert!(want.join("cgroup.procs").exists());
    assert_eq!(read(&want, "cgroup.procs"), fx.pid().to_string());
    fx.driver.destroy(&fx.owned).unwrap();
    assert!(!want.exists());
}

#[test]
fn systemd_format_path_is_planned_where_systemd_would_and_nothing_is_created() {
    require_root();
    let name = "kubepods-besteffort-pod012abc.slice:cri-containerd:345def";
    let loc = plan(&spec_with_path(Some(name)), "c1", false).unwrap();
    assert_eq!(loc.driver, super::DriverKind::Cgroupfs);
    assert!(loc.path.ends_with("cri-containerd-345def.scope"), "{loc:?}");
    for h in mode::mounts().unwrap().all() {
        assert!(!path::in_hierarchy(h, &loc.path).exists());
        assert!(!h.mount_point.join(name).exists());
    }
}

#[test]
fn refused_value_names_file_and_value_and_leaves_nothing() {
    let fx = Fixture::new(&unique_root(), None);
    let r = resources(r#"{"cpu": {"cpus": "abc"}}"#);
    let err = format!("{:#}", fx.driver.create(fx.pid(), Some(&r)).unwrap_err());
    assert!(err.starts_with("writing \"abc\" to "), "{err}");
    assert!(err.contains("cpuset.cpus\": invalid argument"), "{err}");
    // What create's guard does on any error: destroy what was claimed.
    fx.driver.destroy(&fx.owned).unwrap();
    for dir in fx.driver.cgroup().dirs().all() {
        assert!(!dir.exists(), "{dir:?} left behind");
    }
}

#[test]
fn freeze_thaw_pids_stats_and_kill_all() {
    let mut fx = Fixture::new(&unique_root(), None);
    fx.driver
        .create(
            fx.pid(),
            Some(&resources(r#"{"memory": {"limit": 67108864}}"#)),
        )
        .unwrap();
    fx.work();
    let h = fx.driver.cgroup();
    assert!(h.exists());
    assert_eq!(h.pids().unwrap(), [fx.pid()]);

    h.freeze().unwrap();
    assert!(h.is_frozen().unwrap());
    assert_eq!(read(&fx.v1_dir("freezer"), "freezer.state"), "FROZEN");
    let status = std::fs::read_to_string(format!("/proc/{}/status", fx.pid())).unwrap();
    let state = status.lines().find(|l| l.starts_with("State:")).unwrap();
    // A task stopped by the v1 freezer shows as uninterruptible sleep.
    assert_eq!(state, "State:\tD (disk sleep)");
    h.thaw().unwrap();
    assert!(!h.is_frozen().unwrap());
    assert_eq!(read(&fx.v1_dir("freezer"), "freezer.state"), "THAWED");

    let stats = h.stats().unwrap();
    assert!(stats.memory.usage.usage > 0, "{stats:?}");
    assert_eq!(stats.memory.usage.limit, 67108864);
    assert_eq!(stats.pids.current, 1);
    assert!(stats.cpu.usage.total > 0, "{stats:?}");
    assert_eq!(h.oom_kill_count().unwrap(), 0);

    h.kill_all(Signal::SIGKILL).unwrap();
    let status = fx.child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    fx.driver.destroy(&fx.owned).unwrap();
    assert!(!fx.driver.cgroup().exists());
}

fn in_cgroup(pid: Pid, dir: &Path) -> bool {
    read(dir, "cgroup.procs")
        .lines()
        .any(|l| l == pid.to_string())
}

#[test]
fn empty_cgroups_path_is_the_id_under_the_own_cgroup() {
    let id = unique_root().trim_start_matches('/').to_string();
    let fx = Fixture::with(None, &id, None);
    fx.driver.create(fx.pid(), None).unwrap();
    let own = path::parse_proc_cgroup(&std::fs::read_to_string("/proc/self/cgroup").unwrap());
    for h in mode::mounts().unwrap().all() {
        let below = Path::new(path::own_cgroup(h, &own).unwrap()).join(&id);
        let dir = path::in_hierarchy(h, &below);
        assert!(in_cgroup(fx.pid(), &dir), "{dir:?}");
    }
}

#[test]
fn update_rewrites_the_files_and_names_a_refused_value() {
    let fx = Fixture::new(&unique_root(), None);
    let first = r#"{"memory": {"limit": 67108864}, "cpu": {"shares": 512}}"#;
    fx.driver.create(fx.pid(), Some(&resources(first))).unwrap();
    let second = r#"{"memory": {"limit": 134217728}, "cpu": {"quota": 20000, "period": 50000}, "pids": {"limit": 7}}"#;
    fx.driver.update(&resources(second)).unwrap();
    let memory = fx.v1_dir("memory");
    assert_eq!(read(&memory, "memory.limit_in_bytes"), "134217728");
    let cpu = fx.v1_dir("cpu");
    assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "20000");
    assert_eq!(read(&cpu, "cpu.cfs_period_us"), "50000");
    assert_eq!(
        read(&cpu, "cpu.shares"),
        "512",
        "an update leaves unmentioned values alone"
    );
    assert_eq!(read(&fx.v1_dir("pids"), "pids.max"), "7");

    let err = format!(
        "{:#}",
        fx.driver
            .update(&resources(r#"{"cpu": {"quota": 500}}"#))
            .unwrap_err()
    );
    let file = cpu.join("cpu.cfs_quota_us");
    let want = format!("writing \"500\" to {file:?}: invalid argument");
    assert_eq!(err, want);
    assert_eq!(
        read(&cpu, "cpu.cfs_quota_us"),
        "20000",
        "a refused update changes nothing"
    );

    let clamped = fx.driver.update(&resources(r#"{"cpu": {"shares": 1}}"#));
    assert_eq!(
        clamped.unwrap_err().to_string(),
        "the minimum allowed cpu-shares is 2"
    );
}

#[test]
fn exec_joins_the_cgroup_and_a_sub_cgroup_and_destroy_removes_both() {
    let mut fx = Fixture::new(&unique_root(), None);
    fx.driver.create(fx.pid(), None).unwrap();
    let exec1 = spawn_child();
    let exec2 = spawn_child();
    let (p1, p2) = (
        Pid::from_raw(exec1.id() as i32),
        Pid::from_raw(exec2.id() as i32),
    );
    fx.extra.extend([exec1, exec2]);
    fx.driver.join(p1, None).unwrap();
    fx.driver.join(p2, Some("../../sub")).unwrap();
    for dir in fx.driver.cgroup().dirs().all() {
        assert!(in_cgroup(p1, dir), "{dir:?}");
        assert!(in_cgroup(p2, &dir.join("sub")), "{dir:?}/sub");
    }
    let exec3 = spawn_child();
    let p3 = Pid::from_raw(exec3.id() as i32);
    fx.extra.push(exec3);
    fx.driver.join(p3, Some("memory,pids:only")).unwrap();
    assert!(in_cgroup(p3, &fx.v1_dir("memory").join("only")));
    assert!(in_cgroup(p3, &fx.v1_dir("pids").join("only")));
    assert!(in_cgroup(p3, &fx.v1_dir("cpu")));
    assert!(!fx.v1_dir("cpu").join("only").exists());
    let mut want = vec![fx.pid(), p1, p2, p3];
    want.sort();
    assert_eq!(fx.driver.cgroup().pids().unwrap(), want);

    fx.driver.destroy(&fx.owned).unwrap();
    for child in &mut fx.extra {
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
    }
    for dir in fx.driver.cgroup().dirs().all() {
        assert!(!dir.exists(), "{dir:?} left behind");
    }
}

/// Settings that depend on optional kernel features: applied where this host offers them, else
/// refused with an error naming the hierarchy or file, leaving nothing behind.
#[test]
fn optional_settings_apply_or_are_named_and_leave_nothing() {
    let table = [
        // CFQ's leaf weights are gone from multiqueue kernels.
        (
            r#"{"blockIO": {"leafWeight": 500}}"#,
            "blkio",
            "blkio.leaf_weight",
            "500",
        ),
        (
            r#"{"network": {"classID": 1048577}}"#,
            "net_cls",
            "net_cls.classid",
            "1048577",
        ),
        (
            r#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]}"#,
            "hugetlb",
            "hugetlb.2MB.limit_in_bytes",
            "2097152",
        ),
    ];
    let mounts = mode::mounts().unwrap();
    for (json, controller, file, value) in table {
        let mounted = mounts.v1.iter().any(|h| h.has(controller));
        let fx = Fixture::new(&unique_root(), None);
        let offered = mounted && {
            fx.driver.create(fx.pid(), None).unwrap();
            fx.v1_dir(controller).join(file).exists()
        };
        let result = if mounted {
            fx.driver.update(&resources(json))
        } else {
            fx.driver.create(fx.pid(), Some(&resources(json)))
        };
        if offered {
            result.unwrap();
            assert_eq!(read(&fx.v1_dir(controller), file), value, "{json}");
            continue;
        }
        let err = format!("{:#}", result.unwrap_err());
        let want = match mounted {
            true => format!("{file}\" does not exist"),
            false => format!("the {controller:?} cgroup hierarchy is not mounted"),
        };
        assert!(err.starts_with("cannot "), "{err}");
        assert!(err.contains(&want), "{json}: {err}");
        if !mounted {
            // What create's guard does on any error: destroy what was claimed.
            fx.driver.destroy(&fx.owned).unwrap();
            for dir in fx.driver.cgroup().dirs().all() {
                assert!(!dir.exists(), "{json}: {dir:?} left behind");
            }
        }
    }
}

/// The first of `files` this kernel offers in `dir` (optional files differ per machine).
fn offered<'a>(dir: &Path, files: &[&'a str]) -> Option<&'a str> {
    files.iter().copied().find(|f| dir.join(f).exists())
}

/// The weight goes to BFQ's file when the kernel has one, else to blkio.weight, as runc; with
/// neither (mq-deadline on this machine kind) the update names both files and changes nothing.
#[test]
fn blkio_weight_goes_to_the_file_the_kernel_offers_as_runc_does() {
    let fx = Fixture::new(&unique_root(), None);
    fx.driver.create(fx.pid(), None).unwrap();
    let blkio = fx.v1_dir("blkio");
    let weight = resources(r#"{"blockIO": {"weight": 300}}"#);
    match offered(&blkio, &["blkio.bfq.weight", "blkio.weight"]) {
        Some(file) => {
            fx.driver.update(&weight).unwrap();
            assert_eq!(read(&blkio, file), "300", "{file}");
        }
        None => {
            let err = format!("{:#}", fx.driver.update(&weight).unwrap_err());
            let both = format!(
                "{:?} or {:?} does not exist",
                blkio.join("blkio.bfq.weight"),
                blkio.join("blkio.weight")
            );
            assert!(err.contains("\"300\"") && err.contains(&both), "{err}");
        }
    }
}

#[test]
fn blkio_throttle_goes_to_the_devices_file() {
    let fx = Fixture::new(&unique_root(), None);
    // Any block device of this machine, as "major:minor".
    let disk = std::fs::read_dir("/sys/block")
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let dev = read(&disk, "dev");
    let (major, minor) = dev.split_once(':').unwrap();
    let r = format!(
        r#"{{"blockIO": {{"throttleReadBpsDevice": [{{"major": {major}, "minor": {minor}, "rate": 1048576}}]}}}}"#
    );
    fx.driver.create(fx.pid(), Some(&resources(&r))).unwrap();
    assert_eq!(
        read(&fx.v1_dir("blkio"), "blkio.throttle.read_bps_device"),
        format!("{dev} 1048576")
    );
}

/// memsw = memory + swap, so raising both writes memsw first and lowering both writes memory
/// first. Without swap accounting (a boot option) a swap limit names the missing file.
#[test]
fn swap_limits_go_in_the_order_the_kernel_accepts() {
    let fx = Fixture::new(&unique_root(), None);
    let first = r#"{"memory": {"limit": 67108864}}"#;
    fx.driver.create(fx.pid(), Some(&resources(first))).unwrap();
    let memory = fx.v1_dir("memory");
    let raise = resources(r#"{"memory": {"limit": 134217728, "swap": 268435456}}"#);
    if offered(&memory, &["memory.memsw.limit_in_bytes"]).is_none() {
        let err = format!("{:#}", fx.driver.update(&raise).unwrap_err());
        assert!(
            err.contains("memory.memsw.limit_in_bytes\" does not exist"),
            "{err}"
        );
        return;
    }
    fx.driver.update(&raise).unwrap();
    assert_eq!(read(&memory, "memory.limit_in_bytes"), "134217728");
    assert_eq!(read(&memory, "memory.memsw.limit_in_bytes"), "268435456");
    fx.driver
        .update(&resources(
            r#"{"memory": {"limit": 33554432, "swap": 67108864}}"#,
        ))
        .unwrap();
    assert_eq!(read(&memory, "memory.limit_in_bytes"), "33554432");
    assert_eq!(read(&memory, "memory.memsw.limit_in_bytes"), "67108864");
}

#[test]
fn device_rules_replace_the_parents_list() {
    let fx = Fixture::new(&unique_root(), None);
    let r = r#"{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}]}"#;
    fx.driver.create(fx.pid(), Some(&resources(r))).unwrap();
    let list = read(&fx.v1_dir("devices"), "devices.list");
    let mut got: Vec<&str> = list.lines().collect();
    got.sort();
    let mut want = vec![
        "b *:* m",
        "c *:* m",
        "c 1:11 r",
        "c 1:3 rwm",
        "c 1:5 rwm",
        "c 1:7 rwm",
        "c 1:8 rwm",
        "c 1:9 rwm",
        "c 10:200 rwm",
        "c 136:* rwm",
        "c 5:0 rwm",
        "c 5:2 rwm",
    ];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn a_paused_container_is_destroyed_and_signals_reach_a_running_one() {
    let mut fx = Fixture::new(&unique_root(), None);
    fx.driver.create(fx.pid(), None).unwrap();
    let other = spawn_child();
    let other_pid = Pid::from_raw(other.id() as i32);
    fx.extra.push(other);
    fx.driver.join(other_pid, None).unwrap();
    fx.driver.cgroup().kill_all(Signal::SIGTERM).unwrap();
    for child in std::iter::once(&mut fx.child).chain(&mut fx.extra) {
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(15)
        );
    }

    let mut paused = Fixture::new(&unique_root(), None);
    paused.driver.create(paused.pid(), None).unwrap();
    paused.driver.cgroup().freeze().unwrap();
    paused.driver.destroy(&paused.owned).unwrap();
    let status = paused.child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    assert!(!paused.driver.cgroup().exists());
}

/// The v2 paths of the driver and handle (cgroup.procs, the unified map, cgroup.freeze,
/// cgroup.events, cgroup.kill, cpu.stat, PSI) for real, in a child of this host's cgroup2
/// mount, which has no controllers but the core files. Create itself needs the v2 device
/// filter, so the directory is made by hand.
#[test]
fn v2_driver_and_handle_on_the_unified_hierarchy() {
    require_root();
    let unified = mode::mounts()
        .unwrap()
        .unified
        .clone()
        .expect("this host mounts cgroup2");
    let mounts = mode::Mounts {
        mode: CgroupMode::V2,
        v1: vec![],
        unified: Some(unified),
    };
    let loc = CgroupLocation {
        driver: super::DriverKind::Cgroupfs,
        mode: CgroupMode::V2,
        path: unique_root().into(),
        unit: None,
        slice: None,
        hierarchy_paths: Default::default(),
    };
    let dirs = super::dirs::ContainerDirs::new(&loc, &mounts);
    let dir = dirs.unified.clone().unwrap();
    let driver = CgroupfsDriver::with_handle(super::handle::CgroupHandle::with_dirs(loc, dirs));
    // The children and directories go away with the guard even if an assertion fails.
    struct Guard(Vec<Child>, PathBuf);
    impl Drop for Guard {
        fn drop(&mut self) {
            for child in &mut self.0 {
                let _ = child.kill();
                let _ = child.wait();
            }
            remove_tree(&self.1);
        }
    }
    let owned = driver.claim().unwrap();
    assert_eq!(
        owned.dirs,
        vec![dir.clone()],
        "the directory does not exist yet"
    );
    std::fs::create_dir(&dir).unwrap();
    let mut g = Guard(vec![spawn_child(), spawn_child()], dir.clone());
    let pid = Pid::from_raw(g.0[0].id() as i32);
    let exec_pid = Pid::from_raw(g.0[1].id() as i32);
    driver.join(pid, None).unwrap();
    driver.join(exec_pid, Some("sub")).unwrap();
    assert!(in_cgroup(pid, &dir) && in_cgroup(exec_pid, &dir.join("sub")));
    writeln!(g.0[0].stdin.as_mut().unwrap(), "go").unwrap();
    let mut line = String::new();
    BufReader::new(g.0[0].stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();

    driver
        .apply_resources(&resources(r#"{"unified": {"cgroup.max.depth": "3"}}"#))
        .unwrap();
    assert_eq!(read(&dir, "cgroup.max.depth"), "3");
    let refused = [
        (
            r#"{"unified": {"memory.high": "1"}}"#,
            "controller \"memory\" not available",
        ),
        (r#"{"pids": {"limit": 5}}"#, "pids.max\" does not exist"),
    ];
    for (json, want) in refused {
        let err = driver
            .apply_resources(&resources(json))
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{json}: {err}");
    }

    let h = driver.cgroup();
    let mut want = vec![pid, exec_pid];
    want.sort();
    assert_eq!(h.pids().unwrap(), want);
    h.freeze().unwrap();
    assert!(h.is_frozen().unwrap());
    assert!(read(&dir, "cgroup.events").lines().any(|l| l == "frozen 1"));
    h.thaw().unwrap();
    assert!(!h.is_frozen().unwrap());
    assert!(read(&dir, "cgroup.events").lines().any(|l| l == "frozen 0"));
    let stats = h.stats().unwrap();
    assert!(stats.cpu.usage.total > 0, "{stats:?}");
    // PSI is a build and boot option (psi=0): read where the kernel offers it, else absent.
    assert_eq!(
        stats.cpu.psi.is_some(),
        dir.join("cpu.pressure").exists(),
        "cpu.pressure is read on v2 where it exists"
    );

    // destroy: cgroup.kill, then the sub-cgroup and the cgroup are removed.
    driver.destroy(&owned).unwrap();
    for child in &mut g.0 {
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
    }
    assert!(!dir.exists());
}

#[test]
fn an_oom_kill_is_counted() {
    let mut fx = Fixture::new(&unique_root(), None);
    // memory+swap at the memory limit: no swapping (this host has zram swap) — the kernel kills.
    let r = r#"{"memory": {"limit": 16777216, "swap": 16777216}}"#;
    fx.driver.create(fx.pid(), Some(&resources(r))).unwrap();
    assert_eq!(fx.driver.cgroup().oom_kill_count().unwrap(), 0);
    let mut big = Command::new("sh")
        .args([
            "-c",
            "read go; v=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let big_pid = Pid::from_raw(big.id() as i32);
    fx.driver.join(big_pid, None).unwrap();
    writeln!(big.stdin.as_mut().unwrap(), "go").unwrap();
    let mut out = String::new();
    BufReader::new(big.stdout.take().unwrap())
        .read_line(&mut out)
        .unwrap();
    fx.extra.push(big);
    assert_eq!(out, "", "the allocation must not fit in 16 MiB");
    assert!(fx.driver.cgroup().oom_kill_count().unwrap() >= 1);
}
