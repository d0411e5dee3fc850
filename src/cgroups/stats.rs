//! Reading a container's usage from its cgroup files into runc's `events` shape.
//!
//! libcgroups' own `Stats` serializes with its own names (`usage_total`, `fail_count`, no
//! percpu kernel/user split, no PSI totals) and its Manager reads real mounts only, so the
//! readers here take directories (a fake tree in tests) and use libcgroups' file parsers.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{anyhow, Result};
use libcgroups::stats::parse_single_value;

use super::dirs::ContainerDirs;
use super::events::{BlkioEntry, Hugetlb, MemoryEntry, Pids, Psi, PsiData, Stats};
use super::{files, CgroupMode};

/// USER_HZ: cpuacct.stat counts in clock ticks of 1/100 s on every Linux architecture.
const NS_PER_TICK: u64 = 10_000_000;

pub fn read(dirs: &ContainerDirs) -> Result<Stats> {
    if dirs.mode == CgroupMode::V2 {
        return super::stats_v2::read(
            dirs.unified
                .as_deref()
                .ok_or_else(|| anyhow!("no cgroup2 mount"))?,
        );
    }
    let mut s = Stats::default();
    if let Some(dir) = dirs.of("cpuacct") {
        cpuacct(dir, &mut s)?;
    }
    if let Some(dir) = dirs.of("cpu") {
        let t = flat(&dir.join("cpu.stat"))?;
        s.cpu.throttling.periods = get(&t, "nr_periods");
        s.cpu.throttling.throttled_periods = get(&t, "nr_throttled");
        s.cpu.throttling.throttled_time = get(&t, "throttled_time");
    }
    if let Some(dir) = dirs.of("cpuset") {
        cpuset(dir, &mut s)?;
    }
    if let Some(dir) = dirs.of("memory") {
        memory(dir, &mut s)?;
    }
    if let Some(dir) = dirs.of("pids") {
        s.pids = pids(dir)?;
    }
    if let Some(dir) = dirs.of("blkio") {
        blkio(dir, &mut s)?;
    }
    if let Some(dir) = dirs.of("hugetlb") {
        for size in page_sizes(dir, ".usage_in_bytes")? {
            let f = |name: &str| single(&dir.join(format!("hugetlb.{size}.{name}")));
            let entry = Hugetlb {
                usage: f("usage_in_bytes")?,
                max: f("max_usage_in_bytes")?,
                failcnt: f("failcnt")?,
            };
            s.hugetlb.insert(size, entry);
        }
    }
    Ok(s)
}

pub fn single(file: &Path) -> Result<u64> {
    parse_single_value(file).map_err(|e| anyhow!("{e}"))
}

/// A flat-keyed file (`key value` per line). libcgroups 0.7 keeps its parser crate-private.
pub fn flat(file: &Path) -> Result<HashMap<String, u64>> {
    let mut map = HashMap::new();
    for line in files::read(file)?.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        let value = value
            .trim()
            .parse()
            .map_err(|_| anyhow!("parsing {file:?}: bad line {line:?}"))?;
        map.insert(key.to_string(), value);
    }
    Ok(map)
}

pub fn get(map: &HashMap<String, u64>, key: &str) -> u64 {
    map.get(key).copied().unwrap_or(0)
}

/// pids.current and pids.max ("max" is no limit, reported as 0 as runc does).
pub fn pids(dir: &Path) -> Result<Pids> {
    let limit = single(&dir.join("pids.max"))?;
    Ok(Pids {
        current: single(&dir.join("pids.current"))?,
        limit: if limit == u64::MAX { 0 } else { limit },
    })
}

/// The hugepage sizes for which `dir` has `hugetlb.<size><suffix>`, sorted.
pub fn page_sizes(dir: &Path, suffix: &str) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow!("reading {dir:?}: {}", files::errno_text(&e)))?;
    let mut sizes: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let size = name.strip_prefix("hugetlb.")?.strip_suffix(suffix)?;
            (!size.contains('.')).then(|| size.to_string())
        })
        .collect();
    sizes.sort();
    Ok(sizes)
}

fn cpuacct(dir: &Path, s: &mut Stats) -> Result<()> {
    let u = &mut s.cpu.usage;
    u.total = single(&dir.join("cpuacct.usage"))?;
    let t = flat(&dir.join("cpuacct.stat"))?;
    u.user = get(&t, "user") * NS_PER_TICK;
    u.kernel = get(&t, "system") * NS_PER_TICK;
    u.percpu = numbers(&files::read(&dir.join("cpuacct.usage_percpu"))?)?;
    // usage_all: a "cpu user system" header, then one line per cpu in nanoseconds.
    let all = dir.join("cpuacct.usage_all");
    if all.exists() {
        for line in files::read(&all)?.lines().skip(1) {
            let cols = numbers(line)?;
            if let [_, user, system] = cols[..] {
                u.percpu_user.push(user);
                u.percpu_kernel.push(system);
            }
        }
    }
    Ok(())
}

fn numbers(text: &str) -> Result<Vec<u64>> {
    text.split_whitespace()
        .map(|n| n.parse().map_err(|_| anyhow!("bad number {n:?}")))
        .collect()
}

