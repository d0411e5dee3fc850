//! `shoji check` against real managers in the sandbox, each configured both ways through the
//! files check reads: containerd's CRI plugin (its running configuration, SystemdCgroup either
//! way, is the node's /etc/containerd/config.toml; the kubelet's config.yaml first agrees, then
//! disagrees) and dockerd (started from an /etc/docker/daemon.json choosing its
//! native.cgroupdriver) and podman (its `cgroup_manager` from /etc/containers/containers.conf,
//! no flag); a container's /proc/self/cgroup shows each really runs that way.
//! The files are this case's own (`Env::write_system_config`).
use std::path::Path;
use std::process::Command;

use crate::cri::Cri;
use crate::docker::Docker;
use crate::env::{run, Driver, Env};
use crate::image::IMAGE;
use crate::in_sandbox;
use crate::support::Value;

const KUBELET: &str = "/var/lib/kubelet/config.yaml";

fn name(d: Driver) -> &'static str {
    match d {
        Driver::Cgroupfs => "cgroupfs",
        Driver::Systemd => "systemd",
    }
}

fn other(d: Driver) -> Driver {
    match d {
        Driver::Cgroupfs => Driver::Systemd,
        Driver::Systemd => Driver::Cgroupfs,
    }
}

fn check() -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_shoji"))
        .args(["check", "--format", "json"])
        .output()
        .expect("run shoji check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(
        out.status.code().map(i64::from),
        report["exitCode"].as_i64()
    );
    report
}

/// (check, fix) of every error, and the driver.runtime notes.
fn verdicts(report: &Value) -> (Vec<(String, String)>, Vec<String>) {
    let all = report["findings"].as_array().expect("findings");
    let text = |f: &Value, k: &str| f[k].as_str().unwrap_or("").to_string();
    let errors = all.iter().filter(|f| f["severity"] == "error");
    let notes = all.iter().filter(|f| f["check"] == "driver.runtime");
    (
        errors.map(|f| (text(f, "check"), text(f, "fix"))).collect(),
        notes.map(|f| text(f, "message")).collect(),
    )
}

fn containerd_cri(tag: &str, driver: Driver) {
    let env = Env::new(tag);
    let cri = Cri::start(&env, driver);
    let config = std::fs::read_to_string(cri.run_dir.join("containerd-cri.toml")).unwrap();
    env.write_system_config(Path::new("/etc/containerd/config.toml"), &config);
    let line = config
        .lines()
        .position(|l| l.contains("SystemdCgroup"))
        .unwrap()
        + 1;
    let note = format!(
        "containerd: runtime shoji (default) uses cgroup driver {} (/etc/containerd/config.toml:{line}), binary {}",
        name(driver),
        env.shoji.display()
    );
    for kubelet in [driver, other(driver)] {
        let yaml = format!(
            "kind: KubeletConfiguration\ncgroupDriver: {}\nfailCgroupV1: false\n",
            name(kubelet)
        );
        env.write_system_config(Path::new(KUBELET), &yaml);
        let report = check();
        let (errors, notes) = verdicts(&report);
        assert!(notes.contains(&note), "no {note:?} in {notes:#?}");
        // PID 1 is systemd here: the fix moves whichever side is on cgroupfs.
        let want = match (kubelet == driver, driver) {
            (true, _) => vec![],
            (false, Driver::Cgroupfs) => vec![format!(
                "/etc/containerd/config.toml:{line}: SystemdCgroup = true"
            )],
            (false, Driver::Systemd) => vec![format!("{KUBELET}:2: cgroupDriver: systemd")],
        };
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|f| ("driver.mismatch".to_string(), f))
            .collect();
        assert_eq!(
            errors, want,
            "kubelet {kubelet:?}, containerd {driver:?}: {report:#}"
        );
        assert_eq!(report["exitCode"], if want.is_empty() { 0 } else { 1 });
    }
    drop(cri);
}

