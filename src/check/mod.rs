//! check: `shoji check`, a read-only diagnosis of a node's cgroup setup.
//!
//! Inputs: files under a root directory (`/` or `--root-dir`): /proc/self/mountinfo, the cgroup
//! trees under /sys/fs/cgroup, the configuration of each installed manager (kubelet,
//! containerd, CRI-O, docker, podman); on the live root also systemd over D-Bus. Output: a
//! [`Report`] of findings, each with a severity, the evidence (file and line, or cgroup path)
//! and the fix. Runs in the runtime parent, as root or not.
//! Invariants: nothing is written, created or started; every parser is a pure function of a
//! file's text (table-tested beside it); a file that cannot be read or parsed becomes an
//! `unchecked` finding, never a guess.
//!
//! Files: `host` (reading under the root), `layout` (v1 / hybrid / v2, controllers, PID 1,
//! kernel features), `managers/` (each manager's cgroup driver and the agreement rules),
//! `damage` (literal `slice:prefix:name` directories, empty pod slices), `render` (text and
//! JSON).
use serde::Serialize;

mod damage;
mod host;
mod layout;
mod managers;
pub mod render;

pub use host::HostRoot;

/// How bad a finding is. `Unchecked` means something could not be read or understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Unchecked,
}

/// Where a finding comes from: a line of a file, or a cgroup directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Evidence {
    File {
        path: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<usize>,
    },
    Cgroup {
        path: String,
    },
}

impl Evidence {
    pub fn file(path: &str, line: Option<usize>) -> Self {
        Evidence::File {
            path: path.to_string(),
            line,
        }
    }

    pub fn cgroup(path: impl Into<String>) -> Self {
        Evidence::Cgroup { path: path.into() }
    }
}

/// One thing `check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier, e.g. `layout.mode` or `driver.mismatch` (documented in README).
    pub check: &'static str,
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// The exact change that resolves it, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    pub fn new(severity: Severity, check: &'static str, message: impl Into<String>) -> Self {
        Finding {
            severity,
            check,
            message: message.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    pub fn at(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// Everything `check` found, in the order it looked.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// 1 when an error was found, else 2 when something could not be checked, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.has(Severity::Error) {
            1
        } else if self.has(Severity::Unchecked) {
            2
        } else {
            0
        }
    }

    fn has(&self, severity: Severity) -> bool {
        self.findings.iter().any(|f| f.severity == severity)
    }
}

/// Look at the node under `root`: layout first (the managers' rules depend on it), then each
/// manager's driver and their agreement, then damage already done.
pub fn run(root: &HostRoot) -> Report {
    let mut findings = Vec::new();
    let layout = layout::inspect(root, &mut findings);
    let configs = managers::inspect(root, layout.as_ref(), &mut findings);
    managers::agreement(&configs, layout.as_ref(), &mut findings);
    if let Some(layout) = &layout {
        damage::inspect(root, layout, &mut findings);
    }
    Report { findings }
}
