//! Real rootfs builds (needs root, as the test suite does on this machine).
//!
//! Each test builds a busybox-static bundle and re-executes the test binary with the scenario
//! in its environment. There `scenario_hook` runs before the harness's main, while the process
//! is still single-threaded (forking a multi-threaded test harness can deadlock the child on a
//! lock another test thread held): it unshares new namespaces (mount + pid + ipc, plus user or
//! cgroup per scenario) and forks, so the grandchild is pid 1 there, as a container init is.
//! The grandchild runs prepare → enter → finalize on a real spec, checks from inside what a
//! user would (mountinfo, device nodes, EROFS, busybox itself) and reports on stderr and in
//! its exit code. The test then checks the host's mount table is unchanged and the bundle (a
//! TempDir) is gone.
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sched::{unshare, CloneFlags};
use nix::sys::stat::{major, minor};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, getpid, setresgid, setresuid, ForkResult, Gid, Uid};
use oci_spec::runtime::Spec;

use super::{enter, finalize, prepare, RootfsConfig};

type Check = Result<(), String>;

#[derive(Default)]
struct Scenario {
    no_pivot: bool,
    user_ns: bool,
    cgroup_ns: bool,
    /// Instead of building a rootfs, feed prepare bad specs and check the errors.
    bad_input: bool,
}

const SCENARIO_ENV: &str = "SHOJI_ROOTFS_SCENARIO";
const BUNDLE_ENV: &str = "SHOJI_ROOTFS_BUNDLE";
/// Where the rootfs's hostile symlink points; must never appear on the host.
const ESCAPE: &str = "/etc/shoji-rootfs-escape-test";

fn scenario(name: &str) -> Option<Scenario> {
    match name {
        "pivot" => Some(Scenario {
            ..Default::default()
        }),
        "no-pivot" => Some(Scenario {
            no_pivot: true,
            cgroup_ns: true,
            ..Default::default()
        }),
        "userns" => Some(Scenario {
            user_ns: true,
            ..Default::default()
        }),
        "bad-input" => Some(Scenario {
            bad_input: true,
            ..Default::default()
        }),
        _ => None,
    }
}

struct Bundle {
    dir: tempfile::TempDir,
}

impl Bundle {
    fn rootfs(&self) -> PathBuf {
        self.dir.path().join("rootfs")
    }
}

/// A busybox-static rootfs with every applet linked in /bin, a data dir and a file to bind,
/// a /tmp with a file for tmpcopyup, and a hostile absolute symlink.
fn busybox_bundle() -> Bundle {
    let dir = tempfile::tempdir().expect("tempdir");
    let rootfs = dir.path().join("rootfs");
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp"] {
        fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    fs::copy("/bin/busybox", rootfs.join("bin/busybox"))
        .expect("busybox-static must be installed at /bin/busybox");
    let list = Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|a| *a != "busybox")
    {
        symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n").unwrap();
    fs::write(rootfs.join("tmp/seed"), "seeded\n").unwrap();
    fs::create_dir(rootfs.join("tmp/sub")).unwrap();
    symlink("../seed", rootfs.join("tmp/sub/link")).unwrap();
    fs::set_permissions(rootfs.join("tmp/sub"), fs::Permissions::from_mode(0o711)).unwrap();
    fs::create_dir_all(dir.path().join("data")).unwrap();
    fs::write(dir.path().join("data/hello"), "hello from the host\n").unwrap();
    fs::write(dir.path().join("file"), "bound file\n").unwrap();
    // A dangling link as images ship it: a file bind onto it creates its target.
    symlink("../var/resolv.conf", rootfs.join("etc/resolv.conf")).unwrap();
    // Aims at the host's /etc: it must resolve inside the rootfs.
    symlink(format!("/../../../..{ESCAPE}"), rootfs.join("evil")).unwrap();
    Bundle { dir }
}

