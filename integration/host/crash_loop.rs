//! SIGKILL of `create`, `run` or `delete` at any moment: one `delete --force` must remove
//! every trace (state dir, cgroups in every hierarchy, mounts, processes) and the id must be
//! usable again (see `support::crash`); a half-made container is listed meanwhile.

use crate::support::crash::{iterations, nothing_more, CrashLoop, Killed};
use crate::support::leftovers::{leftovers, remove_leftovers};
use crate::support::procfs::wait_until;
use crate::support::{json, unique_name, Bundle, Runtime, Value};

fn crash_loop(name: &str, rounds: usize, killed: Killed) {
    CrashLoop {
        name,
        rounds,
        killed,
        global: &[],
        more_checks: &nothing_more,
    }
    .run();
}

#[test]
fn sigkill_during_create_leaves_nothing_after_delete_force() {
    crash_loop("crash-create", iterations(200), Killed::Create);
}

#[test]
fn sigkill_during_run_leaves_nothing_after_delete_force() {
    crash_loop("crash-run", iterations(200) / 5, Killed::Run);
}

#[test]
fn sigkill_during_delete_leaves_nothing_after_delete_force() {
    crash_loop("crash-delete", iterations(200) / 5, Killed::Delete);
}

/// A create held in its createRuntime hook (the init exists, the cgroup is made) is listed and
/// `state` shows it `creating`; once the create is SIGKILLed it is `stopped`, and one
/// `delete --force` removes every trace.
#[test]
fn half_made_container_is_listed_then_deleted() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("half-made");
    bundle.args(&["sleep", "1000"]);
    let marker = bundle.path().join("hook-running");
    let script = format!(
        "cat >/dev/null; touch {m}; while [ -e {m} ]; do sleep 0.05; done",
        m = marker.display()
    );
    bundle.edit(|s| {
        s["hooks"] =
            json!({ "createRuntime": [{ "path": "/bin/sh", "args": ["sh", "-c", script] }] })
    });
    let id = unique_name("half-made");
    let mut create = rt.spawn(&["create", "--bundle", bundle.path_str(), &id]);
    let reached = wait_until(|| marker.exists());
    let listed = rt.cmd(&["list", "--format", "json"]);
    let during = rt.cmd(&["state", &id]);
    // Our own child, by pid; then let the orphaned hook finish.
    let _ = create.kill();
    let _ = create.wait();
    let after = rt.cmd(&["state", &id]);
    let _ = std::fs::remove_file(&marker);
    let deleted = rt.cmd(&["delete", "--force", &id]);
    let left = leftovers(&rt, &id, &bundle);
    remove_leftovers(&left);
    assert!(reached, "the createRuntime hook never ran");
    let listed: Value = serde_json::from_str(&listed.stdout).expect("list JSON");
    let entry = listed
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id.as_str()))
        .unwrap_or_else(|| panic!("{id} not listed: {listed}"));
    assert_eq!(entry["status"], "creating", "{entry}");
    assert_eq!(during.code, Some(0), "{during}");
    assert_eq!(during.json()["status"], "creating");
    assert_eq!(after.code, Some(0), "{after}");
    assert_eq!(after.json()["status"], "stopped");
    assert_eq!(deleted.code, Some(0), "{deleted}");
    assert!(left.is_empty(), "left behind: {left:?}");
}
