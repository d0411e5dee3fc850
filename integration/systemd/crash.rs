//! The systemd driver under SIGKILL and name clashes: after a killed `create`, one
//! `delete --force` leaves no state dir, no scope unit and no directory of it; a live scope
//! of the container's name is joined, and its other process and the unit outlive the
//! container's `delete --force`.
use std::process::{Command, Stdio};
use std::time::Duration;

use shoji::systemd::dbus::{Started, Systemd};
use shoji::systemd::properties;

use crate::driver::systemctl_show;
use crate::in_sandbox;
use crate::support::crash::{iterations, CrashLoop, Killed};
use crate::support::procfs::find_cgroup_dirs_named;
use crate::support::procfs::wait_pid_gone;
use crate::support::{unique_name, Bundle, Runtime};

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

/// A live scope of the container's name (another container's): joined with runc's warning,
/// and `delete --force` kills the container's own processes only and leaves the unit running.
#[test]
fn populated_scope_of_the_same_name_survives_delete_force() {
    in_sandbox(
        "crash::populated_scope_of_the_same_name_survives_delete_force",
        || {
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
            let created = rt.cmd(&[SYSTEMD, "create", "--bundle", bundle.path_str(), &id]);
            let init = rt.cmd(&["state", &id]).json()["pid"].as_i64().unwrap_or(0) as i32;
            let deleted = rt.cmd(&["delete", "--force", &id]);
            let init_gone = init > 0 && wait_pid_gone(init);
            let alive = other.try_wait().unwrap().is_none();
            let active = systemctl_show(&unit, "ActiveState");
            let _ = other.kill();
            let _ = other.wait();
            let _ = sd.stop_unit(&unit, Duration::from_secs(30));
            let _ = sd.reset_failed_unit(&unit);
            assert_eq!(started.unwrap(), Started::Done);
            assert_eq!(created.code, Some(0), "{created}");
            assert!(
                created
                    .stderr
                    .contains("container's cgroup is not empty: 1 process(es) found"),
                "{created}"
            );
            assert_eq!(deleted.code, Some(0), "{deleted}");
            assert!(
                init_gone,
                "the container's init {init} survived delete --force"
            );
            assert!(alive, "the scope's own process was killed");
            assert!(active.contains("ActiveState=active"), "{active}");
            assert!(!rt.state_dir(&id).exists(), "state dir left");
        },
    );
}