fn spec_json(bundle: &Path, s: &Scenario) -> Spec {
    let bundle = bundle.display();
    let devices = if s.user_ns {
        "[]"
    } else {
        r#"[{"path":"/dev/custom","type":"c","major":1,"minor":5,"fileMode":384,"uid":1,"gid":2},
            {"path":"/dev/fifo","type":"p","major":8,"minor":666,"fileMode":432}]"#
    };
    let propagation = if s.no_pivot { "shared" } else { "rslave" };
    let json = format!(
        r#"{{"ociVersion":"1.0.2","root":{{"path":"rootfs","readonly":{ro}}},
        "mounts":[
          {{"destination":"/proc","type":"proc","source":"proc"}},
          {{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}},
          {{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]}},
          {{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]}},
          {{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]}},
          {{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}},
          {{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}},
          {{"destination":"/data","type":"bind","source":"{bundle}/data","options":["rbind","ro","nosuid"]}},
          {{"destination":"/etc/bound-file","type":"none","source":"{bundle}/file","options":["bind"]}},
          {{"destination":"/evil/x","type":"tmpfs","source":"tmpfs","options":["ro"]}},
          {{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","nodev"]}},
          {{"destination":"/run/fresh","type":"tmpfs","source":"tmpfs"}},
          {{"destination":"/cgroup2","type":"cgroup2","source":"cgroup2","options":["ro","nosuid"]}},
          {{"destination":"/mnt/etc-rshared","source":"/etc","options":["nosuid",{atime}"mode=755","size=1k","rbind","rshared"]}},
          {{"destination":"/mnt/etc-unbindable","source":"/etc","options":["bind","unbindable"]}},
          {{"destination":"/etc/resolv.conf","type":"bind","source":"{bundle}/file","options":["rbind","ro"]}}
        ],
        "linux":{{"devices":{devices},"rootfsPropagation":"{propagation}",
          "maskedPaths":["/proc/timer_list","/proc/acpi","/proc/does-not-exist"],
          "readonlyPaths":["/proc/sys","/proc/sysrq-trigger"]}}}}"#,
        ro = !s.no_pivot,
        // A user namespace may not change the atime mode locked on the host's mount.
        atime = if s.user_ns { "" } else { r#""strictatime","# },
    );
    serde_json::from_str(&json).expect("test spec parses")
}

fn run_scenario(name: &str) {
    let bundle = busybox_bundle();
    if scenario(name).is_some_and(|s| s.user_ns) {
        hand_to_userns(bundle.dir.path());
    }
    let host_before = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .env(SCENARIO_ENV, name)
        .env(BUNDLE_ENV, bundle.dir.path())
        .output()
        .expect("re-execute the test binary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scenario {name} failed ({}):\n{stderr}",
        out.status
    );
    let host_after = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert_eq!(host_before, host_after, "the host's mount table changed");
    assert!(
        !Path::new(ESCAPE).exists(),
        "a mount destination escaped the rootfs"
    );
    let rootfs = bundle.rootfs();
    drop(bundle);
    assert!(!rootfs.exists(), "bundle not removed");
}

/// Runs before main in every run of this test binary; acts only in a re-executed scenario.
#[used]
#[link_section = ".init_array"]
static SCENARIO_HOOK: extern "C" fn() = scenario_hook;

extern "C" fn scenario_hook() {
    let Some(name) = std::env::var_os(SCENARIO_ENV) else {
        return;
    };
    let bundle = PathBuf::from(std::env::var_os(BUNDLE_ENV).unwrap_or_default());
    let result = match scenario(&name.to_string_lossy()) {
        Some(s) => child(&s, &bundle),
        None => Err(format!("unknown scenario {name:?}")),
    };
    let code = match result {
        Ok(()) => 0,
        Err(msg) => {
            eprintln!("{msg}");
            1
        }
    };
    // SAFETY: the process exists only for this scenario; nothing else must run in it.
    unsafe { libc::_exit(code) }
}

fn own_cgroup(controller: &str) -> String {
    let text = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let line = text
        .lines()
        .find(|l| l.split(':').nth(1) == Some(controller))
        .unwrap_or_default();
    line.splitn(3, ':').nth(2).unwrap_or_default().to_string()
}

/// Host ids of the user namespace scenario: container 0..65536 is host 100000..165536, so
/// the host's root is unmapped inside, as with runtime-tools' maps or a rootless setup.
const USERNS_HOST_ID: u32 = 100_000;