fn cpuset(dir: &Path, s: &mut Stats) -> Result<()> {
    let c = &mut s.cpuset;
    c.cpus = cpu_list(files::read(&dir.join("cpuset.cpus"))?.trim())?;
    c.mems = cpu_list(files::read(&dir.join("cpuset.mems"))?.trim())?;
    let num = |name: &str| single(&dir.join(format!("cpuset.{name}")));
    c.cpu_exclusive = num("cpu_exclusive")?;
    c.mem_hardwall = num("mem_hardwall")?;
    c.mem_exclusive = num("mem_exclusive")?;
    c.memory_migrate = num("memory_migrate")?;
    c.memory_spread_page = num("memory_spread_page")?;
    c.memory_spread_slab = num("memory_spread_slab")?;
    c.sched_load_balance = num("sched_load_balance")?;
    let level = files::read(&dir.join("cpuset.sched_relax_domain_level"))?;
    c.sched_relax_domain_level = level.trim().parse().unwrap_or(-1);
    // memory_pressure exists only in the root cpuset.
    c.memory_pressure = num("memory_pressure").unwrap_or(0);
    Ok(())
}

/// `0-2,5` → [0, 1, 2, 5].
pub fn cpu_list(text: &str) -> Result<Vec<u16>> {
    let mut out = Vec::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let bad = || anyhow!("bad cpu list {text:?}");
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (u16, u16) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
        out.extend(a..=b);
    }
    Ok(out)
}

fn memory(dir: &Path, s: &mut Stats) -> Result<()> {
    let raw = flat(&dir.join("memory.stat"))?;
    s.memory.cache = get(&raw, "cache");
    s.memory.raw = raw.into_iter().collect::<BTreeMap<_, _>>();
    s.memory.usage = memory_entry(dir, "memory")?.unwrap_or_default();
    // Swap and kernel accounting are optional in the kernel: absent files mean no data.
    s.memory.swap = memory_entry(dir, "memory.memsw")?.unwrap_or_default();
    s.memory.kernel = memory_entry(dir, "memory.kmem")?.unwrap_or_default();
    s.memory.kernel_tcp = memory_entry(dir, "memory.kmem.tcp")?.unwrap_or_default();
    Ok(())
}

fn memory_entry(dir: &Path, prefix: &str) -> Result<Option<MemoryEntry>> {
    let file = |name: &str| dir.join(format!("{prefix}.{name}"));
    if !file("usage_in_bytes").exists() {
        return Ok(None);
    }
    Ok(Some(MemoryEntry {
        usage: single(&file("usage_in_bytes"))?,
        max: single(&file("max_usage_in_bytes"))?,
        failcnt: single(&file("failcnt"))?,
        // kmem.limit_in_bytes is gone from newer kernels.
        limit: single(&file("limit_in_bytes")).unwrap_or(0),
    }))
}

/// runc reads the CFQ files, else BFQ's, else the throttle counters (always there).
fn blkio(dir: &Path, s: &mut Stats) -> Result<()> {
    let prefix = ["blkio.", "blkio.bfq.", "blkio.throttle."]
        .into_iter()
        .find(|p| dir.join(format!("{p}io_service_bytes_recursive")).exists());
    let Some(prefix) = prefix else {
        return Ok(());
    };
    let list = |name: &str| -> Result<Vec<BlkioEntry>> {
        let file = dir.join(format!("{prefix}{name}"));
        if !file.exists() {
            return Ok(Vec::new());
        }
        blkio_entries(&files::read(&file)?)
    };
    let b = &mut s.blkio;
    b.io_service_bytes_recursive = list("io_service_bytes_recursive")?;
    b.io_serviced_recursive = list("io_serviced_recursive")?;
    b.io_queued_recursive = list("io_queued_recursive")?;
    b.io_service_time_recursive = list("io_service_time_recursive")?;
    b.io_wait_time_recursive = list("io_wait_time_recursive")?;
    b.io_merged_recursive = list("io_merged_recursive")?;
    b.io_time_recursive = list("time_recursive")?;
    b.sectors_recursive = list("sectors_recursive")?;
    Ok(())
}

/// Lines `8:0 Read 4096` (or `8:0 4096` without an op); the `Total` line is dropped.
pub fn blkio_entries(text: &str) -> Result<Vec<BlkioEntry>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let Some((major, minor)) = f.first().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let bad = || anyhow!("bad blkio line {line:?}");
        let (op, value) = match f[1..] {
            [op, v] => (op.to_string(), v),
            [v] => (String::new(), v),
            _ => return Err(bad()),
        };
        out.push(BlkioEntry {
            major: major.parse().map_err(|_| bad())?,
            minor: minor.parse().map_err(|_| bad())?,
            op,
            value: value.parse().map_err(|_| bad())?,
        });
    }
    Ok(out)
}

/// A v2 `*.pressure` file: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` (+ `full …`).
pub fn psi(file: &Path) -> Result<Option<Psi>> {
    if !file.exists() {
        return Ok(None);
    }
    let mut p = Psi::default();
    for line in files::read(file)?.lines() {
        let mut fields = line.split_whitespace();
        let slot = match fields.next() {
            Some("some") => &mut p.some,
            Some("full") => &mut p.full,
            _ => continue,
        };
        *slot = psi_data(fields, file)?;
    }
    Ok(Some(p))
}

fn psi_data<'a>(fields: impl Iterator<Item = &'a str>, file: &Path) -> Result<PsiData> {
    let mut d = PsiData::default();
    for kv in fields {
        let bad = || anyhow!("parsing {file:?}: bad field {kv:?}");
        let (k, v) = kv.split_once('=').ok_or_else(bad)?;
        match k {
            "avg10" => d.avg10 = v.parse().map_err(|_| bad())?,
            "avg60" => d.avg60 = v.parse().map_err(|_| bad())?,
            "avg300" => d.avg300 = v.parse().map_err(|_| bad())?,
            "total" => d.total = v.parse().map_err(|_| bad())?,
            _ => {}
        }
    }
    Ok(d)
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
