//! `linux.resources` → cgroup v2 files, with the conversions runc uses for v1-shaped values
//! (pure). Read against the kernel's cgroup-v2 documentation: memory.max/low/swap.max (swap is
//! separate in v2, so spec swap − limit), cpu.weight 1..10000 from shares, cpu.max
//! "$MAX $PERIOD", io.max "maj:min rbps= wbps= riops= wiops=", pids.max, hugetlb.<size>.max.
//! memory.high, memory.min, memory.oom.group and any other file come through `unified`.
use anyhow::{bail, Result};
use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources};

use super::files::Write;
use super::resources::rdma_value;

/// What the v2 mapping needs to know about the container's cgroup (read by the driver).
#[derive(Debug, Clone, Default)]
pub struct V2Now {
    /// The controllers in the container's cgroup.controllers.
    pub controllers: Vec<String>,
    /// io.bfq.weight exists (the BFQ scheduler takes blkio-style weights 1..1000).
    pub bfq: bool,
}

pub fn v2_writes(r: &LinuxResources, now: &V2Now) -> Result<Vec<Write>> {
    let mut w = Vec::new();
    if let Some(m) = r.memory() {
        w.extend(memory(m)?);
    }
    if let Some(cpu) = r.cpu() {
        w.extend(cpu_v2(cpu)?);
    }
    if let Some(p) = r.pids().filter(|p| p.limit() != 0) {
        let v = if p.limit() < 0 {
            "max".to_string()
        } else {
            p.limit().to_string()
        };
        w.push(Write::new("pids", "pids.max", v));
    }
    if let Some(b) = r.block_io() {
        w.extend(io(b, now.bfq));
    }
    for h in r.hugepage_limits().iter().flatten() {
        let size = h.page_size();
        w.push(Write::new(
            "hugetlb",
            format!("hugetlb.{size}.max"),
            h.limit(),
        ));
        w.push(Write::new("hugetlb", format!("hugetlb.{size}.rsvd.max"), h.limit()).if_present());
    }
    for (dev, limit) in r.rdma().iter().flatten() {
        w.push(Write::new("rdma", "rdma.max", rdma_value(dev, limit)));
    }
    if r.network()
        .as_ref()
        .is_some_and(|n| n.class_id().is_some() || n.priorities().is_some())
    {
        bail!("linux.resources.network needs the net_cls/net_prio v1 controllers, absent on cgroup v2");
    }
    // Last, so an explicit unified key overrides the converted value, as runc.
    w.extend(unified(r, &now.controllers)?);
    Ok(w)
}

/// runc's shares → weight: a quadratic in log2(shares) through (2, 1), (1024, 100) and
/// (262144, 10000), so the default 1024 shares map to the default weight 100.
pub fn cpu_weight(shares: u64) -> u64 {
    match shares {
        0 => 0,
        1..=2 => 1,
        262144.. => 10000,
        _ => {
            let l = (shares as f64).log2();
            let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
            10f64.powf(exponent).ceil() as u64
        }
    }
}

/// The spec's memory+swap total → memory.swap.max (`None`: leave unset; `-1`: "max").
pub fn swap_max(swap: i64, limit: i64) -> Result<Option<i64>> {
    Ok(match (swap, limit) {
        (0, -1) => Some(-1),
        (0, _) => None,
        (-1, _) | (_, -1) => Some(swap),
        (_, 0) => bail!("unable to set swap limit without memory limit"),
        (_, l) if l < 0 => bail!("invalid memory value: {l}"),
        (s, l) if s < l => bail!("memory+swap limit should be >= memory limit"),
        (s, l) => Some(s - l),
    })
}

/// "max" for -1, the number otherwise.
fn limit_str(v: i64) -> String {
    if v == -1 {
        "max".to_string()
    } else {
        v.to_string()
    }
}

fn memory(m: &LinuxMemory) -> Result<Vec<Write>> {
    if m.disable_oom_killer() == Some(true) {
        bail!("memory.disableOOMKiller is not supported on cgroup v2 (use memory.oom.group)");
    }
    // swappiness has no v2 file and, as in runc, is ignored; kernel limits are obsolete.
    let limit = m.limit().unwrap_or(0);
    let mut w = Vec::new();
    if let Some(swap) = swap_max(m.swap().unwrap_or(0), limit)? {
        // Without swap accounting the file is absent: unlimited or no swap is then a no-op.
        let write = Write::new("memory", "memory.swap.max", limit_str(swap));
        w.push(if swap <= 0 { write.if_present() } else { write });
    }
    if limit != 0 {
        w.push(Write::new("memory", "memory.max", limit_str(limit)));
    }
    if let Some(res) = m.reservation().filter(|&r| r != 0) {
        w.push(Write::new("memory", "memory.low", limit_str(res)));
    }
    Ok(w)
}

