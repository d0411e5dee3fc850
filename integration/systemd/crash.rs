//! The systemd driver under SIGKILL and name clashes: after a killed `create`, one
//! `delete --force` leaves no state dir, no scope unit and no directory of it; a scope of the
//! container's name that holds someone's process is refused and left running.
use std::process::{Command, Stdio};
use std::time::Duration;

use shoji::systemd::dbus::{Started, Systemd};
use shoji::systemd::properties;

use crate::driver::systemctl_show;
use crate::in_sandbox;
use crate::support::crash::{iterations, CrashLoop, Killed};
use crate::support::procfs::find_cgroup_dirs_named;
use crate::support::{create_must_fail_with, unique_name, Bundle, Runtime};

const SYSTEMD: &str = "--systemd-cgroup";

/// The unit shoji makes for `id` when cgroupsPath is empty, and what is left of it.
fn unit_leftovers(id: &str) -> Vec<String> {
    let unit = format!("shoji-{id}.scope");
    let mut left = Vec::new();
    let show = systemctl_show(&unit, "LoadState");
    if !show.lines().any(|l| l == "LoadState=not-found") {
        left.push(format!("unit {unit} still loaded: {show}"));
        let _ = Command::new("systemctl").args(["stop", &unit]).status();
    }
    for dir in find_cgroup_dirs_named(&unit) {
        left.push(format!("cgroup {dir:?}"));
        let _ = std::fs::remove_dir(dir);
    }
    left
}

#[test]
fn sigkill_during_systemd_create_leaves_nothing_after_delete_force() {
    in_sandbox(
        "crash::sigkill_during_systemd_create_leaves_nothing_after_delete_force",
        || {
            CrashLoop {
                name: "sd-crash",
                rounds: iterations(200) / 5,
                killed: Killed::Create,
                global: &[SYSTEMD],
                more_checks: &unit_leftovers,
            }
            .run()
        },
    );
}

#[test]
fn populated_scope_of_the_same_name_is_refused() {
    in_sandbox("crash::populated_scope_of_the_same_name_is_refused", || {
        let rt = Runtime::new();
        let id = unique_name("sd-taken");
        let unit = format!("shoji-{id}.scope");
        let mut other = Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sleep");
        let props = properties::unit_properties(&unit, "system.slice", other.id(), false);
        let sd = Systemd::connect().unwrap();
        let started = sd.start_transient_unit(&unit, &props, Duration::from_secs(30));
        let bundle = Bundle::busybox("sd-taken");
        bundle.args(&["sleep", "1000"]);
        let out = create_must_fail_with(&rt, bundle.path_str(), &id, &[SYSTEMD]);
        let alive = other.try_wait().unwrap().is_none();
        let state_dir = rt.state_dir(&id).exists();
        let _ = other.kill();
        let _ = other.wait();
        let _ = sd.stop_unit(&unit, Duration::from_secs(30));
        let _ = sd.reset_failed_unit(&unit);
        assert_eq!(started.unwrap(), Started::Done);
        assert!(
            out.stderr
                .contains("already exists and holds 1 process(es)"),
            "{out}"
        );
        assert!(alive, "the scope's own process was killed");
        assert!(!state_dir, "state dir left");
    });
}
