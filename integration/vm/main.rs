//! The VM tier: cgroup v2 semantics proven in a real cgroup-v2 kernel (Debian's backports
//! kernel under qemu TCG; this host is v1 hybrid). The guest's root is the host's / read-only
//! over 9p with a tmpfs overlay, so it runs the shoji binary this build just made.
//!
//! Each mode boots once per test binary run and runs all of its cases in that boot; each
//! #[test] then asserts its own case. Modes: `direct` (no systemd, cgroup2 mounted by hand,
//! the cgroupfs driver) and `systemd` (systemd as PID 1, `--systemd-cgroup`).
//! One-time setup (the kernel, unpacked into /var/cache/shoji-vm or $SHOJI_VM_CACHE) needs
//! qemu-system-x86, busybox-static, kmod and xz-utils installed (see .ci/run).
mod batch;
mod boot;
mod initramfs;
mod kernel;

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
    Systemd systemd_cgroup2_controllers => "systemd_scope.sh" (60);
}
