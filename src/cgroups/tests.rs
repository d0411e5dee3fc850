//! `plan`'s pure half: where each hierarchy's directory goes for each kind of cgroupsPath.
use std::path::Path;

use super::mode::parse_mountinfo;
use super::path::parse_proc_cgroup;
use super::*;

const HYBRID: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";
const OWN: &str = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n";

fn locate(cgroups_path: Option<&str>) -> Result<CgroupLocation> {
    let mounts = parse_mountinfo(HYBRID).unwrap();
    cgroupfs_location(cgroups_path, "c1", &mounts, &parse_proc_cgroup(OWN))
}

#[test]
fn kubelet_cgroupfs_path_is_the_same_everywhere() {
    let loc = locate(Some("/kubepods/besteffort/pod012abc/345def")).unwrap();
    assert_eq!(loc.driver, DriverKind::Cgroupfs);
    assert_eq!(loc.mode, CgroupMode::Hybrid);
    assert_eq!(loc.path, Path::new("/kubepods/besteffort/pod012abc/345def"));
    assert!(loc.hierarchy_paths.is_empty());
}

#[test]
fn kubelet_burstable_path_is_cleaned() {
    let loc = locate(Some("/kubepods/burstable/pod9f1e/../pod9f1e/./c2/")).unwrap();
    assert_eq!(loc.path, Path::new("/kubepods/burstable/pod9f1e/c2"));
}

#[test]
fn relative_and_empty_paths_differ_only_where_the_own_cgroup_does() {
    for (input, leaf) in [
        (Some("shoji/c1"), "shoji/c1"),
        (None, "c1"),
        (Some(""), "c1"),
    ] {
        let loc = locate(input).unwrap();
        assert_eq!(loc.path, Path::new("/").join(leaf), "{input:?}");
        let memory = Path::new("/process_api/abc").join(leaf);
        assert_eq!(loc.hierarchy_paths.len(), 1, "{input:?}");
        assert_eq!(loc.hierarchy_paths["memory"], memory, "{input:?}");
    }
}

#[test]
fn systemd_format_is_placed_where_systemd_would_in_every_hierarchy() {
    let loc = locate(Some(
        "kubepods-besteffort-pod012abc.slice:cri-containerd:345def",
    ))
    .unwrap();
    let want = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod012abc.slice/cri-containerd-345def.scope";
    assert_eq!(loc.path, Path::new(want));
    assert_eq!(loc.driver, DriverKind::Cgroupfs);
    assert!(loc.hierarchy_paths.is_empty(), "{loc:?}");
}

#[test]
fn location_round_trips_through_json_and_omits_empty_overrides() {
    let loc = locate(Some("/a/b")).unwrap();
    let json = serde_json::to_string(&loc).unwrap();
    assert_eq!(
        json,
        r#"{"driver":"cgroupfs","mode":"hybrid","path":"/a/b","unit":null,"slice":null}"#
    );
    let back: CgroupLocation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, loc);
    let rel = locate(Some("x")).unwrap();
    let back: CgroupLocation = serde_json::from_str(&serde_json::to_string(&rel).unwrap()).unwrap();
    assert_eq!(back, rel);
}

#[test]
fn directories_follow_the_location() {
    let mounts = parse_mountinfo(HYBRID).unwrap();
    let loc = locate(Some("x")).unwrap();
    let dirs = dirs::ContainerDirs::new(&loc, &mounts);
    assert_eq!(
        dirs.of("memory").unwrap(),
        Path::new("/sys/fs/cgroup/memory/process_api/abc/x")
    );
    assert_eq!(dirs.of("cpu").unwrap(), Path::new("/sys/fs/cgroup/cpu/x"));
    assert_eq!(
        dirs.unified.as_deref().unwrap(),
        Path::new("/sys/fs/cgroup/unified/x")
    );
    assert!(dirs.of("hugetlb").is_none());
    assert_eq!(
        dirs.procs_dir().unwrap(),
        Path::new("/sys/fs/cgroup/memory/process_api/abc/x")
    );
}