fn dockerd(tag: &str, driver: Driver) {
    let env = Env::new(tag);
    let json = format!(
        "{{\n  \"exec-opts\": [\"native.cgroupdriver={}\"],\n  \"runtimes\": {{\"shoji\": {{\"path\": \"{}\"}}}}\n}}\n",
        name(driver),
        env.shoji.display()
    );
    env.write_system_config(Path::new("/etc/docker/daemon.json"), &json);
    // Driver::Cgroupfs: no --exec-opt flag, the file alone decides (dockerd refuses both).
    let docker = Docker::start_with(&env, Driver::Cgroupfs, &json);
    // seccomp unconfined: this case is about the cgroup driver, and shoji refuses a profile
    // until it enforces seccomp.
    let run = [
        "run",
        "--rm",
        "--network=none",
        "--runtime=shoji",
        "--security-opt",
        "seccomp=unconfined",
        IMAGE,
        "cat",
        "/proc/self/cgroup",
    ];
    let cgroups = docker.cli.cmd(&run).ok();
    let memory = cgroups
        .lines()
        .find(|l| l.contains(":memory:"))
        .expect("a memory line");
    let placed = match driver {
        Driver::Systemd => memory.contains("/system.slice/docker-") && memory.ends_with(".scope"),
        Driver::Cgroupfs => memory.contains(":/docker/"),
    };
    assert!(
        placed,
        "dockerd on {driver:?} put the container at {memory}"
    );
    let report = check();
    let (errors, notes) = verdicts(&report);
    let note = format!(
        "docker: runtime shoji uses cgroup driver {} (/etc/docker/daemon.json:2), binary {}",
        name(driver),
        env.shoji.display()
    );
    assert!(notes.contains(&note), "no {note:?} in {notes:#?}");
    assert_eq!(errors, vec![], "{report:#}");
    drop(docker);
}

/// podman with shoji as its runtime and no --cgroup-manager: containers.conf decides.
fn podman(tag: &str, driver: Driver) {
    let env = Env::new(tag);
    let conf = format!("[engine]\ncgroup_manager = \"{}\"\n", name(driver));
    env.write_system_config(Path::new("/etc/containers/containers.conf"), &conf);
    let global = [
        format!("--root={}", env.storage.join("podman").display()),
        format!("--runroot={}", env.run_dir.join("prr").display()),
        format!("--tmpdir={}", env.run_dir.join("ptmp").display()),
        "--storage-driver=overlay".into(),
        "--events-backend=file".into(),
        format!("--runtime={}", env.shoji.display()),
    ];
    let podman = |args: &[&str]| {
        let all: Vec<String> = global
            .iter()
            .cloned()
            .chain(args.iter().map(|a| a.to_string()))
            .collect();
        run("podman", &all)
    };
    podman(&["load", "-i", &env.image.display().to_string()]).ok();
    let cgroups = podman(&[
        "run",
        "--rm",
        "--network=none",
        "--security-opt",
        "seccomp=unconfined",
        IMAGE,
        "cat",
        "/proc/self/cgroup",
    ])
    .ok();
    let memory = cgroups
        .lines()
        .find(|l| l.contains(":memory:"))
        .expect("a memory line");
    let placed = match driver {
        Driver::Systemd => memory.contains("/libpod-") && memory.ends_with(".scope"),
        Driver::Cgroupfs => memory.contains(":/libpod_parent/"),
    };
    assert!(placed, "podman on {driver:?} put the container at {memory}");
    let report = check();
    let (errors, notes) = verdicts(&report);
    let note = format!(
        "podman: uses cgroup driver {} (/etc/containers/containers.conf:2)",
        name(driver)
    );
    assert!(notes.contains(&note), "no {note:?} in {notes:#?}");
    assert_eq!(errors, vec![], "{report:#}");
}

#[test]
fn check_podman_cgroupfs() {
    in_sandbox("check::check_podman_cgroupfs", || {
        podman("chk-pfs", Driver::Cgroupfs)
    });
}

#[test]
fn check_podman_systemd() {
    in_sandbox("check::check_podman_systemd", || {
        podman("chk-psd", Driver::Systemd)
    });
}

#[test]
fn check_containerd_cri_cgroupfs() {
    in_sandbox("check::check_containerd_cri_cgroupfs", || {
        containerd_cri("chk-cfs", Driver::Cgroupfs)
    });
}

#[test]
fn check_containerd_cri_systemd() {
    in_sandbox("check::check_containerd_cri_systemd", || {
        containerd_cri("chk-csd", Driver::Systemd)
    });
}

#[test]
fn check_dockerd_cgroupfs() {
    in_sandbox("check::check_dockerd_cgroupfs", || {
        dockerd("chk-dfs", Driver::Cgroupfs)
    });
}

#[test]
fn check_dockerd_systemd() {
    in_sandbox("check::check_dockerd_systemd", || {
        dockerd("chk-dsd", Driver::Systemd)
    });
}
