//! `shoji check` against fixture nodes (`--root-dir`) and this host, and the cgroup identity
//! `state` reports, compared with what bpf_get_current_cgroup_id() returns in the container.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{json, unique_name, Bundle, CgroupParents, Container, Runtime, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("integration/host/fixtures/check")
        .join(name)
}

/// `shoji check ARGS` (no --root: check reads no container state): exit code and stdout.
fn check(args: &[&str]) -> (i32, String) {
    let rt = Runtime::new();
    let out = Command::new(rt.binary())
        .arg("check")
        .args(args)
        .output()
        .expect("run check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn check_json(root: &Path) -> (i32, Value) {
    let (code, stdout) = check(&["--format", "json", "--root-dir", root.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (code, v)
}

/// (severity, check) of every finding.
fn verdicts(report: &Value) -> Vec<(String, String)> {
    let findings = report["findings"].as_array().expect("findings is an array");
    findings
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["check"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn finding<'a>(report: &'a Value, check: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding in {report:#}"))
}

#[test]
fn check_fixture_nodes() {
    // node, exit code, the warnings, errors and unchecked findings expected (in order).
    type Verdicts = &'static [(&'static str, &'static str)];
    let cases: &[(&str, i32, Verdicts)] = &[
        ("v2-systemd-agree", 0, &[]),
        (
            "v2-containerd-mismatch",
            1,
            &[
                ("error", "driver.mismatch"),
                ("error", "damage.literal-cgroup"),
                ("warning", "damage.empty-pod"),
            ],
        ),
        (
            "hybrid-no-systemd",
            1,
            &[
                ("warning", "layout.mode"),
                ("warning", "layout.psi"),
                ("error", "driver.systemd-without-systemd"),
                ("error", "driver.systemd-without-systemd"),
                ("warning", "damage.empty-pod"),
            ],
        ),
        (
            "unreadable",
            2,
            &[("unchecked", "layout.mode"), ("unchecked", "driver.config")],
        ),
    ];
    for (node, code, want) in cases {
        let (got_code, report) = check_json(&fixture(node));
        assert_eq!(got_code, *code, "{node}: {report:#}");
        assert_eq!(report["exitCode"], *code);
        assert_eq!(report["schemaVersion"], 1);
        let problems: Vec<(String, String)> = verdicts(&report)
            .into_iter()
            .filter(|(s, _)| s != "info")
            .collect();
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(s, c)| (s.to_string(), c.to_string()))
            .collect();
        assert_eq!(problems, want, "{node}: {report:#}");
    }
}

#[test]
fn check_names_the_evidence_and_the_exact_fix() {
    let (_, report) = check_json(&fixture("v2-containerd-mismatch"));
    let mismatch = finding(&report, "driver.mismatch");
    assert_eq!(
        mismatch["evidence"],
        json!([
            {"kind": "file", "path": "/var/lib/kubelet/config.yaml", "line": 2},
            {"kind": "file", "path": "/etc/containerd/config.toml", "line": 7},
        ])
    );
    assert_eq!(
        mismatch["fix"],
        "/etc/containerd/config.toml:7: SystemdCgroup = true"
    );
    let literal = finding(&report, "damage.literal-cgroup");
    let dir = "/sys/fs/cgroup/system.slice/containerd.service/kubepods-besteffort-pod0a1b.slice:cri-containerd:345def";
    assert_eq!(
        literal["evidence"],
        json!([{"kind": "cgroup", "path": dir}])
    );
    let fix = format!("put the OCI runtime that made it on the systemd driver, stop its container, then rmdir {dir}");
    assert_eq!(literal["fix"], fix.as_str());
    let message = literal["message"].as_str().unwrap();
    assert!(
        message.contains("containerd's CRI plugin") && message.contains("processes still run"),
        "{message}"
    );

    let (_, report) = check_json(&fixture("hybrid-no-systemd"));
    let docker = finding(&report, "driver.systemd-without-systemd");
    assert_eq!(
        docker["fix"],
        "/etc/docker/daemon.json:1: \"native.cgroupdriver=cgroupfs\""
    );
    // The kubelet's flag (cgroupfs, in /etc/default/kubelet) wins over its config file's
    // systemd, so it agrees with CRI-O's drop-in: no mismatch.
    let kubelet = finding(&report, "driver.kubelet");
    assert_eq!(
        kubelet["evidence"],
        json!([{"kind": "file", "path": "/etc/default/kubelet", "line": 1}])
    );
}

#[test]
fn check_text_output_is_plain_when_piped() {
    let root = fixture("v2-containerd-mismatch");
    let (code, text) = check(&["--root-dir", root.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        !text.contains('\x1b'),
        "colour codes in piped output:\n{text}"
    );
    let line = text
        .lines()
        .find(|l| l.contains("driver.mismatch"))
        .expect("a driver.mismatch line");
    assert!(line.starts_with("error    driver.mismatch "), "{line}");
    assert!(
        text.contains("fix: /etc/containerd/config.toml:7: SystemdCgroup = true"),
        "{text}"
    );
}

/// This host: hybrid cgroup v1 and a PID 1 that is not systemd, whatever managers are
/// installed; check reads the live root and says so.
#[test]
fn check_this_host() {
    let (code, report) = check_json(Path::new("/"));
    assert_eq!(report["exitCode"], code);
    let mode = finding(&report, "layout.mode");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let hybrid = mounts.contains(" /sys/fs/cgroup/unified ");
    let want = if hybrid { "hybrid" } else { "cgroup v2" };
    assert!(mode["message"].as_str().unwrap().contains(want), "{mode}");
    let pid1 = std::fs::read_to_string("/proc/1/comm").unwrap();
    let pid1_finding = finding(&report, "layout.pid1");
    if pid1.trim() != "systemd" {
        assert!(
            pid1_finding["message"]
                .as_str()
                .unwrap()
                .contains("not systemd"),
            "{pid1_finding}"
        );
    }
    assert!(code == 0 || code == 1, "exit {code}: {report:#}");
}

/// `state` adds cgroupPath and cgroupId after runc's fields; the id is the inode of the
/// container's cgroup2 directory and what bpf_get_current_cgroup_id() returns inside it.
#[test]
fn state_reports_the_cgroup_identity_ebpf_sees() {
    let rt = Runtime::new();
    let path = format!("/shoji-test/{}", unique_name("cgid"));
    let _parents = CgroupParents::absolute(&path);
    let bundle = Bundle::busybox("cgid");
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| s["linux"]["cgroupsPath"] = json!(path));
    let c = Container::create(&rt, &bundle, "cgid");
    c.start().success();
    let raw = rt.cmd(&["state", &c.id]).success().stdout;
    let order: Vec<usize> = ["\"owner\"", "\"cgroupPath\"", "\"cgroupId\""]
        .iter()
        .map(|k| raw.find(k).unwrap_or_else(|| panic!("{k} missing: {raw}")))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "runc's fields must come first: {raw}"
    );
    let state: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(state["cgroupPath"], path.as_str());
    let dir = Path::new("/sys/fs/cgroup/unified").join(path.trim_start_matches('/'));
    let inode = std::fs::metadata(&dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .ino();
    assert_eq!(state["cgroupId"], inode, "{state:#}");

    let probe = Command::new(env!("CARGO_BIN_EXE_shoji-cgroup-id-probe"))
        .arg(&dir)
        .arg(rt.binary())
        .args([
            "--root",
            rt.root().to_str().unwrap(),
            "exec",
            &c.id,
            "cat",
            "/dev/null",
        ])
        .output()
        .expect("run the probe");
    let stderr = String::from_utf8_lossy(&probe.stderr);
    assert!(probe.status.success(), "probe failed: {stderr}");
    let seen: u64 = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .expect("an id");
    assert_eq!(
        state["cgroupId"], seen,
        "bpf_get_current_cgroup_id() in the container"
    );
}

/// check needs no privilege: as `nobody` it reaches the same verdicts as root.
#[test]
fn check_runs_unprivileged() {
    let rt = Runtime::new();
    for root in [fixture("v2-containerd-mismatch"), PathBuf::from("/")] {
        let out = Command::new("setpriv")
            .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(rt.binary())
            .args(["check", "--format", "json", "--root-dir"])
            .arg(&root)
            .output()
            .expect("run setpriv");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let as_nobody: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        let (_, as_root) = check_json(&root);
        // Other tests make and remove pod cgroups on this host meanwhile: damage may differ.
        let settled = |report: &Value| -> Vec<(String, String)> {
            let all = verdicts(report).into_iter();
            all.filter(|(_, c)| root != Path::new("/") || !c.starts_with("damage."))
                .collect()
        };
        assert_eq!(settled(&as_nobody), settled(&as_root), "{root:?}");
        assert_eq!(
            out.status.code().map(i64::from),
            as_nobody["exitCode"].as_i64()
        );
    }
}
