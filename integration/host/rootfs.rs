//! The container's filesystem as seen from inside: mountinfo, hostname, read-only root,
//! masked and read-only paths, device nodes, sysctls.

use crate::support::procfs::{parse_mountinfo, MountInfo};
use crate::support::{json, run_container, sh, Bundle, Runtime};

fn mounts_inside(rt: &Runtime, bundle: &Bundle) -> Vec<MountInfo> {
    parse_mountinfo(&sh(rt, bundle, "cat /proc/self/mountinfo"))
}

fn mount_at<'a>(mounts: &'a [MountInfo], point: &str) -> &'a MountInfo {
    mounts
        .iter()
        .rev() // the last mount on a point is the visible one
        .find(|m| m.mount_point.to_str() == Some(point))
        .unwrap_or_else(|| panic!("nothing mounted at {point}: {mounts:#?}"))
}

fn has_option(m: &MountInfo, option: &str) -> bool {
    m.options.split(',').any(|o| o == option) || m.super_options.split(',').any(|o| o == option)
}

#[test]
fn default_mounts_are_visible_inside() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("mounts");
    let mounts = mounts_inside(&rt, &bundle);
    for (point, fstype) in [
        ("/proc", "proc"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
        ("/sys", "sysfs"),
    ] {
        assert_eq!(mount_at(&mounts, point).fstype, fstype, "{point}");
    }
    assert!(
        has_option(mount_at(&mounts, "/sys"), "ro"),
        "/sys should be read-only"
    );
    assert!(has_option(mount_at(&mounts, "/dev/shm"), "nodev"));
    let root = mount_at(&mounts, "/");
    assert!(has_option(root, "ro"), "root should be read-only: {root:?}");
    // Nothing of the host's tree is visible: no mount point outside what the spec asked for.
    assert!(
        !mounts.iter().any(|m| m.mount_point.starts_with("/work")),
        "{mounts:#?}"
    );
}

#[test]
fn cgroup_mount_shows_hierarchies() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("cgmount");
    let mounts = mounts_inside(&rt, &bundle);
    let cgroups: Vec<&MountInfo> = mounts
        .iter()
        .filter(|m| m.mount_point.starts_with("/sys/fs/cgroup") && m.fstype.starts_with("cgroup"))
        .collect();
    assert!(
        !cgroups.is_empty(),
        "no cgroup hierarchy under /sys/fs/cgroup: {mounts:#?}"
    );
    assert!(
        cgroups.iter().all(|m| has_option(m, "ro")),
        "cgroup mounts must be ro: {cgroups:#?}"
    );
}

#[test]
fn bind_and_tmpfs_mounts_from_config() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("binds");
    let data = bundle.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("hello.txt"), "from the host\n").unwrap();
    bundle.edit(|s| {
        let mounts = s["mounts"].as_array_mut().unwrap();
        mounts.push(json!({ "destination": "/data", "type": "bind", "source": data, "options": ["rbind", "ro"] }));
        mounts.push(json!({ "destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777"] }));
    });
    let out = sh(&rt, &bundle, "cat /data/hello.txt; echo x > /scratch/f && cat /scratch/f; echo y > /data/f || echo ro-ok");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["from the host", "x", "ro-ok"]
    );
    let mounts = mounts_inside(&rt, &bundle);
    assert!(has_option(mount_at(&mounts, "/data"), "ro"));
    assert_eq!(mount_at(&mounts, "/scratch").fstype, "tmpfs");
    assert!(!data.join("f").exists());
}

#[test]
fn hostname_and_domainname() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("hostname");
    bundle.edit(|s| {
        s["hostname"] = json!("shoji-box");
        s["domainname"] = json!("shoji.test");
    });
    let out = sh(&rt, &bundle, "hostname; cat /proc/sys/kernel/domainname");
    assert_eq!(out.lines().collect::<Vec<_>>(), ["shoji-box", "shoji.test"]);
}

#[test]
fn readonly_root_refuses_writes() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ro-root");
    bundle.args(&["touch", "/newfile"]);
    let out = run_container(&rt, &bundle, "ro-root");
    assert_ne!(
        out.code,
        Some(0),
        "write to a read-only root succeeded:\n{out}"
    );
    assert!(!bundle.rootfs().join("newfile").exists());

    bundle.edit(|s| s["root"]["readonly"] = json!(false));
    run_container(&rt, &bundle, "rw-root").success();
    assert!(bundle.rootfs().join("newfile").exists());
}

