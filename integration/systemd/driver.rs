//! `shoji::systemd::SystemdDriver` against the sandbox's systemd: a sleeping process is put in a
//! transient scope in nested slices, and the cgroup files, `systemctl show` and the cleanup
//! are checked as a user would.
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;
use shoji::cgroups::{mode, CgroupDriver, Owned};
use shoji::systemd::dbus::{Started, Systemd};
use shoji::systemd::{location, properties, SystemdDriver};

use crate::{in_sandbox, in_sandbox_without_bus, k8s_lock};

pub const K8S_PATH: &str = "kubepods-besteffort-pod012abc.slice:cri-containerd:345def";
pub const K8S_UNIT: &str = "cri-containerd-345def.scope";
pub const K8S_CGROUP: &str = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod012abc.slice/cri-containerd-345def.scope";
/// v1 hierarchies systemd realizes for a scope, and those the driver joins itself.
pub const SYSTEMD_MADE: [&str; 5] = ["systemd", "memory", "pids", "cpu", "devices"];
pub const SHOJI_JOINED: [&str; 4] = ["cpuset", "freezer", "blkio", "cpuacct"];

/// A sleeping process and the driver holding it; both are cleaned up even when a check fails.
struct Scoped {
    child: Child,
    driver: SystemdDriver,
    /// What the driver claimed before making anything: all that destroy removes.
    owned: Owned,
}

