//! SIGKILL a runtime command (`create`, `run` or `delete`) at random delays of 1–50 ms, then
//! check that one `delete --force` removes every trace and that the id can be created again.
//! Shared by the host and systemd tiers. The seed is printed and can be replayed with
//! SHOJI_CRASH_SEED; SHOJI_CRASH_ITERATIONS changes the count.

use std::time::Duration;

use super::bundle::Bundle;
use super::leftovers::{leftovers, remove_leftovers};
use super::runtime::Runtime;
use super::scratch::unique_name;

/// The command that is killed.
#[derive(Clone, Copy, Debug)]
pub enum Killed {
    Create,
    Run,
    /// `delete --force` of a created container.
    Delete,
}

pub struct CrashLoop<'a> {
    pub name: &'a str,
    pub rounds: usize,
    pub killed: Killed,
    /// Global flags for every command (`--systemd-cgroup`).
    pub global: &'a [&'a str],
    /// What else must be gone for an id after its `delete --force` (a systemd unit).
    pub more_checks: &'a dyn Fn(&str) -> Vec<String>,
}

/// `default`, or SHOJI_CRASH_ITERATIONS.
pub fn iterations(default: usize) -> usize {
    std::env::var("SHOJI_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

pub fn nothing_more(_: &str) -> Vec<String> {
    Vec::new()
}

impl CrashLoop<'_> {
    /// Runs the rounds; panics with every problem found (what was left is removed as found,
    /// so one bad round does not spoil the next).
    pub fn run(&self) {
        let rt = Runtime::new();
        let bundle = Bundle::busybox(self.name);
        bundle.args(&["sleep", "1000"]);
        let mut delays = Delays::from_env();
        let mut failed = Vec::new();
        for _ in 0..self.rounds {
            let id = unique_name(self.name);
            failed.extend(self.round(&rt, &bundle, &id, delays.next()));
            failed.extend((self.more_checks)(&id));
        }
        assert!(
            failed.is_empty(),
            "{} problems in {} SIGKILLed {:?}s:\n{}",
            failed.len(),
            self.rounds,
            self.killed,
            failed.join("\n")
        );
    }

    fn cmd(&self, rt: &Runtime, args: &[&str]) -> super::runtime::Output {
        rt.cmd_global(self.global, args)
    }

    /// Kill the command after `delay`, `delete --force`, look for leftovers, then create and
    /// delete the same id again.
    fn round(&self, rt: &Runtime, bundle: &Bundle, id: &str, delay: Duration) -> Vec<String> {
        let b = bundle.path_str();
        let create = ["create", "--bundle", b, id];
        let killed: Vec<&str> = match self.killed {
            Killed::Create => create.to_vec(),
            Killed::Run => vec!["run", "--detach", "--bundle", b, id],
            Killed::Delete => {
                self.cmd(rt, &create).success();
                vec!["delete", "--force", id]
            }
        };
        let args: Vec<&str> = self.global.iter().copied().chain(killed).collect();
        let mut child = rt.spawn(&args);
        std::thread::sleep(delay);
        // Our own child, killed and reaped by its pid.
        let _ = child.kill();
        let _ = child.wait();
        let mut problems = Vec::new();
        let deleted = self.cmd(rt, &["delete", "--force", id]);
        if deleted.code != Some(0) {
            problems.push(format!("delete --force after {delay:?}: {deleted}"));
        }
        let left = leftovers(rt, id, bundle);
        if !left.is_empty() {
            problems.push(format!("after {delay:?}: {left:?}"));
            remove_leftovers(&left);
        }
        let again = self.cmd(rt, &create);
        let cleanup = self.cmd(rt, &["delete", "--force", id]);
        if again.code != Some(0) {
            problems.push(format!("id not reusable after {delay:?}: {again}"));
        }
        let left = leftovers(rt, id, bundle);
        if cleanup.code != Some(0) || !left.is_empty() {
            problems.push(format!(
                "create+delete of a reused id left {left:?}: {cleanup}"
            ));
            remove_leftovers(&left);
        }
        problems
    }
}

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
