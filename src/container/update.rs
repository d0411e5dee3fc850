//! `update`: new resource limits for a live container, persisted in its record so a later
//! update or exec starts from them. Only the values asked for are written; if the kernel
//! refuses one, the previous values of those same keys are written back.
use anyhow::{Context, Result};
use oci_spec::runtime::LinuxResources;
use serde_json::Value;

use crate::cgroups;
use crate::state::{require_status, Status, Store};

pub fn update(store: &Store, id: &str, delta: &LinuxResources) -> Result<()> {
    let dir = store.open(id)?;
    let mut record = dir.load()?;
    require_status(
        &record,
        &dir.fifo_path(),
        &[Status::Created, Status::Running, Status::Paused],
    )?;
    let current = record
        .config
        .linux()
        .as_ref()
        .and_then(|l| l.resources().clone())
        .unwrap_or_default();
    let driver = cgroups::driver(&record.cgroup)?;
    if let Err(e) = driver.update(delta) {
        let old = restrict(&current, delta)?;
        if let Err(undo) = driver.update(&old) {
            tracing::warn!("restoring previous limits after a failed update: {undo:#}");
        }
        return Err(e).context("unable to apply cgroup configuration");
    }
    let merged = merge(&current, delta)?;
    let mut linux = record.config.linux().clone().unwrap_or_default();
    linux.set_resources(Some(merged));
    record.config.set_linux(Some(linux));
    dir.save(&record)
}

/// `current` with every field that `delta` sets replaced (objects merge key by key).
pub fn merge(current: &LinuxResources, delta: &LinuxResources) -> Result<LinuxResources> {
    let mut base = serde_json::to_value(current)?;
    deep_merge(&mut base, serde_json::to_value(delta)?);
    serde_json::from_value(base).context("merging resources")
}

fn deep_merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    continue;
                }
                deep_merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// The values `current` has for exactly the keys `delta` sets (for undo).
fn restrict(current: &LinuxResources, delta: &LinuxResources) -> Result<LinuxResources> {
    fn pick(cur: &Value, shape: &Value) -> Value {
        match (cur, shape) {
            (Value::Object(c), Value::Object(s)) => Value::Object(
                s.iter()
                    .filter_map(|(k, v)| c.get(k).map(|cv| (k.clone(), pick(cv, v))))
                    .collect(),
            ),
            (c, _) => c.clone(),
        }
    }
    let picked = pick(
        &serde_json::to_value(current)?,
        &serde_json::to_value(delta)?,
    );
    serde_json::from_value(picked).context("restoring resources")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(v: Value) -> LinuxResources {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn second_update_keeps_the_firsts_other_values() {
        let first = res(serde_json::json!({"memory": {"limit": 1000}, "pids": {"limit": 10}}));
        let second = res(serde_json::json!({"memory": {"reservation": 500}}));
        let m = merge(&first, &second).unwrap();
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["memory"]["limit"], 1000);
        assert_eq!(v["memory"]["reservation"], 500);
        assert_eq!(v["pids"]["limit"], 10);
    }

    #[test]
    fn undo_picks_only_the_changed_keys() {
        let cur = res(
            serde_json::json!({"memory": {"limit": 1000, "swap": 2000}, "pids": {"limit": 10}}),
        );
        let delta = res(serde_json::json!({"memory": {"limit": 5}}));
        let v = serde_json::to_value(restrict(&cur, &delta).unwrap()).unwrap();
        assert_eq!(v["memory"]["limit"], 1000);
        assert!(v["memory"].get("swap").is_none() && v.get("pids").is_none());
    }
}
