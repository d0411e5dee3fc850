//! The default profiles of docker, containerd and podman, exactly as each sent them in
//! config.json: the filter is on (Seccomp: 2), what the profile denies fails with the
//! profile's errno on every ABI it lists, and ordinary programs run.

use super::{client_profile, outcome, probe_bundle, results, ENOSYS, EPERM};
use crate::support::{run_container, Bundle, Runtime};

/// Runs `sh -c 'grep Seccomp /proc/self/status; probe CALLS; probe-dyn x64:39'`: busybox sh,
/// the static probe and a dynamically linked program, all under the profile.
fn run_probe(
    rt: &Runtime,
    bundle: &Bundle,
    calls: &[&str],
) -> std::collections::HashMap<String, String> {
    let script = format!(
        "grep '^Seccomp:' /proc/self/status && probe {} && probe-dyn x64:39:dynamic",
        calls.join(" ")
    );
    bundle.args(&["sh", "-c", &script]);
    let out = run_container(rt, bundle, "seccomp-client").success();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.split_whitespace().eq(["Seccomp:", "2"])),
        "filter not on:\n{out}"
    );
    let res = results(&out.stdout);
    assert_eq!(
        outcome(&res, "x64:39:dynamic"),
        "ok",
        "dynamically linked program"
    );
    res
}

/// Calls docker's and containerd's profiles deny (they leave them to CAP_SYS_ADMIN, which
/// their containers lack) and what each must answer.
const DENIED_BY_MOBY_PROFILES: [(&str, &str); 11] = [
    ("x64:272:0x10000000", EPERM), // unshare(CLONE_NEWUSER): not named → default
    ("x64:250:0", EPERM),          // keyctl
    ("x64:165:0:0:0:0:0", EPERM),  // mount
    ("x64:56:0x20011", EPERM),     // clone(CLONE_NEWNS|SIGCHLD): the MASKED_EQ rule
    ("x64:56:0x10000011", EPERM),  // clone(CLONE_NEWUSER|SIGCHLD)
    ("x64:435:0:0", ENOSYS),       // clone3: errnoRet 38, so glibc falls back to clone
    ("x64:451:0", ENOSYS),         // cachestat: newer than anything the profile names
    ("i386:310:0x10000000", EPERM), // unshare by its i386 number
    ("i386:288:0", EPERM),         // keyctl, i386
    ("x32:272:0x10000000", EPERM), // unshare by its x32 number
    ("x32:250:0", EPERM),          // keyctl, x32
];

fn moby_profile(client: &str) {
    let rt = Runtime::new();
    let bundle = probe_bundle(client, client_profile(client));
    let mut calls: Vec<&str> = DENIED_BY_MOBY_PROFILES.iter().map(|(c, _)| *c).collect();
    calls.extend(["x64:39", "i386:20", "x32:39"]);
    let res = run_probe(&rt, &bundle, &calls);
    for (call, want) in DENIED_BY_MOBY_PROFILES {
        assert_eq!(outcome(&res, call), want, "{client}: {call}");
    }
    assert_eq!(outcome(&res, "x64:39"), "ok", "getpid");
    assert_eq!(outcome(&res, "i386:20"), "ok", "i386 getpid");
    // Allowed by the x32 rules: the kernel answers (ENOSYS where it lacks x32), not the filter.
    assert_ne!(outcome(&res, "x32:39"), EPERM, "x32 getpid");
}

#[test]
fn docker_default_profile() {
    moby_profile("docker");
}

#[test]
fn containerd_default_profile() {
    moby_profile("containerd");
}

/// podman's profile answers ENOSYS by default (defaultErrnoRet 38), EPERM for what it names
/// as denied, EINVAL for audit netlink sockets, and allows namespaces (its containers rely on
/// capabilities for those).
#[test]
fn podman_default_profile() {
    let rt = Runtime::new();
    let bundle = probe_bundle("podman", client_profile("podman"));
    let expected = [
        ("x64:248:0", ENOSYS),         // add_key: not named → defaultErrnoRet
        ("x64:425:0:0", ENOSYS),       // io_uring_setup: not named
        ("x64:321:0", EPERM),          // bpf: named with errnoRet 1
        ("x64:246:0", EPERM),          // kexec_load
        ("i386:357:0", EPERM),         // bpf, i386
        ("x32:321:0", EPERM),          // bpf, x32
        ("x64:41:16:3:9", "errno 22"), // socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)
        ("x64:41:1:1:0", "ok"),        // socket(AF_UNIX, SOCK_STREAM)
        ("x64:39", "ok"),              // getpid
        ("x64:451:0", ENOSYS),         // newer than the profile
    ];
    let calls: Vec<&str> = expected.iter().map(|(c, _)| *c).collect();
    let res = run_probe(&rt, &bundle, &calls);
    for (call, want) in expected {
        assert_eq!(outcome(&res, call), want, "podman: {call}");
    }
}
