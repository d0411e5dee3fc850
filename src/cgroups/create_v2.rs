//! Creating a cgroup2 directory on a V2 host: a controller's files exist in a cgroup only when
//! its parent lists the controller in `cgroup.subtree_control`, so every ancestor from the
//! root down enables what it has (as runc). A failure to enable one (an ancestor with its own
//! processes, a controller held back by a delegating manager) is not fatal here: the write of
//! a setting that needs it then fails naming the missing file.
use std::path::Path;

use anyhow::{Context, Result};

use super::files;

pub fn create(mount: &Path, dir: &Path) -> Result<()> {
    let below = dir
        .strip_prefix(mount)
        .with_context(|| format!("{dir:?} is not below the cgroup2 mount {mount:?}"))?;
    let mut current = mount.to_path_buf();
    for part in below.components() {
        enable_controllers(&current);
        current.push(part);
        files::mkdir(&current)?;
    }
    Ok(())
}

fn enable_controllers(dir: &Path) {
    let Ok(available) = files::read(&dir.join("cgroup.controllers")) else {
        return;
    };
    let enabled = files::read(&dir.join("cgroup.subtree_control")).unwrap_or_default();
    let missing: Vec<String> = available
        .split_whitespace()
        .filter(|c| !enabled.split_whitespace().any(|e| e == *c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return;
    }
    let control = dir.join("cgroup.subtree_control");
    // One write enables all; if the kernel refuses the set, enable what it accepts one by one.
    if files::write_file(&control, &missing.join(" ")).is_err() {
        for c in &missing {
            let _ = files::write_file(&control, c);
        }
    }
}
