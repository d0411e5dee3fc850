//! The `spec` command's default config.json: the same defaults a runc user gets (a `sh` in a
//! busybox-style rootfs, the default mounts, masked and read-only paths, a small capability
//! set); `--rootless` adds a user namespace mapping the caller to root and drops what needs
//! real root.
use serde_json::{json, Value};

const CAPS: [&str; 3] = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

pub fn default_spec(rootless: bool, uid: u32, gid: u32) -> Value {
    let mut spec = json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": CAPS, "effective": CAPS, "permitted": CAPS, "ambient": CAPS},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "shoji",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                           {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    });
    if rootless {
        make_rootless(&mut spec, uid, gid);
    }
    spec
}

/// A rootless container cannot mount sysfs or a cgroup tree of its own, nor set device rules.
fn make_rootless(spec: &mut Value, uid: u32, gid: u32) {
    let linux = &mut spec["linux"];
    linux["uidMappings"] = json!([{"containerID": 0, "hostID": uid, "size": 1}]);
    linux["gidMappings"] = json!([{"containerID": 0, "hostID": gid, "size": 1}]);
    linux["namespaces"] = json!([{"type": "pid"}, {"type": "ipc"}, {"type": "uts"},
                                 {"type": "mount"}, {"type": "cgroup"}, {"type": "user"}]);
    linux.as_object_mut().unwrap().remove("resources");
    let mounts = spec["mounts"].as_array_mut().unwrap();
    mounts.retain(|m| m["type"] != "cgroup");
    for m in mounts.iter_mut() {
        if m["destination"] == "/sys" {
            *m = json!({"destination": "/sys", "type": "none", "source": "/sys",
                        "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
        }
        if m["destination"] == "/dev/pts" {
            let opts = m["options"].as_array_mut().unwrap();
            opts.retain(|o| o != "gid=5");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_parses_as_a_spec() {
        for rootless in [false, true] {
            let v = default_spec(rootless, 1000, 1000);
            let spec: oci_spec::runtime::Spec = serde_json::from_value(v).unwrap();
            assert_eq!(
                spec.process().as_ref().unwrap().args().as_ref().unwrap()[0],
                "sh"
            );
            let has_user = spec
                .linux()
                .as_ref()
                .unwrap()
                .namespaces()
                .as_ref()
                .unwrap()
                .iter()
                .any(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::User);
            assert_eq!(has_user, rootless);
        }
    }
}
