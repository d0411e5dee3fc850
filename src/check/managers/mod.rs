//! Each manager's cgroup driver, from its own configuration where it is installed, and the
//! rules across them: the kubelet and the runtime it talks to must agree, and nobody may pick
//! `systemd` where PID 1 is not systemd.
//!
//! Inputs: files under the checked root. Outputs: one [`ManagerConfig`] per installed manager
//! and findings. Invariants: each manager's parser (in its own file) is a pure function of the
//! files' text and is table-tested there; the driver a manager uses when its configuration
//! says nothing is its documented default, reported as such.
use std::ops::Range;

use serde::Serialize;

use super::layout::Layout;
use super::{Evidence, Finding, HostRoot, Severity};
use crate::cgroups::CgroupMode;

mod agreement;
mod containerd;
mod crio;
mod docker;
mod kubelet;
mod podman;

pub use agreement::agreement;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    Cgroupfs,
    Systemd,
}

impl Driver {
    pub fn parse(value: &str) -> Option<Driver> {
        match value {
            "cgroupfs" => Some(Driver::Cgroupfs),
            "systemd" => Some(Driver::Systemd),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Driver::Cgroupfs => "cgroupfs",
            Driver::Systemd => "systemd",
        }
    }
}

/// A driver and where it was chosen: a file and line, or the manager's default (then `line`
/// is None and `file` is where it would be set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub driver: Driver,
    pub file: String,
    pub line: Option<usize>,
    /// The exact change that makes this setting `systemd` / `cgroupfs`.
    pub to_systemd: String,
    pub to_cgroupfs: String,
}

impl Setting {
    pub fn evidence(&self) -> Evidence {
        Evidence::file(&self.file, self.line)
    }

    pub fn fix_to(&self, driver: Driver) -> &str {
        match driver {
            Driver::Systemd => &self.to_systemd,
            Driver::Cgroupfs => &self.to_cgroupfs,
        }
    }

    /// "set at FILE:LINE" or "the default; FILE does not set it".
    pub fn origin(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => format!("the default, {} does not set it", self.file),
        }
    }
}

/// The change at `file:line` replacing that line with `new_line`, or adding it.
pub fn line_fix(file: &str, line: Option<usize>, new_line: &str, add_under: &str) -> String {
    match line {
        Some(line) => format!("{file}:{line}: {new_line}"),
        None => format!("{file}: add `{new_line}` {add_under}"),
    }
}

/// One runtime a manager starts containers with (containerd and CRI-O runtime handlers, a
/// docker runtime), or the manager itself when it has a single driver setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeDriver {
    /// Empty when the configuration names no runtime (the manager's built-in default).
    pub name: String,
    /// The OCI runtime binary, when configured.
    pub binary: Option<String>,
    pub setting: Setting,
    pub is_default: bool,
}

/// An installed manager and the drivers it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerConfig {
    pub manager: &'static str,
    pub runtimes: Vec<RuntimeDriver>,
}

/// The kubelet, apart: it is the one whose driver every runtime must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeletConfig {
    pub setting: Setting,
    /// Its CRI endpoint, e.g. `unix:///run/containerd/containerd.sock`.
    pub endpoint: String,
    pub fail_cgroup_v1: Option<(bool, Setting)>,
}

/// Every installed manager's configuration.
#[derive(Debug, Clone, Default)]
pub struct Configs {
    pub kubelet: Option<KubeletConfig>,
    pub managers: Vec<ManagerConfig>,
}

/// Read each installed manager's configuration; one info finding per driver in use.
pub fn inspect(root: &HostRoot, layout: Option<&Layout>, out: &mut Vec<Finding>) -> Configs {
    let systemd_booted = root.exists("/run/systemd/system");
    let v2 = layout.is_some_and(|l| l.mounts.mode == CgroupMode::V2);
    let mut configs = Configs {
        kubelet: kubelet::inspect(root, out),
        managers: Vec::new(),
    };
    let found = [
        containerd::inspect(root, out),
        crio::inspect(root, out),
        docker::inspect(root, v2 && systemd_booted, out),
        podman::inspect(root, systemd_booted, out),
    ];
    configs.managers.extend(found.into_iter().flatten());
    if let Some(k) = &configs.kubelet {
        let message = format!(
            "kubelet: cgroup driver {} ({}), runtime endpoint {}",
            k.setting.driver.name(),
            k.setting.origin(),
            k.endpoint
        );
        out.push(Finding::new(Severity::Info, "driver.kubelet", message).at(k.setting.evidence()));
    }
    for m in &configs.managers {
        for r in &m.runtimes {
            out.push(runtime_finding(m.manager, r));
        }
    }
    configs
}

fn runtime_finding(manager: &str, r: &RuntimeDriver) -> Finding {
    let runtime = match (r.name.as_str(), r.is_default) {
        ("", _) => String::new(),
        (name, true) => format!(" runtime {name} (default)"),
        (name, false) => format!(" runtime {name}"),
    };
    let binary = r
        .binary
        .as_deref()
        .map(|b| format!(", binary {b}"))
        .unwrap_or_default();
    let message = format!(
        "{manager}:{runtime} uses cgroup driver {} ({}){binary}",
        r.setting.driver.name(),
        r.setting.origin()
    );
    Finding::new(Severity::Info, "driver.runtime", message).at(r.setting.evidence())
}

/// A configuration file that exists but cannot be read or parsed: the manager is unchecked.
pub fn unreadable(file: &str, why: impl std::fmt::Display) -> Finding {
    Finding::new(
        Severity::Unchecked,
        "driver.config",
        format!("cannot understand {file}: {why}"),
    )
    .at(Evidence::file(file, None))
}

/// The 1-based line where `span` (a byte range of `text`) starts.
pub fn line_at(text: &str, span: Option<Range<usize>>) -> Option<usize> {
    let start = span?.start.min(text.len());
    Some(text[..start].matches('\n').count() + 1)
}

/// The 1-based line of the first line of `text` containing `needle`.
pub fn line_containing(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// A TOML document, keeping the byte spans of its values (for line numbers).
pub fn parse_toml(text: &str) -> Result<toml_edit::Document<&str>, String> {
    toml_edit::Document::parse(text).map_err(|e| {
        // The error is a multi-line excerpt: its first line has the position, its last the cause.
        let full = e.to_string();
        let mut lines = full.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next().unwrap_or_default().to_string();
        match lines.next_back() {
            Some(cause) => format!("{first}: {cause}"),
            None => first,
        }
    })
}

/// The item at `keys` below `doc`'s root, whatever the syntax (tables, dotted keys, inline).
pub fn toml_get<'a>(
    doc: &'a toml_edit::Document<&str>,
    keys: &[&str],
) -> Option<&'a toml_edit::Item> {
    keys.iter()
        .try_fold(doc.as_item(), |item, key| item.get(*key))
}
