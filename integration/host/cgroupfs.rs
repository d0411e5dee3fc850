//! The cgroupfs driver on this host: where absolute, relative and empty cgroupsPaths land,
//! the resource files written there, systemd-format paths placed where systemd would put them,
//! removal on delete.

use std::path::PathBuf;

use crate::support::procfs::{
    a_block_device, cgroup_of, controller_dir, find_cgroup_dirs_named, offered, read,
};
use crate::support::{
    assert_no_leftovers, create_must_fail, json, unique_name, Bundle, CgroupParents, Container,
    Runtime,
};

const CONTROLLERS: [&str; 5] = ["memory", "cpu", "cpuset", "pids", "devices"];

fn bundle_with_path(name: &str, cgroups_path: &str) -> Bundle {
    let bundle = Bundle::busybox(name);
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| s["linux"]["cgroupsPath"] = json!(cgroups_path));
    bundle
}

fn in_procs(ctrl: &str, path: &str, pid: i32) -> bool {
    let procs = read(controller_dir(ctrl, path).join("cgroup.procs"));
    procs.lines().any(|l| l == pid.to_string())
}

#[test]
fn absolute_path_with_resources() {
    let rt = Runtime::new();
    let path = format!("/kubepods/besteffort/pod012abc-{}/345def", unique_name("p"));
    let _parents = CgroupParents::absolute(&path);
    let bundle = bundle_with_path("cg-abs", &path);
    bundle.edit(|s| {
        s["linux"]["resources"]["memory"] = json!({ "limit": 67108864 });
        s["linux"]["resources"]["cpu"] =
            json!({ "shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0" });
        s["linux"]["resources"]["pids"] = json!({ "limit": 42 });
    });
    let c = Container::create(&rt, &bundle, "cg-abs");
    for ctrl in CONTROLLERS {
        assert_eq!(
            cgroup_of(c.pid, ctrl).as_deref(),
            Some(path.as_str()),
            "{ctrl}"
        );
        assert!(
            in_procs(ctrl, &path, c.pid),
            "init not in {ctrl} cgroup.procs"
        );
    }
    let file = |ctrl, name| crate::support::procfs::cgroup_file(ctrl, &path, name);
    assert_eq!(file("memory", "memory.limit_in_bytes"), "67108864");
    assert_eq!(file("cpu", "cpu.shares"), "512");
    assert_eq!(file("cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(file("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(file("pids", "pids.max"), "42");
    assert_eq!(file("cpuset", "cpuset.cpus"), "0");
    assert_eq!(file("cpuset", "cpuset.mems"), "0");
    let dirs = c.cgroup_dirs().to_vec();
    assert!(dirs.iter().any(|d| d.ends_with("345def")), "{dirs:?}");
    // The guard's delete checks every one of these directories is gone.
}

#[test]
fn relative_path_lands_under_own_cgroup() {
    let rt = Runtime::new();
    let rel = unique_name("shoji-rel");
    let _parents = CgroupParents::relative(&format!("{rel}/inner"));
    let bundle = bundle_with_path("cg-rel", &format!("{rel}/inner"));
    let c = Container::create(&rt, &bundle, "cg-rel");
    let me = std::process::id() as i32;
    for ctrl in ["memory", "pids", "cpu"] {
        let own = cgroup_of(me, ctrl).expect("own cgroup");
        let want = format!("{}/{rel}/inner", own.trim_end_matches('/'));
        assert_eq!(
            cgroup_of(c.pid, ctrl).as_deref(),
            Some(want.as_str()),
            "{ctrl}"
        );
        assert!(controller_dir(ctrl, &want).is_dir());
    }
}

#[test]
fn empty_path_is_derived_from_id() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("cg-empty");
    bundle.args(&["sleep", "1000"]);
    let c = Container::create(&rt, &bundle, "cg-empty");
    for ctrl in ["memory", "pids", "cpu", "devices"] {
        let path = cgroup_of(c.pid, ctrl).expect("cgroup");
        assert!(
            path.ends_with(&format!("/{}", c.id)),
            "{ctrl} cgroup {path:?} not named for the id"
        );
        assert!(controller_dir(ctrl, &path).is_dir());
    }
}

/// containerd's CRI sends a `slice:prefix:name` cgroupsPath whenever the pod's parent is a
/// slice, even with SystemdCgroup off: it lands where systemd would put it (slices expanded),
/// with one warning naming the fix; never in a directory named after the string.
#[test]
fn systemd_path_without_flag_lands_where_systemd_would() {
    let rt = Runtime::new();
    let pod = unique_name("shoji_pod").replace('-', "_");
    let name = unique_name("c");
    let path = format!("shoji_test-{pod}.slice:cri-containerd:{name}");
    let leaf = format!("/shoji_test.slice/shoji_test-{pod}.slice/cri-containerd-{name}.scope");
    let _parents = CgroupParents::absolute(&leaf);
    let bundle = bundle_with_path("cg-sdpath", &path);
    let id = unique_name("cg-sdpath");
    let out = rt.cmd(&["create", "--bundle", bundle.path_str(), &id]);
    let c = (out.code == Some(0)).then(|| Container::adopt(&rt, &id));
    let line = out.success().one_line_error();
    for want in [
        "level=warning",
        &path,
        &leaf,
        "--systemd-cgroup",
        "SystemdCgroup",
    ] {
        assert!(line.contains(want), "{want:?} not in {line}");
    }
    let c = c.expect("created");
    for ctrl in CONTROLLERS {
        assert_eq!(
            cgroup_of(c.pid, ctrl).as_deref(),
            Some(leaf.as_str()),
            "{ctrl}"
        );
        assert!(
            in_procs(ctrl, &leaf, c.pid),
            "init not in {ctrl} cgroup.procs"
        );
    }
    assert_eq!(find_cgroup_dirs_named(&path), Vec::<PathBuf>::new());
    // The guard's delete checks the leaf is gone in every hierarchy.
}

#[test]
fn dot_dot_in_path_stays_inside_hierarchy() {
    let rt = Runtime::new();
    let name = unique_name("shoji-dots");
    let bundle = bundle_with_path("cg-dots", &format!("/../../{name}"));
    let c = Container::create(&rt, &bundle, "cg-dots");
    assert_eq!(cgroup_of(c.pid, "memory"), Some(format!("/{name}")));
    assert!(controller_dir("memory", &format!("/{name}")).is_dir());
}

#[test]
fn memory_blkio_and_device_resources() {
    let rt = Runtime::new();
    let path = format!("/{}", unique_name("shoji-res"));
    let bundle = bundle_with_path("cg-res", &path);
    let dev = a_block_device();
    // Swap accounting is a boot option; the root cgroup shows whether this kernel has it.
    let swap_file = "memory.memsw.limit_in_bytes";
    let swap_accounting = offered(&controller_dir("memory", "/"), &[swap_file]).is_some();
    let (major, minor): (u32, u32) = match dev.split_once(':') {
        Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
        None => panic!("bad device number {dev:?}"),
    };
    bundle.edit(|s| {
        let r = &mut s["linux"]["resources"];
        r["memory"] = json!({ "limit": 67108864, "reservation": 33554432, "swappiness": 10 });
        if swap_accounting {
            r["memory"]["swap"] = json!(134217728);
        }
        r["blockIO"] = json!({ "throttleReadBpsDevice": [{ "major": major, "minor": minor, "rate": 1048576 }] });
        r["devices"] = json!([
            { "allow": false, "access": "rwm" },
            { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" }
        ]);
    });
    let _c = Container::create(&rt, &bundle, "cg-res");
    let file = |ctrl, name| crate::support::procfs::cgroup_file(ctrl, &path, name);
    assert_eq!(file("memory", "memory.limit_in_bytes"), "67108864");
    assert_eq!(file("memory", "memory.soft_limit_in_bytes"), "33554432");
    assert_eq!(file("memory", "memory.swappiness"), "10");
    if swap_accounting {
        assert_eq!(file("memory", swap_file), "134217728");
    }
    assert_eq!(
        file("blkio", "blkio.throttle.read_bps_device"),
        format!("{dev} 1048576")
    );
    let devices = file("devices", "devices.list");
    assert!(
        devices.lines().any(|l| l == "c 1:3 rwm"),
        "devices.list:\n{devices}"
    );
    assert!(
        !devices.lines().any(|l| l == "a *:* rwm"),
        "everything allowed:\n{devices}"
    );
}

#[test]
fn swap_below_memory_limit_is_rejected() {
    let rt = Runtime::new();
    let path = format!("/{}", unique_name("shoji-tiny"));
    let bundle = bundle_with_path("cg-tiny", &path);
    // Swap below the memory limit is an invalid pair: memory+swap must cover memory.
    bundle.edit(|s| {
        s["linux"]["resources"]["memory"] = json!({ "limit": 67108864, "swap": 33554432 })
    });
    let id = unique_name("cg-tiny");
    create_must_fail(&rt, bundle.path_str(), &id).failure();
    assert_no_leftovers(&rt, &id, &bundle);
    let leaf = PathBuf::from(path.trim_start_matches('/'));
    let left = find_cgroup_dirs_named(leaf.to_str().unwrap());
    assert!(left.is_empty(), "cgroup left behind: {left:?}");
}

/// Access strings reach the kernel as runc writes them: only r, w and m, once each, in that
/// order (`rwa` is `rw`); repeats are written once. The kernel refuses the raw string.
#[test]
fn device_access_is_normalised_as_runc_does() {
    let rt = Runtime::new();
    let path = format!("/{}", unique_name("shoji-devacc"));
    let bundle = bundle_with_path("cg-devacc", &path);
    bundle.edit(|s| {
        s["linux"]["resources"]["devices"] = json!([
            { "allow": false, "access": "rwm" },
            { "allow": true, "type": "c", "major": 1, "minor": 11, "access": "rwa" },
            { "allow": true, "type": "c", "major": 1, "minor": 11, "access": "wr" },
            { "allow": false, "type": "c", "major": 1, "minor": 3, "access": "wa" }
        ]);
    });
    let _c = Container::create(&rt, &bundle, "cg-devacc");
    let list = crate::support::procfs::cgroup_file("devices", &path, "devices.list");
    assert!(
        list.lines().any(|l| l == "c 1:11 rw"),
        "devices.list:\n{list}"
    );
}
