//! The VM tier: cgroup v2 semantics proven in a real cgroup-v2 kernel (Debian's backports
//! kernel under qemu TCG; this host is v1 hybrid). The guest's root is the host's / read-only
//! over 9p with a tmpfs overlay, so it runs the shoji binary this build just made.
//!
//! Each mode boots once per test binary run and runs all of its cases in that boot; each
//! #[test] then asserts its own case. Modes: `direct` (no systemd, cgroup2 mounted by hand,
//! the cgroupfs driver) and `systemd` (systemd as PID 1, `--systemd-cgroup`).
//! A case is a bash script in `cases/`, run in the guest after `guest/lib.sh` (assertion and
//! bundle helpers; `$MODE` picks the driver and the cgroup path to check) with a scratch
//! directory `$ART`; it prints `ok: …` per check and `FAIL: …` on the first miss.
//!
//! One-time setup (the kernel, unpacked into /var/cache/shoji-vm or $SHOJI_VM_CACHE) needs
//! qemu-system-x86 (bookworm-backports), busybox-static, kmod, xz-utils and jq installed, and
//! the guest uses the host's systemd and dbus (see .ci/run). `cargo test --test vm -- oom`
//! boots with only the matching cases; `SHOJI_RUNTIME=/usr/sbin/runc cargo test --test vm`
//! runs the same cases against another runtime, to tell a case's mistake from shoji's.
mod batch;
mod boot;
mod initramfs;
mod kernel;
mod newc;
mod rootfs;

/// Declares the cases: `MODE test_name => "script.sh" (timeout seconds);` builds `CASES` and
/// one #[test] per case asserting that its script exited 0 in the guest.
macro_rules! vm_cases {
    ($($mode:ident $name:ident => $file:literal ($secs:literal);)*) => {
        pub const CASES: &[batch::Case] = &[$(batch::Case {
            name: stringify!($name),
            mode: batch::Mode::$mode,
            script: include_str!(concat!("cases/", $file)),
            timeout_secs: $secs,
        },)*];
        $(#[test] fn $name() { batch::assert_case(stringify!($name)); })*
    };
}

vm_cases! {
    Direct direct_cgroup2_controllers => "cgroup2_controllers.sh" (60);
    Direct direct_resources => "resources.sh" (180);
    Direct direct_io_throttle => "io_throttle.sh" (120);
    Direct direct_oom => "oom.sh" (180);
    Direct direct_devices => "devices.sh" (120);
    Direct direct_pause => "pause.sh" (300);
    Direct direct_delete => "delete.sh" (120);
    Direct direct_refusals => "refusals.sh" (120);
    Direct direct_update => "update.sh" (120);
    Direct direct_born_in_cgroup => "born_in_cgroup.sh" (60);
    Direct direct_shared_cgroup => "shared_cgroup.sh" (120);
    Direct direct_cgroup_id => "cgroup_id.sh" (60);
    Direct direct_cwd_proc_self_fd_stays_inside => "cwd_escape.sh" (600);
    Systemd systemd_cgroup2_controllers => "systemd_scope.sh" (60);
    Systemd systemd_resources => "resources.sh" (180);
    Systemd systemd_io_throttle => "io_throttle.sh" (120);
    Systemd systemd_oom => "oom.sh" (180);
    Systemd systemd_devices => "devices.sh" (120);
    Systemd systemd_pause => "pause.sh" (300);
    Systemd systemd_delete => "delete.sh" (120);
    Systemd systemd_refusals => "refusals.sh" (120);
    Systemd systemd_update => "update.sh" (120);
    Systemd systemd_cgroup_id => "cgroup_id.sh" (60);
    Systemd systemd_cwd_proc_self_fd_stays_inside => "cwd_escape.sh" (600);
    Systemd systemd_daemon_reload => "daemon_reload.sh" (180);
}

/// Benchmarks (issue 11's v2 figures), run only by `bench/vm.sh` (`--ignored`): a boot runs
/// one only when a test filter names it, so the tier itself never pays for them.
pub const BENCHES: &[batch::Case] = &[
    batch::Case {
        name: "bench_direct",
        mode: batch::Mode::Direct,
        script: include_str!("cases/bench.sh"),
        timeout_secs: 1200,
    },
    batch::Case {
        name: "bench_systemd",
        mode: batch::Mode::Systemd,
        script: include_str!("cases/bench.sh"),
        timeout_secs: 1800,
    },
];

#[test]
#[ignore = "a benchmark: bench/vm.sh runs it"]
fn bench_direct() {
    batch::assert_case("bench_direct");
}

#[test]
#[ignore = "a benchmark: bench/vm.sh runs it"]
fn bench_systemd() {
    batch::assert_case("bench_systemd");
}
