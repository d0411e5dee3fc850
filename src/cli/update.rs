//! `shoji update`: resource flags (or `-r resources.json`, `-r -` for stdin) → a partial
//! LinuxResources holding only what was asked for.
use std::io::Read;

use anyhow::{bail, Context, Result};
use oci_spec::runtime::LinuxResources;
use serde_json::{json, Map, Value};

use super::GlobalArgs;
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    /// Path to a file containing the resources to update, or "-" to read from stdin
    #[arg(short = 'r', long)]
    pub resources: Option<String>,
    /// Memory limit (in bytes, or with a k/m/g suffix)
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory reservation or soft_limit (in bytes)
    #[arg(long, allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Total memory usage (memory + swap); set '-1' to enable unlimited swap
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// CPU shares (relative weight vs. other containers)
    #[arg(long, alias = "cpu-share")]
    pub cpu_shares: Option<u64>,
    /// CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU CFS period to be used for hardcapping (in usecs)
    #[arg(long)]
    pub cpu_period: Option<u64>,
    /// CPU realtime hardcap limit (in usecs)
    #[arg(long)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPU realtime period to be used for hardcapping (in usecs)
    #[arg(long)]
    pub cpu_rt_period: Option<u64>,
    /// CPU(s) to use
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Memory node(s) to use
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Maximum number of pids allowed in the container
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Specifies per cgroup weight, range is from 10 to 1000
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    /// The container id
    pub id: String,
}

pub fn run(g: &GlobalArgs, a: UpdateArgs) -> Result<i32> {
    let mut delta = match &a.resources {
        Some(src) => read_resources(src)?,
        None => from_flags(&a)?,
    };
    // As runc's update: device rules are the container's policy from create and stay as they
    // are (containerd's CRI sends the full resources, devices included, on every update).
    if delta.devices().is_some() {
        tracing::debug!("update: device rules are kept as created");
        delta.set_devices(None);
    }
    crate::container::update::update(&Store::new(&g.root)?, &a.id, &delta)?;
    Ok(0)
}

fn read_resources(src: &str) -> Result<LinuxResources> {
    let mut data = Vec::new();
    if src == "-" {
        std::io::stdin()
            .read_to_end(&mut data)
            .context("reading resources from stdin")?;
    } else {
        data = std::fs::read(src).with_context(|| format!("reading resources {src:?}"))?;
    }
    serde_json::from_slice(&data).with_context(|| format!("parsing resources {src:?}"))
}

fn from_flags(a: &UpdateArgs) -> Result<LinuxResources> {
    let mut memory = Map::new();
    let mut put_bytes = |key: &str, v: &Option<String>| -> Result<()> {
        if let Some(s) = v {
            memory.insert(key.into(), json!(parse_bytes(s)?));
        }
        Ok(())
    };
    put_bytes("limit", &a.memory)?;
    put_bytes("reservation", &a.memory_reservation)?;
    put_bytes("swap", &a.memory_swap)?;
    let mut cpu = Map::new();
    let put = |m: &mut Map<String, Value>, key: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(key.into(), v);
        }
    };
    put(&mut cpu, "shares", a.cpu_shares.map(|v| json!(v)));
    put(&mut cpu, "quota", a.cpu_quota.map(|v| json!(v)));
    put(&mut cpu, "period", a.cpu_period.map(|v| json!(v)));
    put(
        &mut cpu,
        "realtimeRuntime",
        a.cpu_rt_runtime.map(|v| json!(v)),
    );
    put(
        &mut cpu,
        "realtimePeriod",
        a.cpu_rt_period.map(|v| json!(v)),
    );
    put(&mut cpu, "cpus", a.cpuset_cpus.clone().map(Value::String));
    put(&mut cpu, "mems", a.cpuset_mems.clone().map(Value::String));
    let mut res = Map::new();
    if !memory.is_empty() {
        res.insert("memory".into(), Value::Object(memory));
    }
    if !cpu.is_empty() {
        res.insert("cpu".into(), Value::Object(cpu));
    }
    if let Some(p) = a.pids_limit {
        res.insert("pids".into(), json!({"limit": p}));
    }
    if let Some(w) = a.blkio_weight {
        res.insert("blockIO".into(), json!({"weight": w}));
    }
    // No flag at all is a no-op that succeeds, as in runc.
    serde_json::from_value(Value::Object(res)).context("building resources from flags")
}

/// Docker's RAMInBytes, as runc's flags take it: `1024`, `512k`, `100m`, `1g`, `1.5g`, `-1`.
pub fn parse_bytes(s: &str) -> Result<i64> {
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (num, suffix) = lower.split_at(digits_end);
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid size {s:?}"))?;
    let mult: f64 = match suffix.trim_end_matches('b').trim_end_matches('i') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0f64.powi(4),
        _ => bail!("invalid size {s:?}"),
    };
    Ok((n * mult) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("1024").unwrap(), 1024);
        assert_eq!(parse_bytes("512k").unwrap(), 512 * 1024);
        assert_eq!(parse_bytes("100M").unwrap(), 100 << 20);
        assert_eq!(parse_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("2mb").unwrap(), 2 << 20);
        assert_eq!(parse_bytes("-1").unwrap(), -1);
        assert!(parse_bytes("ten").is_err() && parse_bytes("5x").is_err());
    }
}