/// Unshare a user namespace whose maps a helper left in the parent namespace writes (only a
/// process there may map ids other than its own), then become its root as runc's nsexec does.
fn enter_mapped_user_ns() -> Check {
    let (unshared_r, unshared_w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
    let (mapped_r, mapped_w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
    // SAFETY: single-threaded (before main); the helper only does file I/O and _exit.
    match unsafe { fork() }.map_err(|e| e.to_string())? {
        ForkResult::Child => {
            let mut byte = [0u8];
            let _ = fs::File::from(unshared_r).read_exact(&mut byte);
            let pid = nix::unistd::getppid();
            let map = format!("0 {USERNS_HOST_ID} 65536");
            let ok = fs::write(format!("/proc/{pid}/uid_map"), &map).is_ok()
                && fs::write(format!("/proc/{pid}/gid_map"), &map).is_ok();
            let _ = fs::File::from(mapped_w).write_all(if ok { b"y" } else { b"n" });
            // SAFETY: the helper ends here.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| format!("unshare user: {e}"))?;
            fs::File::from(unshared_w)
                .write_all(b"u")
                .map_err(|e| e.to_string())?;
            let mut answer = [0u8];
            fs::File::from(mapped_r)
                .read_exact(&mut answer)
                .map_err(|e| e.to_string())?;
            let _ = waitpid(child, None);
            expect(answer == *b"y", "the helper could not write the id maps")?;
            let root = (Gid::from_raw(0), Uid::from_raw(0));
            setresgid(root.0, root.0, root.0).map_err(|e| format!("setresgid 0: {e}"))?;
            setresuid(root.1, root.1, root.1).map_err(|e| format!("setresuid 0: {e}"))
        }
    }
}

/// Give the bundle to the user namespace's root: ownership of everything in it, and search
/// permission on the TempDir (0700 by default) for the unmapped host root's stand-in.
fn hand_to_userns(dir: &Path) {
    fn walk(p: &Path) {
        std::os::unix::fs::lchown(p, Some(USERNS_HOST_ID), Some(USERNS_HOST_ID)).unwrap();
        if fs::symlink_metadata(p).unwrap().is_dir() {
            for entry in fs::read_dir(p).unwrap() {
                walk(&entry.unwrap().path());
            }
        }
    }
    walk(dir);
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The re-executed process: new namespaces, then the grandchild (pid 1) does the work.
fn child(s: &Scenario, bundle: &Path) -> Check {
    let spec = spec_json(bundle, s);
    let memory_cgroup = own_cgroup("memory");
    if s.user_ns {
        enter_mapped_user_ns()?;
    }
    let mut flags = CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWIPC;
    if s.cgroup_ns {
        flags |= CloneFlags::CLONE_NEWCGROUP;
    }
    unshare(flags).map_err(|e| format!("unshare: {e}"))?;
    // SAFETY: this process is single-threaded (we are before main).
    match unsafe { fork() }.map_err(|e| e.to_string())? {
        ForkResult::Child => {
            let code = match container(s, bundle, &spec, &memory_cgroup) {
                Ok(()) => 0,
                Err(msg) => {
                    eprintln!("{msg}");
                    1
                }
            };
            // SAFETY: the container init ends here.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, 0)) => Ok(()),
            other => Err(format!("container init ended with {other:?}")),
        },
    }
}

/// The container init: build the rootfs, then look at it from inside.
fn container(s: &Scenario, bundle: &Path, spec: &Spec, memory_cgroup: &str) -> Check {
    let rootfs = bundle.join("rootfs");
    if s.bad_input {
        return check_bad_input(&rootfs);
    }
    let cfg = RootfsConfig {
        spec,
        rootfs: &rootfs,
        no_pivot: s.no_pivot,
        user_ns: s.user_ns,
        cgroup_ns: s.cgroup_ns,
        bind_sources: &[],
    };
    prepare(&cfg).map_err(|e| format!("prepare: {e:#}"))?;
    enter(&cfg).map_err(|e| format!("enter: {e:#}"))?;
    finalize(&cfg).map_err(|e| format!("finalize: {e:#}"))?;
    if getpid().as_raw() != 1 {
        return Err(format!("not pid 1 but {}", getpid()));
    }
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    expect(cwd == Path::new("/"), format!("cwd is {cwd:?}"))?;
    check_mounts(s, &rootfs, memory_cgroup)?;
    check_dev(s)?;
    check_writes(s)?;
    check_busybox(s)
}

fn expect(ok: bool, msg: impl Into<String>) -> Check {
    if ok {
        Ok(())
    } else {
        Err(msg.into())
    }
}

/// mount point → (root, per-mount options, optional fields, fs type).
fn mounts_inside() -> Vec<(String, String, String, String, String)> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (a, b) = l.split_once(" - ")?;
            let f: Vec<&str> = a.split(' ').collect();
            let fs_type = b.split(' ').next()?;
            Some((
                f[4].into(),
                f[3].into(),
                f[5].into(),
                f[6..].join(" "),
                fs_type.into(),
            ))
        })
        .collect()
}

