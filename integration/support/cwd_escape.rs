//! The CVE-2024-21626 probe: `process.cwd = /proc/self/fd/N`, for every N in [`PROBED_FDS`],
//! must never leave the container's process in a directory outside the container. A runtime fd
//! (a cgroup directory for clone3, the state dir, the bundle) still open in the init when it
//! does `chdir(cwd)` puts the process in that host directory, and `..` from there walks up to
//! the host's root.
//!
//! The container's process walks up twenty `..` from its cwd and writes where it landed to
//! `/verdict-N` in its own root (absolute paths still resolve in the container's root):
//! `INSIDE` when the container's root marker is there, `ESCAPED` when the bundle's config.json
//! is (a host path the rootfs does not have), `ELSEWHERE` otherwise. An attempt may fail (the
//! fd is no directory, or the runtime refuses the cwd) with a one-line error, or run and
//! report `INSIDE`; anything else is an escape.
use std::ops::RangeInclusive;

use super::bundle::Bundle;
use super::container::Container;
use super::runtime::{Output, Runtime};
use super::scratch::unique_name;
use serde_json::json;

pub const PROBED_FDS: RangeInclusive<u32> = 3..=64;

const MARKER: &str = "inside-marker";

/// A writable busybox bundle whose process reports where `..` from its cwd leads.
pub struct CwdProbe {
    pub bundle: Bundle,
}

impl CwdProbe {
    pub fn new(name: &str) -> CwdProbe {
        let bundle = Bundle::busybox(name);
        bundle.edit(|s| s["root"]["readonly"] = json!(false));
        std::fs::write(bundle.rootfs().join(MARKER), "").expect("write marker");
        CwdProbe { bundle }
    }

    /// The process's shell script for fd `n`.
    pub fn script(&self, n: u32) -> String {
        let host_only = self.bundle.config_path();
        let host_only = host_only
            .to_str()
            .expect("utf-8 path")
            .trim_start_matches('/');
        format!(
            "cd -P {up} 2>/dev/null; \
             if [ -e ./{host_only} ]; then v=ESCAPED; \
             elif [ -e ./{MARKER} ]; then v=INSIDE; else v=ELSEWHERE; fi; \
             echo $v > /verdict-{n}",
            up = "../".repeat(20)
        )
    }

    /// config.json for fd `n`: the cwd under test and the probing script.
    pub fn set_cwd(&self, n: u32) {
        self.set_cwd_path(&format!("/proc/self/fd/{n}"), n);
    }

    /// config.json for any `cwd`; the verdict goes to `/verdict-{tag}`.
    pub fn set_cwd_path(&self, cwd: &str, tag: u32) {
        let script = self.script(tag);
        self.bundle.edit(|s| {
            s["process"]["cwd"] = json!(cwd);
            s["process"]["args"] = json!(["sh", "-c", script]);
        });
    }

    /// What the process wrote for fd `n`, if it ran.
    pub fn verdict(&self, n: u32) -> Option<String> {
        let path = self.bundle.rootfs().join(format!("verdict-{n}"));
        let v = std::fs::read_to_string(&path).ok()?;
        let _ = std::fs::remove_file(&path);
        Some(v.trim().to_string())
    }

    /// None when attempt `n` (whose runtime command gave `out`) stayed contained, else why not.
    pub fn judge(&self, n: u32, out: &Output) -> Option<String> {
        let verdict = self.verdict(n);
        match (out.code, verdict.as_deref()) {
            (Some(0), Some("INSIDE")) => None,
            (Some(0), v) => Some(format!("fd {n}: ran and reported {v:?}")),
            (_, Some(v)) => Some(format!("fd {n}: failed but its process reported {v}")),
            (_, None) if out.stderr.trim().lines().count() == 1 => None,
            (_, None) => Some(format!("fd {n}: error is not one line: {:?}", out.stderr)),
        }
    }
}

fn assert_contained(how: &str, escapes: Vec<String>) {
    assert!(
        escapes.is_empty(),
        "{how}: cwd /proc/self/fd/N left the container:\n{}",
        escapes.join("\n")
    );
}

/// `run` (with `flags` after the subcommand) for every probed fd.
pub fn probe_run(rt: &Runtime, probe: &CwdProbe, flags: &[&str]) {
    let mut escapes = Vec::new();
    for n in PROBED_FDS {
        probe.set_cwd(n);
        let id = unique_name("cwd-run");
        let mut args = vec!["run", "--bundle", probe.bundle.path_str()];
        args.extend_from_slice(flags);
        args.push(&id);
        let out = rt.cmd(&args);
        let _ = rt.cmd(&["delete", "--force", &id]);
        escapes.extend(probe.judge(n, &out));
    }
    assert_contained("run", escapes);
}

/// `create` + `start` for every probed fd.
pub fn probe_create_start(rt: &Runtime, probe: &CwdProbe, flags: &[&str]) {
    let mut escapes = Vec::new();
    for n in PROBED_FDS {
        probe.set_cwd(n);
        let id = unique_name("cwd-create");
        let mut args = vec!["create", "--bundle", probe.bundle.path_str()];
        args.extend_from_slice(flags);
        args.push(&id);
        let out = rt.cmd(&args);
        if out.code != Some(0) {
            escapes.extend(probe.judge(n, &out));
            continue;
        }
        let c = Container::adopt(rt, &id);
        let started = c.start();
        c.wait_stopped();
        c.delete().success();
        escapes.extend(probe.judge(n, &started));
    }
    assert_contained("create + start", escapes);
}

/// `exec --cwd /proc/self/fd/N` into one running container, for every probed fd.
pub fn probe_exec(rt: &Runtime, probe: &CwdProbe, flags: &[&str]) {
    probe.bundle.edit(|s| {
        s["process"]["args"] = json!(["sleep", "1000"]);
        s["process"]["cwd"] = json!("/");
    });
    let c = Container::create_with(rt, &probe.bundle, "cwd-exec", flags);
    c.start().success();
    let mut escapes = Vec::new();
    for n in PROBED_FDS {
        let cwd = format!("/proc/self/fd/{n}");
        let script = probe.script(n);
        let out = rt.cmd(&["exec", "--cwd", &cwd, &c.id, "sh", "-c", &script]);
        escapes.extend(probe.judge(n, &out));
    }
    c.kill("KILL");
    c.wait_stopped();
    c.delete().success();
    assert_contained("exec", escapes);
}
