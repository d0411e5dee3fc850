//! `systemctl daemon-reload` re-applies every unit's properties to its cgroup (package upgrades
//! run one on every node). What shoji wrote to files systemd also owns must survive it: a
//! running container's limits, device rules and cpuset read back unchanged, after create and
//! after update, and the container still gets a pty and still cannot open a denied device.
use std::process::Command;

use crate::driver::{assert_shows, read};
use crate::in_sandbox;
use crate::support::{json, Bundle, Container, Runtime};

const UNIT: &str = "shoji-test-reload.scope";
const CGROUP: &str = "/system.slice/shoji-test-reload.scope";

/// The files a user would check, as "hierarchy/file = content" lines; devices.list sorted (the
/// kernel lists rules in the order they were written, which systemd's order need not match).
fn snapshot() -> Vec<String> {
    let files = [
        ("memory", "memory.limit_in_bytes"),
        ("pids", "pids.max"),
        ("cpu", "cpu.shares"),
        ("cpu", "cpu.cfs_quota_us"),
        ("cpu", "cpu.cfs_period_us"),
        ("cpuset", "cpuset.cpus"),
        ("cpuset", "cpuset.mems"),
        ("devices", "devices.list"),
    ];
    files
        .iter()
        .map(|(h, f)| {
            let text = read(&format!("/sys/fs/cgroup/{h}{CGROUP}/{f}"));
            let mut lines: Vec<&str> = text.lines().collect();
            lines.sort();
            format!("{h}/{f} = {}", lines.join(" | "))
        })
        .collect()
}

fn daemon_reload() {
    let status = Command::new("systemctl")
        .arg("daemon-reload")
        .status()
        .expect("systemctl daemon-reload");
    assert!(status.success(), "systemctl daemon-reload: {status}");
    // A round trip through the manager after the reload, so whatever it re-applies is done.
    assert_shows(UNIT, &["ActiveState=active"]);
}

/// What the container can do with its devices, checked as a user would: /dev/ptmx opens,
/// `exec -t` gets a pty (script(1) plays the terminal), the denied /dev/kmsg stays denied.
fn assert_devices_work(rt: &Runtime, id: &str) {
    let probe = "exec 3<>/dev/ptmx && echo ptmx-ok; head -c 4 /dev/zero | wc -c; \
                 echo x > /dev/null && echo null-ok; echo x > /dev/kmsg || echo kmsg-denied";
    let out = rt.cmd(&["exec", id, "sh", "-c", probe]).success();
    for want in ["ptmx-ok", "4", "null-ok", "kmsg-denied"] {
        assert!(out.stdout.lines().any(|l| l == want), "{want}:\n{out}");
    }
    assert!(out.stderr.contains("Operation not permitted"), "{out}");
    let cmdline = format!(
        "{} --root {} exec -t {id} tty",
        rt.binary().display(),
        rt.root().display()
    );
    let tty = Command::new("script")
        .args(["-qec", &cmdline, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script(1) from util-linux runs");
    let text = String::from_utf8_lossy(&tty.stdout);
    assert!(
        tty.status.success() && text.contains("/dev/pts/"),
        "exec -t got no pty ({}): {text:?}",
        tty.status
    );
}

#[test]
fn daemon_reload_keeps_limits_devices_and_cpuset() {
    in_sandbox(
        "reload::daemon_reload_keeps_limits_devices_and_cpuset",
        || {
            let rt = Runtime::new();
            let b = Bundle::busybox("reload");
            b.args(&["sleep", "1000"]).edit(|s| {
                s["linux"]["cgroupsPath"] = json!("system.slice:shoji-test:reload");
                // containerd's shape: deny everything, the runtime adds the default devices.
                let kmsg = json!({"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11,
                              "fileMode": 438, "uid": 0, "gid": 0});
                s["linux"]["devices"] = json!([kmsg]);
                let r = &mut s["linux"]["resources"];
                r["devices"] = json!([{"allow": false, "access": "rwm"}]);
                r["memory"] = json!({"limit": 104857600});
                r["pids"] = json!({"limit": 50});
                r["cpu"] = json!({"shares": 512, "quota": 12345, "period": 100000,
                              "cpus": "0", "mems": "0"});
            });
            let c = Container::create_with(&rt, &b, "reload", &["--systemd-cgroup"]);
            c.start().success();
            let created = snapshot();
            assert!(created.contains(&"cpu/cpu.cfs_quota_us = 13000".to_string()));
            assert!(created.contains(&"cpuset/cpuset.cpus = 0".to_string()));
            daemon_reload();
            assert_eq!(snapshot(), created, "after daemon-reload");
            assert_devices_work(&rt, &c.id);

            // A period alone keeps the quota: 13000 µs per 50 ms is 260 ms per second.
            rt.cmd(&[
                "update",
                "--memory",
                "209715200",
                "--pids-limit",
                "40",
                "--cpu-period",
                "50000",
                "--cpuset-cpus",
                "1",
                &c.id,
            ])
            .success();
            let updated = snapshot();
            for want in [
                "memory/memory.limit_in_bytes = 209715200",
                "pids/pids.max = 40",
                "cpu/cpu.cfs_quota_us = 13000",
                "cpu/cpu.cfs_period_us = 50000",
                "cpuset/cpuset.cpus = 1",
            ] {
                assert!(updated.contains(&want.to_string()), "{want}: {updated:#?}");
            }
            assert_shows(
                UNIT,
                &[
                    "MemoryLimit=209715200",
                    "TasksMax=40",
                    "CPUQuotaPerSecUSec=260ms",
                    "CPUQuotaPeriodUSec=50ms",
                    "AllowedCPUs=1",
                    "DevicePolicy=strict",
                ],
            );
            daemon_reload();
            assert_eq!(snapshot(), updated, "after update and daemon-reload");
            assert_devices_work(&rt, &c.id);
        },
    );
}
