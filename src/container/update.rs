//! `update`: new resource limits for a live container, persisted in its record so a later
//! update or exec starts from them. Only the values asked for are written; if the kernel
//! refuses one, the previous values of those same keys are written back: the saved ones, or
//! for a key never set, what a fresh cgroup has (so an earlier write of the same update that
//! did land is undone too). A setting whose file this kernel does not offer is never written
//! back: nothing can have landed there.
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
    tracing::debug!("update: writing {}", serde_json::to_string(delta)?);
    if let Err(e) = driver.update(delta) {
        let cpuset = |file: &str| {
            let dir = driver.cgroup().dirs().of("cpuset")?;
            Some(
                std::fs::read_to_string(dir.join(file))
                    .ok()?
                    .trim()
                    .to_owned(),
            )
        };
        let fresh = fresh_values(cpuset("cpuset.cpus"), cpuset("cpuset.mems"));
        let old = restrict(&merge(&fresh, &current)?, delta)?;
        if let Err(undo) = driver.restore(&old) {
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

/// The values of a new cgroup for the keys `update` can set; cpus and mems are the ones the
/// container has now (a new cpuset cgroup copies its parent's, which may have changed since).
fn fresh_values(cpus: Option<String>, mems: Option<String>) -> LinuxResources {
    let mut cpu = serde_json::json!({
        "shares": 1024, "quota": -1, "period": 100000,
        "realtimeRuntime": 0, "realtimePeriod": 1000000
    });
    if let Some(c) = cpus.filter(|c| !c.is_empty()) {
        cpu["cpus"] = c.into();
    }
    if let Some(m) = mems.filter(|m| !m.is_empty()) {
        cpu["mems"] = m.into();
    }
    let v = serde_json::json!({
        "memory": {"limit": -1, "reservation": -1, "swap": -1},
        "cpu": cpu,
        "pids": {"limit": -1},
        "blockIO": {"weight": 100}
    });
    serde_json::from_value(v).expect("a valid LinuxResources literal")
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

    #[test]
    fn undo_of_a_key_never_set_is_the_fresh_cgroups_value() {
        let cur = res(serde_json::json!({"memory": {"limit": 1000}}));
        let delta = res(serde_json::json!({"memory": {"limit": 5}, "pids": {"limit": 20}}));
        let fresh = fresh_values(Some("0-1".into()), None);
        let old = restrict(&merge(&fresh, &cur).unwrap(), &delta).unwrap();
        let v = serde_json::to_value(old).unwrap();
        assert_eq!(v["memory"]["limit"], 1000);
        assert_eq!(v["pids"]["limit"], -1);
        assert!(v.get("cpu").is_none());
    }
}
