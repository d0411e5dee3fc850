//! `shoji check` on a real systemd node (the sandbox): PID 1 is systemd and answers over
//! D-Bus; each manager's configuration written each way is read back with the right driver
//! and every disagreement is an error; and the damage runc (/usr/sbin/runc) leaves when it is
//! handed a systemd path on the cgroupfs driver is reported. The configurations are fixture
//! files written into the sandbox's private overlay root and restored afterwards (the clients
//! tier, with the managers running, was not in main when this was written).
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use crate::in_sandbox;
use crate::support::{json, unique_name, Bundle, Container, Runtime, Value};

/// Held in the outer process around both tests: they change and read the same node.
static NODE: Mutex<()> = Mutex::new(());

fn node_lock() -> MutexGuard<'static, ()> {
    NODE.lock().unwrap_or_else(|e| e.into_inner())
}

fn check() -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_shoji"))
        .args(["check", "--format", "json"])
        .output()
        .expect("run shoji check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(
        Some(report["exitCode"].as_i64().unwrap() as i32),
        out.status.code()
    );
    report
}

fn findings<'a>(report: &'a Value, check: &str) -> Vec<&'a Value> {
    let all = report["findings"].as_array().expect("findings");
    all.iter().filter(|f| f["check"] == check).collect()
}

/// Files of the node restored (or removed) on drop, even when an assertion fails.
struct NodeFiles(Vec<(String, Option<Vec<u8>>)>);

