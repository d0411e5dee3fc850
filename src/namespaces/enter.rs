//! Entering namespaces in the container's first child: join by path, then unshare the new ones.
use std::fs::File;

use anyhow::{Context, Result};
use nix::sched::{setns, unshare, CloneFlags};
use oci_spec::runtime::LinuxTimeOffset;

use super::{clone_flag, NamespacePlan};

/// setns into every namespace the spec names by path, user first.
pub fn join_all(plan: &NamespacePlan) -> Result<()> {
    // Open every path before the first setns: joining a mount namespace changes lookups.
    let files = plan
        .join
        .iter()
        .map(|(t, path)| {
            File::open(path)
                .with_context(|| format!("opening {t:?} namespace path {path:?}"))
                .map(|f| (*t, path, f))
        })
        .collect::<Result<Vec<_>>>()?;
    for (t, path, file) in files {
        setns(&file, clone_flag(t)).with_context(|| format!("joining {t:?} namespace {path:?}"))?;
    }
    Ok(())
}

/// unshare every new namespace except user (created earlier so it owns these) and `except`.
pub fn unshare_new(plan: &NamespacePlan, except: CloneFlags) -> Result<()> {
    let flags = plan.new.difference(except);
    if flags.is_empty() {
        return Ok(());
    }
    unshare(flags).with_context(|| format!("unsharing namespaces {flags:?}"))
}

/// A new time namespace takes its clock offsets before its first process is born.
pub fn write_time_offsets(
    offsets: &std::collections::HashMap<String, LinuxTimeOffset>,
) -> Result<()> {
    let mut text = String::new();
    for (clock, off) in offsets {
        let name = match clock.as_str() {
            "monotonic" | "boottime" => clock.as_str(),
            other => anyhow::bail!("unknown clock {other:?} in linux.timeOffsets"),
        };
        text.push_str(&format!(
            "{name} {} {}\n",
            off.secs().unwrap_or(0),
            off.nanosecs().unwrap_or(0)
        ));
    }
    std::fs::write("/proc/self/timens_offsets", text).context("writing /proc/self/timens_offsets")
}
