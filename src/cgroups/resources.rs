//! `linux.resources` → the cgroup v1 files to write, in order (pure; see `resources_v2` for v2).
//!
//! libcgroups 0.7 has these mappings, but its v1 controllers are private behind a Manager that
//! resolves paths itself, joins hierarchies in hash order and reports errors without the file
//! and value; so the mapping lives here as data the driver writes and tests can read.
use anyhow::{bail, Result};
use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxNetwork, LinuxResources};

use super::devices;
use super::files::Write;

/// What the memory mapping needs to know about the cgroup as it is now (read by the driver).
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryNow {
    /// memory.limit_in_bytes at this moment (an update may lower or raise it).
    pub limit: u64,
    /// memory.memsw.limit_in_bytes exists (swap accounting is on).
    pub swap_accounting: bool,
}

/// Every v1 write for `r`, devices excluded (see [`devices_v1`]).
pub fn v1_writes(r: &LinuxResources, now: MemoryNow) -> Result<Vec<Write>> {
    if r.unified().as_ref().is_some_and(|u| !u.is_empty()) {
        bail!("invalid configuration: cannot use linux.resources.unified on cgroup v1");
    }
    let mut w = Vec::new();
    if let Some(cpu) = r.cpu() {
        w.extend(cpuset(cpu));
        w.extend(cpu_v1(cpu));
    }
    if let Some(m) = r.memory() {
        w.extend(memory_v1(m, now)?);
    }
    if let Some(p) = r.pids() {
        match p.limit() {
            0 => {}
            n if n < 0 => w.push(Write::new("pids", "pids.max", "max")),
            n => w.push(Write::new("pids", "pids.max", n)),
        }
    }
    if let Some(b) = r.block_io() {
        w.extend(blkio_v1(b));
    }
    for h in r.hugepage_limits().iter().flatten() {
        let size = h.page_size();
        w.push(Write::new(
            "hugetlb",
            format!("hugetlb.{size}.limit_in_bytes"),
            h.limit(),
        ));
        // Reservation limits (kernel 5.7+) stop a task from reserving pages it may not fault in.
        let rsvd = format!("hugetlb.{size}.rsvd.limit_in_bytes");
        w.push(Write::new("hugetlb", rsvd, h.limit()).if_present());
    }
    if let Some(n) = r.network() {
        w.extend(network_v1(n));
    }
    for (dev, limit) in r.rdma().iter().flatten() {
        w.push(Write::new("rdma", "rdma.max", rdma_value(dev, limit)));
    }
    Ok(w)
}

/// The device rules of `r` as v1 writes, always (the devices cgroup is the container's
/// device policy even when the spec lists no rules).
pub fn devices_v1(r: Option<&LinuxResources>) -> Vec<Write> {
    let spec_rules = r.and_then(|r| r.devices().clone()).unwrap_or_default();
    devices::v1_writes(&devices::effective_rules(&spec_rules))
}

fn cpuset(cpu: &LinuxCpu) -> Vec<Write> {
    let mut w = Vec::new();
    if let Some(cpus) = cpu.cpus().as_deref().filter(|s| !s.is_empty()) {
        w.push(Write::new("cpuset", "cpuset.cpus", cpus));
    }
    if let Some(mems) = cpu.mems().as_deref().filter(|s| !s.is_empty()) {
        w.push(Write::new("cpuset", "cpuset.mems", mems));
    }
    w
}

/// The cpu controller as runc sets it: shares; period and burst may need the new quota first;
/// idle; realtime period before runtime (the runtime must fit the period).
fn cpu_v1(cpu: &LinuxCpu) -> Vec<Write> {
    let mut w = Vec::new();
    if let Some(shares) = cpu.shares().filter(|&s| s != 0) {
        w.push(Write::new("cpu", "cpu.shares", shares));
    }
    if let Some(period) = cpu.period().filter(|&p| p != 0) {
        w.push(Write::new("cpu", "cpu.cfs_period_us", period).deferrable());
    }
    if let Some(burst) = cpu.burst() {
        w.push(Write::new("cpu", "cpu.cfs_burst_us", burst).deferrable());
    }
    if let Some(quota) = cpu.quota().filter(|&q| q != 0) {
        w.push(Write::new("cpu", "cpu.cfs_quota_us", quota));
    }
    if let Some(idle) = cpu.idle() {
        w.push(Write::new("cpu", "cpu.idle", idle));
    }
    if let Some(period) = cpu.realtime_period().filter(|&p| p != 0) {
        w.push(Write::new("cpu", "cpu.rt_period_us", period));
    }
    if let Some(runtime) = cpu.realtime_runtime().filter(|&r| r != 0) {
        w.push(Write::new("cpu", "cpu.rt_runtime_us", runtime));
    }
    w
}

