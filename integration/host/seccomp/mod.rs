//! linux.seccomp for real: the profiles docker, podman and containerd send (captured as they
//! arrived in config.json, under integration/fixtures/seccomp/), each action and operator, the
//! ENOSYS rule, the i386 and x32 ABIs, exec and startContainer hooks under the filter, and
//! SCMP_ACT_NOTIFY with a small agent. Syscalls are made by `probe.c` (beside the fixtures),
//! built with gcc by each test into its bundle, static and dynamically linked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{json, Bundle, Value};

mod actions;
mod clients;
mod notify;
mod process;

const EPERM: &str = "errno 1";
const ENOSYS: &str = "errno 38";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/fixtures/seccomp")
}

/// A client's default profile, as it arrived in config.json.
fn client_profile(client: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(format!("{client}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A busybox bundle with `profile` as linux.seccomp, /bin/probe (static) and /bin/probe-dyn
/// (dynamically linked, with the host's libc and loader copied in).
fn probe_bundle(name: &str, profile: Value) -> Bundle {
    let bundle = Bundle::busybox(name);
    let rootfs = bundle.rootfs();
    gcc(&["-static"], &rootfs.join("bin/probe"));
    gcc(&[], &rootfs.join("bin/probe-dyn"));
    for lib in [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ] {
        let dest = rootfs.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(lib, &dest).unwrap_or_else(|e| panic!("copy {lib}: {e}"));
    }
    bundle.edit(|s| s["linux"]["seccomp"] = profile);
    bundle
}

fn gcc(flags: &[&str], out: &Path) {
    let status = Command::new("gcc")
        .args(flags)
        .args(["-O2", "-o"])
        .arg(out)
        .arg(fixtures().join("probe.c"))
        .status()
        .expect("gcc (build-essential) builds the probe");
    assert!(status.success(), "gcc {flags:?} failed");
}

/// The probe's lines as call → "ok N" / "errno N".
fn results(stdout: &str) -> HashMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(call, res)| (call.to_owned(), res.to_owned()))
        .collect()
}

/// "errno N" of a result, or "ok" for any success.
fn outcome(res: &HashMap<String, String>, call: &str) -> String {
    let r = res
        .get(call)
        .unwrap_or_else(|| panic!("no result for {call} in {res:?}"));
    match r.starts_with("ok") {
        true => "ok".to_owned(),
        false => r.clone(),
    }
}

/// A profile of one rule over an allowing default.
fn one_rule(rule: Value) -> Value {
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [rule]
    })
}

/// Every x86_64 syscall name but `names`, for profiles that deny by default.
fn everything_but(names: &[&str]) -> Vec<String> {
    let table = include_str!("../../../src/security/seccomp/tables/x86_64.tbl");
    table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(' ').next())
        .filter(|n| !names.contains(n))
        .map(str::to_owned)
        .collect()
}