impl NodeFiles {
    fn write(&mut self, path: &str, text: &str) {
        if !self.0.iter().any(|(p, _)| p == path) {
            self.0.push((path.to_string(), std::fs::read(path).ok()));
        }
        std::fs::create_dir_all(Path::new(path).parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}

impl Drop for NodeFiles {
    fn drop(&mut self) {
        for (path, before) in self.0.drain(..).rev() {
            let _ = match before {
                Some(bytes) => std::fs::write(&path, bytes),
                None => std::fs::remove_file(&path),
            };
        }
    }
}

#[test]
fn check_sees_systemd_and_each_manager_both_ways() {
    let _node = node_lock();
    in_sandbox(
        "check::check_sees_systemd_and_each_manager_both_ways",
        || {
            let report = check();
            let pid1 = findings(&report, "layout.pid1");
            let message = pid1[0]["message"].as_str().unwrap();
            assert!(
                message.starts_with("PID 1 is systemd; it answers over D-Bus (systemd "),
                "{message}"
            );
            assert_eq!(pid1[0]["severity"], "info");
            let mut files = NodeFiles(Vec::new());
            // podman counts as installed by its binary: a stand-in where it is not (the overlay is
            // private to the sandbox).
            if !Path::new("/usr/bin/podman").exists() {
                files.write("/usr/bin/podman", "");
            }
            for step in STEPS {
                for (path, text) in step.files {
                    files.write(path, text);
                }
                let report = check();
                let errors: Vec<(String, String)> = report["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["severity"] == "error")
                    .map(|f| {
                        (
                            f["check"].as_str().unwrap().into(),
                            f["fix"].as_str().unwrap_or("").into(),
                        )
                    })
                    .collect();
                let want: Vec<(String, String)> = step
                    .errors
                    .iter()
                    .map(|(c, f)| (c.to_string(), f.to_string()))
                    .collect();
                assert_eq!(errors, want, "{}: {report:#}", step.name);
                assert_eq!(
                    report["exitCode"],
                    if want.is_empty() { 0 } else { 1 },
                    "{}",
                    step.name
                );
                let notes: Vec<&str> = findings(&report, "driver.runtime")
                    .iter()
                    .map(|f| f["message"].as_str().unwrap())
                    .collect();
                for want in step.notes {
                    assert!(
                        notes.iter().any(|n| n.starts_with(want)),
                        "{}: no note {want:?} in {notes:#?}",
                        step.name
                    );
                }
            }
        },
    );
}

struct Step {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    /// (check, fix) of every error expected.
    errors: &'static [(&'static str, &'static str)],
    /// Beginnings of driver.runtime notes expected.
    notes: &'static [&'static str],
}

const KUBELET: &str = "/var/lib/kubelet/config.yaml";
const CONTAINERD: &str = "/etc/containerd/config.toml";
const CRIO: &str = "/etc/crio/crio.conf.d/50-check.conf";
const DOCKER: &str = "/etc/docker/daemon.json";
const PODMAN: &str = "/etc/containers/containers.conf";

const STEPS: &[Step] = &[
    Step {
        name: "kubelet systemd, containerd 2 cgroupfs",
        files: &[
            (KUBELET, "kind: KubeletConfiguration\ncgroupDriver: systemd\nfailCgroupV1: false\n"),
            (CONTAINERD, "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n  BinaryName = \"/usr/sbin/runc\"\n"),
        ],
        errors: &[("driver.mismatch", "/etc/containerd/config.toml:3: SystemdCgroup = true")],
        notes: &["containerd: runtime runc (default) uses cgroup driver cgroupfs (/etc/containerd/config.toml:3), binary /usr/sbin/runc"],
    },
    Step {
        name: "kubelet systemd, containerd 3 systemd",
        files: &[(CONTAINERD, "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n")],
        errors: &[],
        notes: &["containerd: runtime runc (default) uses cgroup driver systemd (/etc/containerd/config.toml:3)"],
    },
    Step {
        name: "kubelet cgroupfs, containerd 3 systemd",
        files: &[(KUBELET, "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\nfailCgroupV1: false\n")],
        errors: &[("driver.mismatch", "/var/lib/kubelet/config.yaml:2: cgroupDriver: systemd")],
        notes: &[],
    },
    Step {
        name: "kubelet cgroupfs on CRI-O cgroupfs",
        files: &[
            (KUBELET, "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\ncontainerRuntimeEndpoint: unix:///var/run/crio/crio.sock\nfailCgroupV1: false\n"),
            (CRIO, "[crio.runtime]\ncgroup_manager = \"cgroupfs\"\n[crio.runtime.runtimes.runc]\nruntime_path = \"/usr/sbin/runc\"\n"),
        ],
        errors: &[],
        notes: &["cri-o: runtime runc uses cgroup driver cgroupfs (/etc/crio/crio.conf.d/50-check.conf:2), binary /usr/sbin/runc"],
    },
    Step {
        name: "kubelet systemd on CRI-O cgroupfs",
        files: &[(KUBELET, "kind: KubeletConfiguration\ncgroupDriver: systemd\ncontainerRuntimeEndpoint: unix:///var/run/crio/crio.sock\nfailCgroupV1: false\n")],
        errors: &[("driver.mismatch", "/etc/crio/crio.conf.d/50-check.conf:2: cgroup_manager = \"systemd\"")],
        notes: &[],
    },
    Step {
        name: "CRI-O systemd; docker and podman cgroupfs",
        files: &[
            (CRIO, "[crio.runtime]\ncgroup_manager = \"systemd\"\n"),
            (DOCKER, "{\n  \"exec-opts\": [\"native.cgroupdriver=cgroupfs\"]\n}\n"),
            (PODMAN, "[engine]\ncgroup_manager = \"cgroupfs\"\n"),
        ],
        errors: &[],
        notes: &[
            "docker: runtime runc (default) uses cgroup driver cgroupfs (/etc/docker/daemon.json:2)",
            "podman: uses cgroup driver cgroupfs (/etc/containers/containers.conf:2)",
        ],
    },
    Step {
        name: "docker and podman systemd",
        files: &[
            (DOCKER, "{\"exec-opts\": [\"native.cgroupdriver=systemd\"]}\n"),
            (PODMAN, "[engine]\ncgroup_manager = \"systemd\"\n"),
        ],
        errors: &[],
        notes: &[
            "docker: runtime runc (default) uses cgroup driver systemd (/etc/docker/daemon.json:1)",
            "podman: uses cgroup driver systemd (/etc/containers/containers.conf:2)",
        ],
    },
];

/// runc on the cgroupfs driver given a kubelet's systemd path makes a directory literally
/// named `slice:prefix:name` in every hierarchy; check reports it while the container runs,
/// after it died (left behind), and no longer once runc's delete removed it.
#[test]
fn check_reports_runc_literal_directory() {
    let _node = node_lock();
    in_sandbox("check::check_reports_runc_literal_directory", || {
        let runc = Runtime::with_binary("/usr/sbin/runc".into());
        let name = format!(
            "kubepods-besteffort-pod{}.slice:cri-containerd:345def",
            unique_name("x").replace('-', "")
        );
        let bundle = Bundle::busybox("literal");
        bundle
            .args(&["sleep", "1000"])
            .edit(|s| s["linux"]["cgroupsPath"] = json!(name));
        let c = Container::create(&runc, &bundle, "literal");
        c.start().success();
        let literal = |report: &Value| -> Option<Value> {
            findings(report, "damage.literal-cgroup")
                .into_iter()
                .find(|f| f["message"].as_str().unwrap().contains(&name))
                .cloned()
        };
        let report = check();
        assert_eq!(report["exitCode"], 1);
        let found = literal(&report).unwrap_or_else(|| panic!("{name} not reported: {report:#}"));
        assert_eq!(found["severity"], "error");
        assert!(
            found["message"]
                .as_str()
                .unwrap()
                .contains("processes still run in it"),
            "{found}"
        );
        let memory = format!("/sys/fs/cgroup/memory/{name}");
        assert!(Path::new(&memory).is_dir(), "runc did not make {memory}");
        assert!(
            found["evidence"]
                .as_array()
                .unwrap()
                .contains(&json!({"kind": "cgroup", "path": memory})),
            "{found}"
        );
        c.kill("KILL").success();
        c.wait_stopped();
        let found = literal(&check()).expect("the directory left behind is reported");
        assert!(
            !found["message"]
                .as_str()
                .unwrap()
                .contains("processes still run"),
            "{found}"
        );
        c.delete().success();
        assert!(
            literal(&check()).is_none(),
            "reported after runc removed it"
        );
    });
}
