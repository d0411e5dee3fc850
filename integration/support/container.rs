//! `Container`: a guard for one container of a `Runtime`. On Drop it runs `delete --force` and
//! checks that nothing remains: the state dir, the init process, and every cgroup directory the
//! init was placed in (recorded while it lived, so relative and derived paths are covered too).

use std::path::PathBuf;

use serde_json::Value;

use super::bundle::Bundle;
use super::procfs::{self, cgroup_dir, proc_cgroup, wait_pid_gone};
use super::runtime::{Output, Runtime};
use super::scratch::unique_name;

pub struct Container<'a> {
    rt: &'a Runtime,
    pub id: String,
    pub pid: i32,
    cgroup_dirs: Vec<PathBuf>,
    deleted: bool,
}

impl<'a> Container<'a> {
    /// `create --bundle B <unique id from name>`, asserting success.
    pub fn create(rt: &'a Runtime, bundle: &Bundle, name: &str) -> Container<'a> {
        Container::create_with(rt, bundle, name, &[])
    }

    /// `create` with extra flags (`--pid-file`, `--console-socket`, ...).
    pub fn create_with(
        rt: &'a Runtime,
        bundle: &Bundle,
        name: &str,
        flags: &[&str],
    ) -> Container<'a> {
        let id = unique_name(name);
        let mut args = vec!["create", "--bundle", bundle.path_str()];
        args.extend_from_slice(flags);
        args.push(&id);
        let out = rt.cmd(&args);
        // Guard first, so a create that half-succeeded is still deleted and checked.
        let mut guard = Container::adopt_id(rt, id);
        out.success();
        guard.record();
        guard
    }

    /// Takes charge of a container made some other way (`run --detach`), recording it now.
    pub fn adopt(rt: &'a Runtime, id: &str) -> Container<'a> {
        let mut guard = Container::adopt_id(rt, id.to_owned());
        guard.record();
        guard
    }

    fn adopt_id(rt: &'a Runtime, id: String) -> Container<'a> {
        Container {
            rt,
            id,
            pid: 0,
            cgroup_dirs: Vec::new(),
            deleted: false,
        }
    }

    fn record(&mut self) {
        let state = self.rt.state(&self.id);
        self.pid = state["pid"].as_i64().expect("state has a pid") as i32;
        if procfs::pid_alive(self.pid) {
            self.cgroup_dirs = own_cgroup_dirs(self.pid);
        }
    }

    pub fn state(&self) -> Value {
        self.rt.state(&self.id)
    }

    pub fn status(&self) -> String {
        self.state()["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn start(&self) -> Output {
        self.rt.cmd(&["start", &self.id])
    }

    pub fn kill(&self, signal: &str) -> Output {
        self.rt.cmd(&["kill", &self.id, signal])
    }

    /// Polls `state` until the process has exited (status "stopped").
    pub fn wait_stopped(&self) {
        assert!(
            wait_pid_gone(self.pid),
            "container {} pid {} did not exit",
            self.id,
            self.pid
        );
        assert_eq!(self.status(), "stopped");
    }

    /// The cgroup directories the init was in, other than the test's own.
    pub fn cgroup_dirs(&self) -> &[PathBuf] {
        &self.cgroup_dirs
    }

    /// `delete` (no --force) and the leftover checks; the guard is spent.
    pub fn delete(mut self) -> Output {
        self.deleted = true;
        let out = self.rt.cmd(&["delete", &self.id]);
        if out.code == Some(0) {
            self.assert_gone();
        }
        out
    }

    fn assert_gone(&self) {
        let state_dir = self.rt.state_dir(&self.id);
        assert!(
            !state_dir.exists(),
            "state dir {state_dir:?} left after delete"
        );
        if self.pid > 0 {
            assert!(
                wait_pid_gone(self.pid),
                "pid {} alive after delete",
                self.pid
            );
        }
        for dir in &self.cgroup_dirs {
            assert!(!dir.exists(), "cgroup {dir:?} left after delete");
        }
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        if self.deleted {
            return;
        }
        let out = self.rt.cmd(&["delete", "--force", &self.id]);
        if std::thread::panicking() {
            return;
        }
        assert_eq!(out.code, Some(0), "delete --force failed:\n{out}");
        self.assert_gone();
    }
}

/// PID's cgroup directories, skipping those it shares with the test process (the hierarchy
/// roots, or the test's own memory cgroup): those are not the container's to remove.
fn own_cgroup_dirs(pid: i32) -> Vec<PathBuf> {
    let mine = proc_cgroup(std::process::id() as i32);
    proc_cgroup(pid)
        .into_iter()
        .filter(|e| !mine.contains(e))
        .filter_map(|e| cgroup_dir(&e.controllers, &e.path))
        .collect()
}

/// `run --bundle B <unique id>` in the foreground: the container's stdout and stderr land in
/// the returned Output. Asserts that `run` removed the state dir once the process exited.
pub fn run_container(rt: &Runtime, bundle: &Bundle, name: &str) -> Output {
    let id = unique_name(name);
    let out = rt.cmd(&["run", "--bundle", bundle.path_str(), &id]);
    let state_dir = rt.state_dir(&id);
    if state_dir.exists() {
        let _ = rt.cmd(&["delete", "--force", &id]);
        panic!("run left its state dir {state_dir:?}:\n{out}");
    }
    out
}

/// Runs `sh -c SCRIPT` in a container made from `bundle`, asserting success; returns stdout.
pub fn sh(rt: &Runtime, bundle: &Bundle, script: &str) -> String {
    bundle.args(&["sh", "-c", script]);
    run_container(rt, bundle, "sh").success().stdout
}

/// `create --bundle BUNDLE_ARG ID` that is expected to fail. If it succeeds anyway the
/// container is force-deleted before the failure is reported, so a wrong runtime leaks nothing.
pub fn create_must_fail(rt: &Runtime, bundle_arg: &str, id: &str) -> Output {
    create_must_fail_with(rt, bundle_arg, id, &[])
}

/// `create_must_fail` with global flags (`--log`, ...) before the subcommand.
pub fn create_must_fail_with(rt: &Runtime, bundle_arg: &str, id: &str, global: &[&str]) -> Output {
    let out = rt.cmd_global(global, &["create", "--bundle", bundle_arg, id]);
    if out.code == Some(0) {
        let cleanup = rt.cmd(&["delete", "--force", id]);
        panic!(
            "create should have failed:\n{out}\ncleanup: {:?}",
            cleanup.code
        );
    }
    out
}