/// Memory and swap (memsw = memory + swap) in the order the kernel accepts: memsw may never be
/// below the memory limit, so when the new memsw exceeds today's limit (or is unlimited) it
/// goes first. `kernel` and `kernelTCP` are ignored, as runc does: kernel memory limits are
/// deprecated and kernel 6.18 ignores memory.kmem.limit_in_bytes.
fn memory_v1(m: &LinuxMemory, now: MemoryNow) -> Result<Vec<Write>> {
    let limit = m.limit().unwrap_or(0);
    let mut swap = m.swap().unwrap_or(0);
    if limit == -1 && swap == 0 && now.swap_accounting {
        // Unlimited memory with swap unset means unlimited swap too (or memsw would cap it).
        swap = -1;
    }
    let mem = (limit != 0).then(|| Write::new("memory", "memory.limit_in_bytes", limit));
    let sw = (swap != 0).then(|| Write::new("memory", "memory.memsw.limit_in_bytes", swap));
    let swap_first = limit != 0 && (swap == -1 || (swap > 0 && (swap as u64) > now.limit));
    let mut w: Vec<Write> = if swap_first { [sw, mem] } else { [mem, sw] }
        .into_iter()
        .flatten()
        .collect();
    if let Some(res) = m.reservation().filter(|&r| r != 0) {
        w.push(Write::new("memory", "memory.soft_limit_in_bytes", res));
    }
    if m.disable_oom_killer() == Some(true) {
        w.push(Write::new("memory", "memory.oom_control", 1));
    }
    if let Some(s) = m.swappiness() {
        // -1 read as u64 is "unset" for Docker's clients.
        if s > 100 && s != u64::MAX {
            bail!("invalid memory swappiness value: {s} (valid range is 0-100)");
        }
        if s <= 100 {
            w.push(Write::new("memory", "memory.swappiness", s));
        }
    }
    Ok(w)
}

fn blkio_v1(b: &LinuxBlockIo) -> Vec<Write> {
    let mut w = Vec::new();
    if let Some(weight) = b.weight().filter(|&x| x != 0) {
        w.push(Write::new("blkio", "blkio.bfq.weight", weight).or_file("blkio.weight"));
    }
    if let Some(leaf) = b.leaf_weight().filter(|&x| x != 0) {
        w.push(Write::new("blkio", "blkio.leaf_weight", leaf));
    }
    for d in b.weight_device().iter().flatten() {
        let dev = format!("{}:{}", d.major(), d.minor());
        if let Some(weight) = d.weight().filter(|&x| x != 0) {
            let v = format!("{dev} {weight}");
            w.push(
                Write::new("blkio", "blkio.bfq.weight_device", v).or_file("blkio.weight_device"),
            );
        }
        if let Some(leaf) = d.leaf_weight().filter(|&x| x != 0) {
            w.push(Write::new(
                "blkio",
                "blkio.leaf_weight_device",
                format!("{dev} {leaf}"),
            ));
        }
    }
    let throttles = [
        (
            "blkio.throttle.read_bps_device",
            b.throttle_read_bps_device(),
        ),
        (
            "blkio.throttle.write_bps_device",
            b.throttle_write_bps_device(),
        ),
        (
            "blkio.throttle.read_iops_device",
            b.throttle_read_iops_device(),
        ),
        (
            "blkio.throttle.write_iops_device",
            b.throttle_write_iops_device(),
        ),
    ];
    for (file, devices) in throttles {
        for d in devices.iter().flatten() {
            w.push(Write::new(
                "blkio",
                file,
                format!("{}:{} {}", d.major(), d.minor(), d.rate()),
            ));
        }
    }
    w
}

fn network_v1(n: &LinuxNetwork) -> Vec<Write> {
    let mut w = Vec::new();
    if let Some(id) = n.class_id() {
        w.push(Write::new("net_cls", "net_cls.classid", id));
    }
    for p in n.priorities().iter().flatten() {
        let v = format!("{} {}", p.name(), p.priority());
        w.push(Write::new("net_prio", "net_prio.ifpriomap", v));
    }
    w
}

/// `mlx4_0 hca_handle=2 hca_object=2000`, the same in v1 and v2.
pub fn rdma_value(dev: &str, limit: &oci_spec::runtime::LinuxRdma) -> String {
    let mut v = dev.to_string();
    if let Some(h) = limit.hca_handles() {
        v += &format!(" hca_handle={h}");
    }
    if let Some(o) = limit.hca_objects() {
        v += &format!(" hca_object={o}");
    }
    v
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