impl Scoped {
    fn new(cgroups_path: &str, id: &str) -> Scoped {
        let driver = driver(cgroups_path, id);
        let owned = driver.claim().expect("claim");
        Scoped {
            child: sleeper(),
            driver,
            owned,
        }
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        let _ = self.driver.destroy(&self.owned);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sleeper() -> Child {
    // stdio closed: a leftover must not hold the test's output pipe open.
    Command::new("sleep")
        .arg("1000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sleep")
}

fn driver(cgroups_path: &str, id: &str) -> SystemdDriver {
    let mode = mode::mounts().expect("cgroup mounts").mode;
    SystemdDriver::new(location(Some(cgroups_path), id, mode).unwrap()).unwrap()
}

fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

pub fn read(path: &str) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

/// `systemctl show UNIT -p PROPS` as a text to search for `Name=value` lines.
pub fn systemctl_show(unit: &str, props: &str) -> String {
    let out = Command::new("systemctl")
        .args(["show", unit, "-p", props])
        .output()
        .expect("systemctl show");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn assert_shows(unit: &str, wanted: &[&str]) {
    let names: Vec<&str> = wanted
        .iter()
        .map(|w| w.split('=').next().unwrap())
        .collect();
    let show = systemctl_show(unit, &names.join(","));
    for want in wanted {
        assert!(
            show.lines().any(|l| l == *want),
            "{want} not in systemctl show:\n{show}"
        );
    }
}

/// The unit is unknown to systemd and no hierarchy has the directory.
pub fn assert_gone(unit: &str, cgroup: &str) {
    assert_shows(unit, &["LoadState=not-found", "ActiveState=inactive"]);
    for h in SYSTEMD_MADE.iter().chain(&SHOJI_JOINED) {
        let dir = format!("/sys/fs/cgroup/{h}{cgroup}");
        assert!(!Path::new(&dir).exists(), "{dir} is left behind");
    }
}

#[test]
fn scope_in_nested_slices_with_limits() {
    let _k8s = k8s_lock();
    in_sandbox("driver::scope_in_nested_slices_with_limits", || {
        let s = Scoped::new(K8S_PATH, "345def");
        let pid = s.child.id().to_string();
        let r = resources(
            r#"{"memory": {"limit": 104857600}, "pids": {"limit": 50},
                "cpu": {"shares": 512, "quota": 12345, "period": 100000}}"#,
        );
        s.driver
            .create(Pid::from_raw(s.child.id() as i32), Some(&r))
            .unwrap();
        for h in SYSTEMD_MADE.iter().chain(&SHOJI_JOINED) {
            let procs = read(&format!("/sys/fs/cgroup/{h}{K8S_CGROUP}/cgroup.procs"));
            assert!(
                procs.lines().any(|l| l == pid),
                "pid {pid} not in {h}: {procs:?}"
            );
        }
        let file = |f: &str, h: &str| read(&format!("/sys/fs/cgroup/{h}{K8S_CGROUP}/{f}"));
        assert_eq!(file("memory.limit_in_bytes", "memory"), "104857600");
        assert_eq!(file("pids.max", "pids"), "50");
        assert_eq!(file("cpu.shares", "cpu"), "512");
        // 12345/100000 is 12.345 %: systemd keeps whole percents, so both say 13 %.
        assert_eq!(file("cpu.cfs_quota_us", "cpu"), "13000");
        assert_shows(
            K8S_UNIT,
            &[
                "Delegate=yes",
                "MemoryLimit=104857600",
                "TasksMax=50",
                "CPUShares=512",
                "CPUQuotaPerSecUSec=130ms",
                "Slice=kubepods-besteffort-pod012abc.slice",
                "ActiveState=active",
            ],
        );
        s.driver
            .update(&resources(
                r#"{"memory": {"limit": 209715200}, "pids": {"limit": 60}}"#,
            ))
            .unwrap();
        assert_eq!(file("memory.limit_in_bytes", "memory"), "209715200");
        assert_eq!(file("pids.max", "pids"), "60");
        assert_shows(K8S_UNIT, &["MemoryLimit=209715200", "TasksMax=60"]);
        s.driver.destroy(&s.owned).unwrap();
        assert_gone(K8S_UNIT, K8S_CGROUP);
        s.driver
            .destroy(&s.owned)
            .expect("a second destroy is a no-op");
    });
}

#[test]
fn live_unit_with_the_same_name_is_joined() {
    in_sandbox("driver::live_unit_with_the_same_name_is_joined", || {
        let cgroups_path = "system.slice:shoji-test:live";
        let (unit, cgroup) = (
            "shoji-test-live.scope",
            "/system.slice/shoji-test-live.scope",
        );
        // A unit someone else started with that name: another container, say.
        let mut old = sleeper();
        let props = properties::unit_properties(unit, "system.slice", old.id(), false);
        let sd = Systemd::connect().unwrap();
        assert_eq!(
            sd.start_transient_unit(unit, &props, Duration::from_secs(30))
                .unwrap(),
            Started::Done
        );
        let s = Scoped::new(cgroups_path, "live");
        let r = resources(r#"{"pids": {"limit": 30}}"#);
        s.driver
            .create(Pid::from_raw(s.child.id() as i32), Some(&r))
            .unwrap();
        // Joined, not replaced: both processes are in the unit, the old one untouched, and
        // the new limits are the unit's.
        for h in SYSTEMD_MADE.iter().chain(&SHOJI_JOINED) {
            let procs = read(&format!("/sys/fs/cgroup/{h}{cgroup}/cgroup.procs"));
            assert!(
                procs.lines().any(|l| l == s.child.id().to_string()),
                "new pid not in {h}: {procs:?}"
            );
        }
        let procs = read(&format!("/sys/fs/cgroup/systemd{cgroup}/cgroup.procs"));
        assert!(procs.lines().any(|l| l == old.id().to_string()), "{procs}");
        assert!(old.try_wait().unwrap().is_none(), "the old process lives");
        assert_eq!(read(&format!("/sys/fs/cgroup/pids{cgroup}/pids.max")), "30");
        assert_shows(unit, &["TasksMax=30", "ActiveState=active"]);
        // The unit was not this container's: its destroy leaves the unit and its process.
        assert!(!s.owned.unit, "a live unit is not claimed");
        s.driver.destroy(&s.owned).unwrap();
        let alive = old.try_wait().unwrap().is_none();
        let procs = read(&format!("/sys/fs/cgroup/systemd{cgroup}/cgroup.procs"));
        let _ = old.kill();
        let _ = old.wait();
        let sd = Systemd::connect().unwrap();
        let _ = sd.stop_unit(unit, Duration::from_secs(30));
        let _ = sd.reset_failed_unit(unit);
        assert!(alive, "destroy killed the other container's process");
        assert!(procs.lines().any(|l| l == old.id().to_string()), "{procs}");
        assert_gone(unit, cgroup);
    });
}

/// A unit of the same name that failed (left by a crashed container) is reset and replaced.
#[test]
fn failed_unit_with_the_same_name_is_replaced() {
    in_sandbox("driver::failed_unit_with_the_same_name_is_replaced", || {
        let (unit, cgroup) = (
            "shoji-test-failed.scope",
            "/system.slice/shoji-test-failed.scope",
        );
        // systemd stops a scope past its RuntimeMaxSec= with result "timeout": failed, loaded.
        let status = Command::new("systemd-run")
            .args([
                "--unit",
                unit,
                "--scope",
                "-p",
                "RuntimeMaxSec=1",
                "sleep",
                "100",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("systemd-run");
        assert!(!status.success(), "the scope's sleep was killed");
        let failed = || systemctl_show(unit, "ActiveState").contains("ActiveState=failed");
        assert!(
            crate::support::procfs::wait_until(failed),
            "{}",
            systemctl_show(unit, "ActiveState,Result")
        );
        let s = Scoped::new("system.slice:shoji-test:failed", "failed");
        s.driver
            .create(Pid::from_raw(s.child.id() as i32), None)
            .unwrap();
        let procs = read(&format!("/sys/fs/cgroup/systemd{cgroup}/cgroup.procs"));
        assert_eq!(procs, s.child.id().to_string());
        assert_shows(unit, &["ActiveState=active", "Delegate=yes"]);
        s.driver.destroy(&s.owned).unwrap();
        assert_gone(unit, cgroup);
    });
}

#[test]
fn failed_create_leaves_no_unit() {
    in_sandbox("driver::failed_create_leaves_no_unit", || {
        let (unit, cgroup) = (
            "shoji-test-fails.scope",
            "/system.slice/shoji-test-fails.scope",
        );
        let s = Scoped::new("system.slice:shoji-test:fails", "fails");
        // systemd takes AllowedCPUs=63 (it has no v1 cpuset support); the cpuset file does not.
        let r = resources(r#"{"cpu": {"cpus": "63"}, "memory": {"limit": 104857600}}"#);
        let err = s
            .driver
            .create(Pid::from_raw(s.child.id() as i32), Some(&r))
            .unwrap_err();
        assert!(format!("{err:#}").contains("cpuset.cpus"), "{err:#}");
        // What create's guard does on any error: destroy what was claimed.
        s.driver.destroy(&s.owned).unwrap();
        assert_gone(unit, cgroup);
    });
}

#[test]
fn private_socket_when_there_is_no_system_bus() {
    in_sandbox_without_bus("driver::private_socket_when_there_is_no_system_bus", || {
        assert!(
            !Path::new("/run/dbus/system_bus_socket").exists(),
            "the bus is hidden"
        );
        let (unit, cgroup) = ("shoji-test-p2p.scope", "/system.slice/shoji-test-p2p.scope");
        let s = Scoped::new("system.slice:shoji-test:p2p", "p2p");
        let r = resources(r#"{"memory": {"limit": 52428800}}"#);
        s.driver
            .create(Pid::from_raw(s.child.id() as i32), Some(&r))
            .unwrap();
        let limit = read(&format!(
            "/sys/fs/cgroup/memory{cgroup}/memory.limit_in_bytes"
        ));
        assert_eq!(limit, "52428800");
        assert_shows(unit, &["Delegate=yes", "ActiveState=active"]);
        s.driver.destroy(&s.owned).unwrap();
        assert_gone(unit, cgroup);
    });
}

#[test]
fn no_reachable_systemd_is_a_clear_error() {
    // On this host (not in the sandbox) no systemd runs: there is no bus and no private socket.
    assert!(
        !Path::new("/run/systemd/private").exists()
            && !Path::new("/run/dbus/system_bus_socket").exists()
    );
    let mut child = sleeper();
    let d = driver("system.slice:shoji-test:nosystemd", "nosystemd");
    let err = d
        .create(Pid::from_raw(child.id() as i32), None)
        .unwrap_err();
    let _ = child.kill();
    let _ = child.wait();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("systemd is not reachable") && msg.contains("/run/systemd/private"),
        "{msg}"
    );
    assert!(!Path::new("/sys/fs/cgroup/memory/system.slice/shoji-test-nosystemd.scope").exists());
}
