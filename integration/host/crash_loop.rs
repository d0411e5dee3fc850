//! SIGKILL of `create`, `run` or `delete` at any moment: one `delete --force` must remove
//! every trace (state dir, cgroups in every hierarchy, mounts, processes) and the id must be
//! usable again. The create loop kills at random delays of 1–50 ms; its seed is printed and
//! can be replayed with SHOJI_CRASH_SEED, and SHOJI_CRASH_ITERATIONS changes the count.

use std::time::Duration;

use crate::support::leftovers::{leftovers, remove_leftovers, Leftover};
use crate::support::procfs::wait_until;
use crate::support::{json, unique_name, Bundle, Runtime, Value};

/// A small xorshift generator: the delays need spread, not quality, and no extra crate.
struct Delays(u64);

impl Delays {
    fn from_env() -> Delays {
        let seed = std::env::var("SHOJI_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
                now.map(|d| d.as_nanos() as u64).unwrap_or(1) | 1
            });
        eprintln!("crash loop seed: SHOJI_CRASH_SEED={seed}");
        Delays(seed)
    }

    /// 1..=50 ms.
    fn next(&mut self) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(1 + self.0 % 50)
    }
}

fn iterations(default: usize) -> usize {
    std::env::var("SHOJI_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Starts `args` (ending in `id`), SIGKILLs it after `delay`, reaps it, then runs
/// `delete --force ID` and a fresh `create` + `delete --force` of the same id. Returns what
/// was left (and removes it, so the next round starts clean), plus failures as text.
fn kill_then_clean(
    rt: &Runtime,
    bundle: &Bundle,
    args: &[&str],
    id: &str,
    delay: Duration,
) -> Vec<String> {
    let mut child = rt.spawn(args);
    std::thread::sleep(delay);
    // Our own child, killed by its pid.
    let _ = child.kill();
    let _ = child.wait();
    let mut problems = Vec::new();
    let listed = rt.cmd(&["list", "--quiet"]);
    let deleted = rt.cmd(&["delete", "--force", id]);
    if deleted.code != Some(0) {
        problems.push(format!("delete --force after {delay:?}: {deleted}"));
    }
    let left = leftovers(rt, id, bundle);
    if !left.is_empty() {
        let listed = listed.stdout.lines().any(|l| l == id);
        problems.push(format!("after {delay:?} (listed: {listed}): {left:?}"));
        remove_leftovers(&left);
    }
    let again = rt.cmd(&["create", "--bundle", bundle.path_str(), id]);
    let cleanup = rt.cmd(&["delete", "--force", id]);
    if again.code != Some(0) {
        problems.push(format!("id not reusable after {delay:?}: {again}"));
    }
    let left: Vec<Leftover> = leftovers(rt, id, bundle);
    if cleanup.code != Some(0) || !left.is_empty() {
        problems.push(format!(
            "create+delete of a reused id left {left:?}: {cleanup}"
        ));
        remove_leftovers(&left);
    }
    problems
}

/// `rounds` times: a fresh id, `setup` (may make the container first), then `command`'s
/// argv (from the id and the bundle path) is SIGKILLed at a random delay and cleaned up.
fn crash_loop(
    name: &str,
    rounds: usize,
    setup: impl Fn(&Runtime, &Bundle, &str),
    argv: impl Fn(&str, &str) -> Vec<String>,
) {
    let rt = Runtime::new();
    let bundle = Bundle::busybox(name);
    bundle.args(&["sleep", "1000"]);
    let mut delays = Delays::from_env();
    let mut failed = Vec::new();
    for _ in 0..rounds {
        let id = unique_name(name);
        setup(&rt, &bundle, &id);
        let args = argv(bundle.path_str(), &id);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        failed.extend(kill_then_clean(&rt, &bundle, &args, &id, delays.next()));
    }
    assert!(
        failed.is_empty(),
        "{} problems in {rounds} SIGKILLed `{name}`s:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

fn no_setup(_: &Runtime, _: &Bundle, _: &str) {}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

#[test]
fn sigkill_during_create_leaves_nothing_after_delete_force() {
    crash_loop("crash-create", iterations(200), no_setup, |bundle, id| {
        owned(&["create", "--bundle", bundle, id])
    });
}

#[test]
fn sigkill_during_run_leaves_nothing_after_delete_force() {
    crash_loop("crash-run", iterations(200) / 5, no_setup, |bundle, id| {
        owned(&["run", "--detach", "--bundle", bundle, id])
    });
}

#[test]
fn sigkill_during_delete_leaves_nothing_after_delete_force() {
    let create = |rt: &Runtime, bundle: &Bundle, id: &str| {
        rt.cmd(&["create", "--bundle", bundle.path_str(), id])
            .success();
    };
    crash_loop("crash-delete", iterations(200) / 5, create, |_, id| {
        owned(&["delete", "--force", id])
    });
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