fn check_mounts(s: &Scenario, rootfs: &Path, memory_cgroup: &str) -> Check {
    let all = mounts_inside();
    let find = |point: &str| all.iter().rev().find(|m| m.0 == point).cloned();
    let need =
        |point: &str, fs_type: &str| -> Result<(String, String, String, String, String), String> {
            let m = find(point).ok_or_else(|| format!("no mount at {point} in {all:#?}"))?;
            expect(m.4 == fs_type, format!("{point} is {} not {fs_type}", m.4))?;
            Ok(m)
        };
    need("/proc", "proc")?;
    need("/dev", "tmpfs")?;
    need("/dev/pts", "devpts")?;
    need("/dev/shm", "tmpfs")?;
    need("/dev/mqueue", "mqueue")?;
    let sys = need("/sys", "sysfs")?;
    expect(
        sys.2.split(',').any(|o| o == "ro"),
        format!("/sys not ro: {}", sys.2),
    )?;
    need("/sys/fs/cgroup", "tmpfs")?;
    let memory = need("/sys/fs/cgroup/memory", "cgroup")?;
    let want_root = if s.cgroup_ns { "/" } else { memory_cgroup };
    expect(
        memory.1 == want_root,
        format!("memory cgroup root {} not {want_root}", memory.1),
    )?;
    expect(
        memory.2.starts_with("ro,"),
        format!("cgroup not ro: {}", memory.2),
    )?;
    need("/sys/fs/cgroup/unified", "cgroup2")?;
    need("/sys/fs/cgroup/systemd", "cgroup")?;
    // Fresh where allowed; in a user namespace without a cgroup one, the host's v2 bound.
    let v2 = need("/cgroup2", "cgroup2")?;
    expect(
        v2.2.starts_with("ro,nosuid"),
        format!("/cgroup2 options {}", v2.2),
    )?;
    let data = find("/data").ok_or("no /data bind")?;
    expect(
        data.2.contains("ro") && data.2.contains("nosuid"),
        format!("/data options {}", data.2),
    )?;
    find("/etc/bound-file").ok_or("no /etc/bound-file bind")?;
    find("/var/resolv.conf").ok_or("no bind at /var/resolv.conf (the link's target)")?;
    // runtime-tools' `mounts` shapes: a typeless bind with tmpfs data and propagation options.
    let shared = find("/mnt/etc-rshared").ok_or("no /mnt/etc-rshared")?;
    expect(
        shared.3.contains("shared:") && shared.2.contains("nosuid"),
        format!("/mnt/etc-rshared is {shared:?}"),
    )?;
    let unbindable = find("/mnt/etc-unbindable").ok_or("no /mnt/etc-unbindable")?;
    expect(
        unbindable.3.contains("unbindable"),
        format!("/mnt/etc-unbindable is {unbindable:?}"),
    )?;
    // The symlink /evil → /../../../..<ESCAPE> was resolved inside the rootfs.
    let evil = need(&format!("{ESCAPE}/x"), "tmpfs")?;
    expect(evil.2.starts_with("ro"), format!("ro tmpfs is {}", evil.2))?;
    let sysfs_ro = find("/proc/sys").ok_or("/proc/sys not bound read-only")?;
    expect(
        sysfs_ro.2.starts_with("ro,"),
        format!("/proc/sys options {}", sysfs_ro.2),
    )?;
    need("/proc/acpi", "tmpfs")?;
    let root = find("/").ok_or("no / mount")?;
    let want = if s.no_pivot { "shared:" } else { "master:" };
    // rslave of a private host mount leaves no peer group: only a shared root shows one.
    if s.no_pivot {
        expect(
            root.3.contains(want),
            format!("/ propagation {:?}, wanted {want}", root.3),
        )?;
    }
    let leaked: Vec<_> = all
        .iter()
        .filter(|m| m.0.starts_with(rootfs.to_str().unwrap()))
        .collect();
    expect(
        leaked.is_empty(),
        format!("host paths visible inside: {leaked:?}"),
    )
}

