//! Confinement is enforced or refused, never dropped (issue 8, items 3, 4, 5, 8, 11): host-global
//! sysctls, LSM labels shoji does not apply, ids that mean "root",
//! env entries without `=`, masked paths without a mount namespace. Each refusal is one line
//! naming the field, exit 1, before anything exists (no state dir, cgroup, mount or process),
//! and the host is unchanged.
use std::os::unix::fs::MetadataExt;

use crate::support::{
    assert_no_leftovers, create_must_fail, json, run_container, unique_name, Bundle, Container,
    Runtime, Value,
};

/// `create` that must fail cleanly; returns the one error line.
fn refused(rt: &Runtime, bundle: &Bundle, name: &str) -> String {
    let id = unique_name(name);
    let out = create_must_fail(rt, bundle.path_str(), &id).failure();
    let line = out.one_line_error();
    assert_no_leftovers(rt, &id, bundle);
    line
}

fn sleeping(name: &str) -> Bundle {
    let bundle = Bundle::busybox(name);
    bundle.args(&["sleep", "1000"]);
    bundle
}

fn without_namespace(spec: &mut Value, kind: &str) {
    let ns = spec["linux"]["namespaces"].as_array_mut().unwrap();
    ns.retain(|n| n["type"] != kind);
}

const BURST: &str = "/proc/sys/kernel/printk_ratelimit_burst";

#[test]
fn sysctl_host_global_keys_refused() {
    let rt = Runtime::new();
    let bundle = sleeping("sysctl-global");
    let before = std::fs::read_to_string(BURST).unwrap();
    let _restore = RestoreOnDrop(BURST, before.clone());
    for key in [
        "kernel.printk_ratelimit_burst",
        "kernel/printk_ratelimit_burst",
        "kernel.core_pattern",
        "net/../kernel/printk_ratelimit_burst",
        "vm.overcommit_memory",
    ] {
        bundle.edit(|s| s["linux"]["sysctl"] = json!({ key: "77" }));
        let line = refused(&rt, &bundle, "sysctl-global");
        assert!(line.contains(key), "error does not name {key}: {line}");
        assert_eq!(
            std::fs::read_to_string(BURST).unwrap(),
            before,
            "host value changed by {key}"
        );
    }
}

/// Puts a host sysctl back, should a broken runtime have written it.
struct RestoreOnDrop(&'static str, String);

impl Drop for RestoreOnDrop {
    fn drop(&mut self) {
        if std::fs::read_to_string(self.0).ok().as_ref() != Some(&self.1) {
            let _ = std::fs::write(self.0, &self.1);
        }
    }
}

#[test]
fn sysctl_refused_without_its_namespace() {
    let rt = Runtime::new();
    let bundle = sleeping("sysctl-nons");
    for (key, kind, phrase) in [
        ("kernel.msgmax", "ipc", "hosts ipc namespace"),
        ("fs.mqueue.msg_max", "ipc", "hosts ipc namespace"),
        ("net.ipv4.ip_forward", "network", "hosts network namespace"),
        ("kernel.domainname", "uts", "hosts uts namespace"),
    ] {
        bundle.edit(|s| {
            *s = crate::support::spec::default_spec();
            s["process"]["args"] = json!(["sleep", "1000"]);
            s["linux"]["sysctl"] = json!({ key: "1" });
            s["hostname"] = json!("");
            without_namespace(s, kind);
        });
        let line = refused(&rt, &bundle, "sysctl-nons");
        assert!(line.contains(key) && line.contains(phrase), "{key}: {line}");
    }
}

#[test]
fn sysctl_namespaced_keys_are_applied_in_the_container() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("sysctl-ok");
    let host_msgmax = std::fs::read_to_string("/proc/sys/kernel/msgmax").unwrap();
    bundle.edit(|s| {
        s["linux"]["sysctl"] = json!({
            "kernel.msgmax": "4242",
            "kernel/shm_rmid_forced": "1",
            "net.ipv4.ip_forward": "1",
        })
    });
    bundle.args(&[
        "cat",
        "/proc/sys/kernel/msgmax",
        "/proc/sys/kernel/shm_rmid_forced",
        "/proc/sys/net/ipv4/ip_forward",
    ]);
    let out = run_container(&rt, &bundle, "sysctl-ok").success();
    assert_eq!(
        out.stdout.split_whitespace().collect::<Vec<_>>(),
        ["4242", "1", "1"]
    );
    let now = std::fs::read_to_string("/proc/sys/kernel/msgmax").unwrap();
    assert_eq!(now, host_msgmax, "the host's kernel.msgmax changed");
}

#[test]
fn lsm_labels_refused_never_dropped() {
    let rt = Runtime::new();
    let bundle = sleeping("lsm");
    let apparmor_on = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.starts_with('Y'))
        && std::path::Path::new("/sys/kernel/security/apparmor").exists();
    let selinux_on = std::path::Path::new("/sys/fs/selinux/enforce").exists();
    let aa = match apparmor_on {
        true => "does not apply apparmor profiles",
        false => "specified but apparmor is not enabled",
    };
    let se = match selinux_on {
        true => "shoji does not apply selinux labels",
        false => "but selinux is disabled or not supported",
    };
    let label = "system_u:system_r:container_t:s0";
    let cases: [(&str, &str, &str); 3] = [
        ("/process/apparmorProfile", "shoji-test", aa),
        ("/process/selinuxLabel", label, se),
        ("/linux/mountLabel", label, se),
    ];
    for (pointer, value, phrase) in cases {
        bundle.edit(|s| {
            *s = crate::support::spec::default_spec();
            s["process"]["args"] = json!(["sleep", "1000"]);
            let (parent, field) = pointer.rsplit_once('/').unwrap();
            s.pointer_mut(parent).unwrap()[field] = json!(value);
        });
        let line = refused(&rt, &bundle, "lsm");
        assert!(line.contains(phrase), "{pointer}: {line}");
    }
}