fn cpu_v2(cpu: &LinuxCpu) -> Result<Vec<Write>> {
    if cpu.realtime_runtime().is_some_and(|r| r != 0)
        || cpu.realtime_period().is_some_and(|p| p != 0)
    {
        bail!("cpu.realtimeRuntime and cpu.realtimePeriod are not supported on cgroup v2");
    }
    let mut w = Vec::new();
    if let Some(idle) = cpu.idle() {
        w.push(Write::new("cpu", "cpu.idle", idle));
    }
    if let Some(shares) = cpu.shares().filter(|&s| s != 0) {
        w.push(Write::new("cpu", "cpu.weight", cpu_weight(shares)));
    }
    if let Some(burst) = cpu.burst() {
        // A burst above the old quota is refused until the new quota lands.
        w.push(Write::new("cpu", "cpu.max.burst", burst).deferrable());
    }
    let quota = cpu.quota().unwrap_or(0);
    let period = cpu.period().unwrap_or(0);
    if quota != 0 || period != 0 {
        w.push(Write::new("cpu", "cpu.max", cpu_max(quota, period)));
    }
    if let Some(cpus) = cpu.cpus().as_deref().filter(|s| !s.is_empty()) {
        w.push(Write::new("cpuset", "cpuset.cpus", cpus));
    }
    if let Some(mems) = cpu.mems().as_deref().filter(|s| !s.is_empty()) {
        w.push(Write::new("cpuset", "cpuset.mems", mems));
    }
    Ok(w)
}

/// cpu.max: "max" for no (or a negative) quota; the kernel's default period is 100ms.
pub fn cpu_max(quota: i64, period: u64) -> String {
    let max = if quota > 0 {
        quota.to_string()
    } else {
        "max".to_string()
    };
    let period = if period == 0 { 100_000 } else { period };
    format!("{max} {period}")
}

/// blkio weight 10..1000 → io.weight 1..10000 (runc's linear map).
pub fn io_weight(blkio: u16) -> u64 {
    if blkio == 0 {
        return 0;
    }
    1 + (u64::from(blkio).saturating_sub(10)) * 9999 / 990
}

fn io(b: &LinuxBlockIo, bfq: bool) -> Vec<Write> {
    let mut w = Vec::new();
    let weight = |v: u16| if bfq { u64::from(v) } else { io_weight(v) };
    let file = if bfq { "io.bfq.weight" } else { "io.weight" };
    if let Some(v) = b.weight().filter(|&v| v != 0) {
        w.push(Write::new("io", file, weight(v)));
    }
    for d in b.weight_device().iter().flatten() {
        if let Some(v) = d.weight().filter(|&v| v != 0) {
            w.push(Write::new(
                "io",
                file,
                format!("{}:{} {}", d.major(), d.minor(), weight(v)),
            ));
        }
    }
    let throttles = [
        ("rbps", b.throttle_read_bps_device()),
        ("wbps", b.throttle_write_bps_device()),
        ("riops", b.throttle_read_iops_device()),
        ("wiops", b.throttle_write_iops_device()),
    ];
    for (key, devices) in throttles {
        for d in devices.iter().flatten() {
            let v = format!("{}:{} {key}={}", d.major(), d.minor(), d.rate());
            w.push(Write::new("io", "io.max", v));
        }
    }
    w
}

/// The `unified` map: each key is a file in the container's cgroup, `<controller>.<name>`;
/// the controller must be enabled there (`cgroup.*` files are the core's).
fn unified(r: &LinuxResources, controllers: &[String]) -> Result<Vec<Write>> {
    let mut entries: Vec<(&String, &String)> = r.unified().iter().flatten().collect();
    entries.sort();
    let mut w = Vec::new();
    for (key, value) in entries {
        if key.contains('/') {
            bail!("unified resource {key:?} must be a file name (no slashes)");
        }
        let Some((controller, _)) = key.split_once('.') else {
            bail!("unified resource {key:?} must be in the form CONTROLLER.PARAMETER");
        };
        if controller != "cgroup" && !controllers.iter().any(|c| c == controller) {
            bail!("unified resource {key:?} can't be set: controller {controller:?} not available");
        }
        w.push(Write::new("unified", key.as_str(), value));
    }
    Ok(w)
}

#[cfg(test)]
#[path = "resources_v2_tests.rs"]
mod tests;
