//! A cgroupsPath naming a cgroup that already exists and holds someone else's process (a pod
//! cgroup, by a typo): the container joins it with runc's warning, and neither `delete
//! --force` nor a failed create kills that process or removes the directory. A frozen cgroup
//! is refused (joining it would stop the init in the kernel and hang create).

use crate::support::procfs::{pid_alive, wait_pid_gone};
use crate::support::shared_cgroup::SharedCgroup;
use crate::support::{assert_no_leftovers, create_must_fail, json, unique_name, Bundle, Runtime};

fn bundle_in(name: &str, cgroups_path: &str) -> Bundle {
    let bundle = Bundle::busybox(name);
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| s["linux"]["cgroupsPath"] = json!(cgroups_path));
    bundle
}

fn assert_untouched(shared: &SharedCgroup) {
    assert!(
        shared.intact(),
        "the shared cgroup's own process {} was killed or moved",
        shared.sleeper_pid()
    );
    for dir in shared.dirs() {
        assert!(dir.is_dir(), "shared cgroup {dir:?} was removed");
    }
}

#[test]
fn populated_cgroup_is_joined_with_a_warning_and_survives_delete_force() {
    let rt = Runtime::new();
    let shared = SharedCgroup::populated("shared-pop");
    let bundle = bundle_in("shared-pop", &shared.path);
    let id = unique_name("shared-pop");
    let created = rt.cmd(&["create", "--bundle", bundle.path_str(), &id]);
    let init = rt.cmd(&["state", &id]).json()["pid"].as_i64().unwrap_or(0) as i32;
    let started = rt.cmd(&["start", &id]);
    let deleted = rt.cmd(&["delete", "--force", &id]);
    assert_eq!(created.code, Some(0), "{created}");
    assert!(
        created.stderr.contains("level=warning")
            && created
                .stderr
                .contains("container's cgroup is not empty: 1 process(es) found"),
        "no warning about the populated cgroup:\n{created}"
    );
    assert_eq!(started.code, Some(0), "{started}");
    assert_eq!(deleted.code, Some(0), "{deleted}");
    assert!(
        init > 0 && wait_pid_gone(init),
        "container init {init} survived delete --force"
    );
    assert_untouched(&shared);
    assert!(!rt.state_dir(&id).exists());
}

/// A create that fails after the init joined the cgroup (its bind mount source is missing),
/// and one that fails writing a limit the kernel refuses: the guard kills its own processes
/// only and removes no directory it did not make.
#[test]
fn failed_create_in_a_populated_cgroup_kills_nothing_else() {
    let rt = Runtime::new();
    let shared = SharedCgroup::populated("shared-fail");
    let failures = [
        json!({ "mounts": [{ "destination": "/x", "type": "bind", "source": "/nonexistent-shoji-src", "options": ["bind"] }] }),
        json!({ "linux": { "resources": { "cpu": { "cpus": "abc" } } } }),
    ];
    for failure in failures {
        let bundle = bundle_in("shared-fail", &shared.path);
        bundle.edit(|s| {
            if let Some(m) = failure.get("mounts") {
                s["mounts"]
                    .as_array_mut()
                    .unwrap()
                    .extend(m.as_array().unwrap().clone());
            } else {
                s["linux"]["resources"] = failure["linux"]["resources"].clone();
            }
        });
        let id = unique_name("shared-fail");
        create_must_fail(&rt, bundle.path_str(), &id).failure();
        assert_untouched(&shared);
        assert!(!rt.state_dir(&id).exists(), "{failure}: state dir left");
        assert_no_leftovers(&rt, &id, &bundle);
    }
}

/// The v1 freezer (and a directory yet to be made below a frozen parent, which inherits it):
/// refused with a clear error, quickly, leaving nothing.
#[test]
fn frozen_cgroup_is_refused() {
    let rt = Runtime::new();
    let shared = SharedCgroup::populated("shared-frozen");
    shared.freeze();
    for path in [shared.path.clone(), format!("{}/leaf", shared.path)] {
        let bundle = bundle_in("shared-frozen", &path);
        let id = unique_name("shared-frozen");
        // The harness kills a runtime that hangs (and fails the test).
        let out = create_must_fail(&rt, bundle.path_str(), &id).failure();
        assert!(
            out.stderr.contains("is frozen") && out.stderr.contains(&shared.path),
            "{path}: {out}"
        );
        assert!(!rt.state_dir(&id).exists());
        for dir in shared.dirs() {
            assert!(!dir.join("leaf").exists(), "{path}: {dir:?}/leaf was made");
        }
    }
    assert!(pid_alive(shared.sleeper_pid()));
    assert_untouched(&shared);
}