fn check_dev(s: &Scenario) -> Check {
    let null = fs::metadata("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;
    let rdev = (major(null.rdev()), minor(null.rdev()));
    expect(
        null.file_type().is_char_device() && rdev == (1, 3),
        format!("/dev/null is {rdev:?}"),
    )?;
    if !s.user_ns {
        expect(
            null.mode() & 0o7777 == 0o666,
            format!("/dev/null mode {:o}", null.mode()),
        )?;
        let custom = fs::metadata("/dev/custom").map_err(|e| format!("/dev/custom: {e}"))?;
        let got = (
            major(custom.rdev()),
            minor(custom.rdev()),
            custom.mode() & 0o7777,
            custom.uid(),
            custom.gid(),
        );
        expect(
            got == (1, 5, 0o600, 1, 2),
            format!("/dev/custom is {got:?}"),
        )?;
    }
    for (link, target) in [
        ("/dev/ptmx", "pts/ptmx"),
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ] {
        let got = fs::read_link(link).map_err(|e| format!("{link}: {e}"))?;
        expect(got == Path::new(target), format!("{link} → {got:?}"))?;
    }
    // Only where the kernel has /proc/kcore (this one does not) is there a /dev/core.
    let has_kcore = Path::new("/proc/kcore").exists();
    expect(
        fs::symlink_metadata("/dev/core").is_ok() == has_kcore,
        "/dev/core does not match /proc/kcore",
    )?;
    let masked = fs::read("/proc/timer_list").map_err(|e| format!("/proc/timer_list: {e}"))?;
    expect(masked.is_empty(), "/proc/timer_list not masked")?;
    let acpi = fs::read_dir("/proc/acpi")
        .map_err(|e| e.to_string())?
        .count();
    expect(
        acpi == 0,
        format!("/proc/acpi masked dir has {acpi} entries"),
    )
}

fn write_error(path: &str) -> Option<i32> {
    fs::write(path, "x").err().and_then(|e| e.raw_os_error())
}

fn check_writes(s: &Scenario) -> Check {
    let mut ro = vec![
        "/data/new",
        "/proc/sys/kernel/domainname",
        "/sys/kernel/new",
    ];
    if !s.no_pivot {
        ro.push("/new-file-in-root"); // root.readonly is set in the pivot scenarios
    }
    for path in ro {
        expect(
            write_error(path) == Some(libc::EROFS),
            format!("writing {path} gave {:?}, not EROFS", write_error(path)),
        )?;
    }
    for path in ["/dev/shm/ok", "/tmp/ok"] {
        expect(
            write_error(path).is_none(),
            format!("writing {path} failed: {:?}", write_error(path)),
        )?;
    }
    let seed =
        fs::read_to_string("/tmp/seed").map_err(|e| format!("tmpcopyup lost /tmp/seed: {e}"))?;
    expect(seed == "seeded\n", format!("/tmp/seed is {seed:?}"))?;
    let sub = fs::metadata("/tmp/sub").map_err(|e| format!("tmpcopyup lost /tmp/sub: {e}"))?;
    expect(
        sub.mode() & 0o7777 == 0o711,
        format!("/tmp/sub mode {:o}", sub.mode()),
    )?;
    let link = fs::read_link("/tmp/sub/link").map_err(|e| format!("/tmp/sub/link: {e}"))?;
    expect(
        link == Path::new("../seed"),
        format!("/tmp/sub/link → {link:?}"),
    )?;
    let resolv =
        fs::read_to_string("/etc/resolv.conf").map_err(|e| format!("/etc/resolv.conf: {e}"))?;
    expect(
        resolv == "bound file\n",
        format!("/etc/resolv.conf is {resolv:?}"),
    )?;
    let fresh = fs::metadata("/run/fresh")
        .map_err(|e| e.to_string())?
        .mode()
        & 0o7777;
    expect(
        fresh == 0o1777,
        format!("tmpfs on a new dir has mode {fresh:o}, not 1777"),
    )?;
    let bound = fs::read_to_string("/etc/bound-file").map_err(|e| e.to_string())?;
    expect(
        bound == "bound file\n",
        format!("/etc/bound-file is {bound:?}"),
    )
}

/// The rootfs is usable: busybox runs, reads the bind, and a write to the read-only root fails.
fn check_busybox(s: &Scenario) -> Check {
    let out = Command::new("/bin/sh")
        .args(["-c", "cat /data/hello; echo x > /etc/x"])
        .output()
        .map_err(|e| format!("exec /bin/sh: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    expect(
        stdout == "hello from the host\n",
        format!("busybox printed {stdout:?}"),
    )?;
    if !s.no_pivot {
        let stderr = String::from_utf8_lossy(&out.stderr);
        expect(
            !out.status.success() && stderr.contains("Read-only file system"),
            format!("write to ro root: {stderr:?}"),
        )?;
    }
    Ok(())
}

/// What `prepare` says about the spec `json` (empty when it succeeds).
fn prepare_error(json: &str, rootfs: &Path) -> Result<String, String> {
    let spec: Spec = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let cfg = RootfsConfig {
        spec: &spec,
        rootfs,
        no_pivot: false,
        user_ns: false,
        cgroup_ns: false,
        bind_sources: &[],
    };
    Ok(prepare(&cfg)
        .map(|_| String::new())
        .unwrap_or_else(|e| format!("{e:#}")))
}

/// Each bad spec fails in prepare with runc's wording, naming the mount.
fn check_bad_input(rootfs: &Path) -> Check {
    let cases = [
        (
            r#"{"destination":"/proc/foo","type":"tmpfs","source":"tmpfs"}"#,
            r#"error mounting "tmpfs" to rootfs at "/proc/foo": "/proc/foo" cannot be mounted because it is inside /proc"#,
        ),
        (
            r#"{"destination":"/x","type":"nosuchfs","source":"none"}"#,
            r#"error mounting "none" to rootfs at "/x": no such device"#,
        ),
        (
            r#"{"destination":"/y","type":"bind","source":"/nonexistent-shoji-src","options":["bind"]}"#,
            r#"error mounting "/nonexistent-shoji-src" to rootfs at "/y": no such file or directory"#,
        ),
        (
            r#"{"destination":"/z","type":"none","source":"/tmp","options":["rbind","nosiud"]}"#,
            r#"error mounting "/tmp" to rootfs at "/z": unknown mount option "nosiud""#,
        ),
        (
            r#"{"destination":"/t","type":"tmpfs","source":"tmpfs","options":["size=lots"]}"#,
            r#"error mounting "tmpfs" to rootfs at "/t": invalid argument"#,
        ),
        (
            r#"{"destination":"/etc/passwd","type":"proc","source":"proc"}"#,
            r#"error mounting "proc" to rootfs at "/etc/passwd": filesystem "proc" must be mounted on ordinary directory"#,
        ),
        (
            r#"{"destination":"/","type":"tmpfs","source":"tmpfs"}"#,
            "mountpoint \"/\" is on the top of rootfs",
        ),
    ];
    for (mount, want) in cases {
        let json =
            format!(r#"{{"ociVersion":"1.0.2","root":{{"path":"rootfs"}},"mounts":[{mount}]}}"#);
        let got = prepare_error(&json, rootfs)?;
        expect(
            got.contains(want),
            format!("for {mount}\n  got  {got:?}\n  want {want:?}"),
        )?;
    }
    let json =
        r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{"rootfsPropagation":"bogus"}}"#;
    let got = prepare_error(json, rootfs)?;
    expect(
        got == "rootfsPropagation=bogus is not supported",
        format!("propagation error {got:?}"),
    )
}

#[test]
fn rootfs_real_bad_input_errors() {
    run_scenario("bad-input");
}

#[test]
fn rootfs_real_pivot_readonly_root() {
    run_scenario("pivot");
}

#[test]
fn rootfs_real_no_pivot_shared_cgroupns() {
    run_scenario("no-pivot");
}

#[test]
fn rootfs_real_user_namespace() {
    run_scenario("userns");
}
