//! CVE-2019-5736: a container must never be able to open the host's runtime binary for writing
//! through a runtime process that enters it (`/proc/PID/exe`, `/proc/PID/fd/*`,
//! `/proc/PID/map_files/*`). The runtime under test is a copy of the binary in a scratch
//! directory, so an attack that works damages only the copy, and its bytes are compared after.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::procfs::wait_until;
use crate::support::{json, unique_name, Bundle, Container, Runtime, Scratch};

/// The attacker races at least this many `exec`s (the count)...
const EXECS: usize = 30;
/// ...and keeps going, up to this many, until it has seen at least one runtime process, so
/// the test cannot pass without the race having been run.
const MAX_EXECS: usize = 300;

/// A container with CAP_SYS_PTRACE whose init is the attacker watches `exec`s of /bin/true:
/// it sees the runtime's exec child in its pid namespace, and never opens the binary for
/// writing; the binary's bytes are unchanged.
#[test]
fn exec_children_never_expose_a_writable_runtime_binary() {
    let copy_dir = Scratch::new("exe-copy");
    let binary = copy_runtime_binary(copy_dir.path());
    let original = std::fs::read(&binary).expect("read the runtime binary");
    let rt = Runtime::with_binary(binary.clone());
    let bundle = attacker_bundle(&binary);
    let c = Container::create(&rt, &bundle, "exe-seal");
    c.start().success();
    let report_path = bundle.rootfs().join("tmp/report");
    let report = || std::fs::read_to_string(&report_path).unwrap_or_default();
    assert!(
        wait_until(|| report().contains("ready")),
        "the attacker did not start"
    );
    let mut execs = 0;
    while execs < MAX_EXECS && (execs < EXECS || !report().contains("seen ")) {
        rt.cmd(&["exec", &c.id, "/bin/true"]).success();
        execs += 1;
    }
    // No runtime process runs now: the attacker's last retry through its kept fds is the
    // original exploit's step (ETXTBSY no longer applies), then it exits.
    std::fs::write(bundle.rootfs().join("tmp/done"), "").expect("write done marker");
    assert!(
        wait_until(|| report().contains("finished")),
        "the attacker never finished:\n{}",
        report()
    );
    let text = report();
    let seen = text.lines().filter(|l| l.starts_with("seen ")).count();
    eprintln!("the attacker saw {seen} runtime processes in {execs} execs");
    assert!(
        seen > 0,
        "the attacker saw no runtime process in {MAX_EXECS} execs:\n{text}"
    );
    let opened: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("opened ") || l.starts_with("wrote "))
        .collect();
    assert!(
        opened.is_empty(),
        "the container opened the runtime binary for writing ({seen} runtime processes \
         seen):\n{}",
        opened.join("\n")
    );
    assert!(
        std::fs::read(&binary).expect("read the runtime binary") == original,
        "the runtime binary's bytes changed"
    );
    c.wait_stopped();
}

/// `run` re-executes from the read-only overlay at the binary's entry point, before the C
/// library starts (src/exe_seal/entry.rs), not in the fallback after parsing: --debug says
/// which. This kernel takes overlay layers by fd; the VM tier checks the path way on 6.12.
#[test]
fn run_reexecutes_from_the_overlay_at_the_entry_point() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("exe-entry");
    bundle.args(&["true"]);
    let id = unique_name("exe-entry");
    rt.cmd(&["--debug", "run", "--bundle", bundle.path_str(), &id])
        .success()
        .stderr_has(&["running from a read-only copy of the binary: overlay (made at entry)"]);
}

/// The runtime binary copied to DIR/<its name>, so an attack can only damage the copy.
fn copy_runtime_binary(dir: &Path) -> PathBuf {
    let source = Runtime::new().binary().to_path_buf();
    let name = source.file_name().expect("runtime binary has a file name");
    let copy = dir.join(name);
    std::fs::copy(&source, &copy).unwrap_or_else(|e| panic!("copy {source:?}: {e}"));
    copy
}

/// A busybox bundle whose init is the attacker, built statically from exe_attacker.c, given
/// the binary's identity; CAP_SYS_PTRACE lets it open non-dumpable processes' /proc links.
fn attacker_bundle(binary: &Path) -> Bundle {
    let bundle = Bundle::busybox("exe-seal");
    let source = bundle.path().join("exe_attacker.c");
    std::fs::write(&source, include_str!("exe_attacker.c")).expect("write attacker source");
    let out = Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(bundle.rootfs().join("attacker"))
        .arg(&source)
        .output()
        .expect("run gcc (is it installed?)");
    assert!(
        out.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::metadata(binary).expect("stat the runtime binary");
    let (dev, ino, size) = (meta.dev(), meta.ino(), meta.size());
    bundle.edit(|s| {
        s["process"]["args"] = json!([
            "/attacker",
            "/tmp/report",
            "/tmp/done",
            dev.to_string(),
            ino.to_string(),
            size.to_string()
        ]);
        s["root"]["readonly"] = json!(false);
        for set in ["bounding", "effective", "permitted"] {
            let caps = s["process"]["capabilities"][set].as_array_mut().unwrap();
            caps.push(json!("CAP_SYS_PTRACE"));
        }
    });
    bundle
}

/// Where the read-only overlay cannot be made (here the binary's directory is already two
/// overlays deep, the kernel's stacking limit), the runtime runs from a sealed memfd copy:
/// the waiting init's exe is that copy, byte for byte, and a write to it fails.
#[test]
fn past_the_overlay_stacking_limit_the_runtime_runs_from_a_sealed_memfd() {
    let dir = Scratch::new("exe-memfd");
    let d = dir.path();
    for sub in ["bin", "e1", "e2", "m1", "m2", "wrap"] {
        std::fs::create_dir(d.join(sub)).expect("mkdir");
    }
    let binary = copy_runtime_binary(&d.join("bin"));
    let name = binary.file_name().unwrap().to_str().unwrap();
    // Each runtime command runs in its own mount namespace where the binary is reached
    // through two stacked overlays; the namespace and its mounts go when the command exits.
    let d = d.to_str().unwrap();
    let script = format!(
        "#!/bin/sh\nexec unshare -m sh -c 'mount -t overlay o -o lowerdir={d}/bin:{d}/e1 {d}/m1 \
         && mount -t overlay o -o lowerdir={d}/m1:{d}/e2 {d}/m2 && exec {d}/m2/{name} \"$@\"' sh \"$@\"\n"
    );
    let wrapper = dir.path().join("wrap").join(name);
    std::fs::write(&wrapper, script).expect("write wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod wrapper");
    let rt = Runtime::with_binary(wrapper);
    let bundle = Bundle::busybox("exe-memfd");
    bundle.args(&["sleep", "1000"]);
    let c = Container::create(&rt, &bundle, "exe-memfd");
    let exe = PathBuf::from(format!("/proc/{}/exe", c.pid));
    let link = std::fs::read_link(&exe).expect("readlink the init's exe");
    assert!(
        link.to_string_lossy().starts_with("/memfd:"),
        "the init runs from {link:?}, not a memfd"
    );
    let original = std::fs::read(&binary).expect("read the binary");
    assert!(
        std::fs::read(&exe).expect("read the init's exe") == original,
        "the memfd is not a copy of the binary"
    );
    let write = std::fs::OpenOptions::new()
        .write(true)
        .open(&exe)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"PWNED!!\n"));
    assert!(write.is_err(), "writing the init's exe succeeded");
}