#[test]
fn lsm_label_refused_for_exec() {
    let rt = Runtime::new();
    let bundle = sleeping("lsm-exec");
    let c = Container::create(&rt, &bundle, "lsm-exec");
    c.start().success();
    let out = rt
        .cmd(&["exec", "--apparmor", "shoji-test", &c.id, "true"])
        .exec_failure();
    assert!(out.one_line_error().contains("apparmor profile"), "{out}");
}

#[test]
fn ids_above_int32_max_refused() {
    let rt = Runtime::new();
    let bundle = sleeping("bigid");
    for (field, value) in [
        ("uid", json!(4294967295u32)),
        ("gid", json!(4294967295u32)),
        ("uid", json!(2147483648u32)),
        ("additionalGids", json!([10, 4294967295u32])),
    ] {
        bundle.edit(|s| {
            s["process"]["user"] = json!({"uid": 0, "gid": 0});
            s["process"]["user"][field] = value.clone();
        });
        let line = refused(&rt, &bundle, "bigid");
        assert!(
            line.contains(field) && line.contains("0-2147483647"),
            "{field}: {line}"
        );
    }
}

#[test]
fn env_entries_without_equals_refused() {
    let rt = Runtime::new();
    let bundle = sleeping("envnoeq");
    for entry in ["NOEQUALS", "=value"] {
        bundle.edit(|s| s["process"]["env"] = json!(["PATH=/bin", entry]));
        let line = refused(&rt, &bundle, "envnoeq");
        assert!(
            line.contains(entry) && line.contains("missing '='") || entry == "=value",
            "{line}"
        );
    }
}

#[test]
fn restricted_paths_refused_without_mount_namespace() {
    let rt = Runtime::new();
    let bundle = sleeping("nomntns");
    bundle.edit(|s| without_namespace(s, "mount"));
    let line = refused(&rt, &bundle, "nomntns");
    assert!(line.contains("without a private MNT namespace"), "{line}");
}

/// A container without a mount namespace is only chroot'ed into its rootfs: `exec` has no
/// mount namespace to join and must chroot to the init's root itself, never run on the host.
#[test]
fn exec_without_mount_namespace_lands_in_container_root() {
    let rt = Runtime::new();
    let bundle = sleeping("exec-nomnt");
    std::fs::write(bundle.rootfs().join("inside-marker"), "").unwrap();
    bundle.edit(|s| {
        without_namespace(s, "mount");
        s["linux"]["maskedPaths"] = json!([]);
        s["linux"]["readonlyPaths"] = json!([]);
        s["mounts"] = json!([]);
    });
    let c = Container::create(&rt, &bundle, "exec-nomnt");
    c.start().success();
    let out = rt.cmd(&[
        "exec",
        &c.id,
        "sh",
        "-c",
        "ls /inside-marker && cd .. && pwd",
    ]);
    let out = out.success();
    assert_eq!(out.stdout, "/inside-marker\n/\n", "{out}");
    let root = std::fs::metadata(bundle.rootfs()).unwrap();
    let pid = exec_detached_pid(&rt, &c.id, &bundle);
    let seen = std::fs::metadata(format!("/proc/{pid}/root")).unwrap();
    assert_eq!(
        (seen.dev(), seen.ino()),
        (root.dev(), root.ino()),
        "exec'd root"
    );
}

fn exec_detached_pid(rt: &Runtime, id: &str, bundle: &Bundle) -> i32 {
    let pid_file = bundle.path().join("exec.pid");
    let pid_arg = pid_file.to_str().unwrap();
    rt.cmd(&[
        "exec",
        "--detach",
        "--pid-file",
        pid_arg,
        id,
        "sleep",
        "1000",
    ])
    .success();
    std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Errors quote at most a few hundred bytes of a value and stay one line, whatever it holds.
#[test]
fn errors_quote_bounded_values_on_one_line() {
    let rt = Runtime::new();
    let bundle = sleeping("longerr");
    let huge = format!("x\ny{}", "z".repeat(1 << 20));
    let cases: [(&str, Value); 3] = [
        ("cwd", json!({"process": {"cwd": huge.clone()}})),
        ("env", json!({"process": {"env": [huge.clone()]}})),
        ("sysctl", json!({"linux": {"sysctl": {huge.clone(): "1"}}})),
    ];
    for (what, patch) in cases {
        bundle.edit(|s| {
            *s = crate::support::spec::default_spec();
            s["process"]["args"] = json!(["sleep", "1000"]);
            merge(s, &patch);
        });
        let line = refused(&rt, &bundle, "longerr");
        assert!(line.len() < 1024, "{what}: {} bytes", line.len());
        // Escaped once by the error, once more by the text log line.
        assert!(line.contains(r"x\\ny"), "{what}: value not quoted: {line}");
    }
}

fn merge(into: &mut Value, patch: &Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}