#[test]
fn masked_paths_are_empty() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("masked");
    bundle.edit(|s| {
        s["linux"]["maskedPaths"] = json!([
            "/proc/timer_list",
            "/proc/keys",
            "/masked-dir",
            "/etc/group",
            "/no/such/path"
        ])
    });
    let dir = bundle.rootfs().join("masked-dir");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("secret"), "hidden").unwrap();
    let out = sh(
        &rt,
        &bundle,
        "wc -c < /proc/timer_list; wc -c < /proc/keys; ls -A /masked-dir | wc -l; wc -c < /etc/group",
    );
    let counts: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(counts, ["0", "0", "0", "0"], "{out}");
}

#[test]
fn readonly_paths_refuse_writes() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ro-paths");
    bundle.edit(|s| {
        s["root"]["readonly"] = json!(false);
        s["linux"]["readonlyPaths"] = json!(["/proc/sys", "/tmp"]);
    });
    let out = sh(
        &rt,
        &bundle,
        "echo x > /proc/sys/kernel/hostname 2>/dev/null || echo sys-ro; touch /tmp/f 2>/dev/null || echo tmp-ro; touch /etc/f && echo etc-rw",
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["sys-ro", "tmp-ro", "etc-rw"]
    );
}

#[test]
fn linux_devices_are_created() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("devices");
    bundle.edit(|s| {
        s["linux"]["devices"] = json!([
            { "path": "/dev/shoji-null", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0 },
            { "path": "/dev/sub/shoji-zero", "type": "c", "major": 1, "minor": 5, "fileMode": 432, "uid": 0, "gid": 0 }
        ]);
        s["linux"]["resources"]["devices"] = json!([
            { "allow": false, "access": "rwm" },
            { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" },
            { "allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm" }
        ]);
    });
    let out = sh(&rt, &bundle, "stat -c '%F %t:%T %a' /dev/shoji-null /dev/sub/shoji-zero; head -c 4 /dev/sub/shoji-zero | wc -c");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "character special file 1:3 666",
            "character special file 1:5 660",
            "4"
        ]
    );
}

#[test]
fn default_devices_and_links() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("default-dev");
    let out = sh(
        &rt,
        &bundle,
        "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T' /dev/$d; done; \
         for l in ptmx fd stdin stdout stderr; do echo /dev/$l $(readlink /dev/$l); done; \
         echo ok > /dev/null && echo null-writable",
    );
    let want = [
        "/dev/null character special file 1:3",
        "/dev/zero character special file 1:5",
        "/dev/full character special file 1:7",
        "/dev/random character special file 1:8",
        "/dev/urandom character special file 1:9",
        "/dev/tty character special file 5:0",
        "/dev/ptmx pts/ptmx",
        "/dev/fd /proc/self/fd",
        "/dev/stdin /proc/self/fd/0",
        "/dev/stdout /proc/self/fd/1",
        "/dev/stderr /proc/self/fd/2",
        "null-writable",
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
}

#[test]
fn device_cgroup_denies_unlisted_devices() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("devdeny");
    bundle.edit(|s| {
        s["root"]["readonly"] = json!(false);
        s["process"]["capabilities"]["bounding"] = json!(["CAP_MKNOD"]);
        s["process"]["capabilities"]["effective"] = json!(["CAP_MKNOD"]);
        s["process"]["capabilities"]["permitted"] = json!(["CAP_MKNOD"]);
    });
    // /dev/mem (1:1) is not in the default allow list: mknod may work, opening must not.
    let out = sh(&rt, &bundle, "mknod /dev/shoji-mem c 1 1; head -c 1 /dev/shoji-mem >/dev/null 2>&1 && echo opened || echo denied");
    assert_eq!(out.trim(), "denied");
}

#[test]
fn sysctl_is_applied() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("sysctl");
    bundle.edit(|s| {
        s["linux"]["sysctl"] = json!({ "kernel.shmmax": "12345678", "net.ipv4.ip_forward": "1" })
    });
    let out = sh(
        &rt,
        &bundle,
        "cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward",
    );
    assert_eq!(out.lines().collect::<Vec<_>>(), ["12345678", "1"]);
}

#[test]
fn no_pivot_still_confines_the_root() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("nopivot");
    bundle.args(&[
        "sh",
        "-c",
        "ls /; test -e /work && echo host-visible || echo confined",
    ]);
    let id = crate::support::unique_name("nopivot");
    let out = rt
        .cmd(&["run", "--no-pivot", "--bundle", bundle.path_str(), &id])
        .success();
    assert_eq!(out.stdout.lines().last(), Some("confined"), "{out}");
}
