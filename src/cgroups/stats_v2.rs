//! cgroup v2 usage in runc's `events` shape: cpu.stat (µs → ns), memory.current/max/peak/
//! events and memory.stat, swap reported as memory+swap (v1's meaning, as runc does),
//! pids, io.stat as v1-style Read/Write entries, hugetlb current/events, and PSI.
use std::path::Path;

use anyhow::Result;

use super::events::{BlkioEntry, Hugetlb, MemoryEntry, Stats};
use super::files;
use super::stats::{flat, get, page_sizes, pids, psi, single};

pub fn read(dir: &Path) -> Result<Stats> {
    let mut s = Stats::default();
    let exists = |name: &str| dir.join(name).exists();
    let cpu = flat(&dir.join("cpu.stat"))?;
    s.cpu.usage.total = get(&cpu, "usage_usec") * 1000;
    s.cpu.usage.user = get(&cpu, "user_usec") * 1000;
    s.cpu.usage.kernel = get(&cpu, "system_usec") * 1000;
    s.cpu.throttling.periods = get(&cpu, "nr_periods");
    s.cpu.throttling.throttled_periods = get(&cpu, "nr_throttled");
    s.cpu.throttling.throttled_time = get(&cpu, "throttled_usec") * 1000;
    s.cpu.psi = psi(&dir.join("cpu.pressure"))?;
    if exists("memory.current") {
        memory(dir, &mut s)?;
    }
    if exists("pids.current") {
        s.pids = pids(dir)?;
    }
    if exists("io.stat") {
        s.blkio.io_service_bytes_recursive =
            io_entries(&files::read(&dir.join("io.stat"))?, "bytes");
        s.blkio.io_serviced_recursive = io_entries(&files::read(&dir.join("io.stat"))?, "ios");
    }
    s.blkio.psi = psi(&dir.join("io.pressure"))?;
    for size in page_sizes(dir, ".current")? {
        let events = flat(&dir.join(format!("hugetlb.{size}.events")))?;
        let usage = single(&dir.join(format!("hugetlb.{size}.current")))?;
        s.hugetlb.insert(
            size,
            Hugetlb {
                usage,
                max: 0,
                failcnt: get(&events, "max"),
            },
        );
    }
    Ok(s)
}

fn memory(dir: &Path, s: &mut Stats) -> Result<()> {
    let raw = flat(&dir.join("memory.stat"))?;
    s.memory.cache = get(&raw, "file");
    s.memory.raw = raw.into_iter().collect();
    let events = flat(&dir.join("memory.events"))?;
    let peak = dir.join("memory.peak");
    let usage = MemoryEntry {
        usage: single(&dir.join("memory.current"))?,
        limit: single(&dir.join("memory.max"))?,
        max: if peak.exists() { single(&peak)? } else { 0 },
        failcnt: get(&events, "max"),
    };
    if dir.join("memory.swap.current").exists() {
        let swap_limit = single(&dir.join("memory.swap.max"))?;
        s.memory.swap = MemoryEntry {
            usage: single(&dir.join("memory.swap.current"))? + usage.usage,
            limit: if swap_limit == u64::MAX {
                swap_limit
            } else {
                swap_limit.saturating_add(usage.limit)
            },
            max: 0,
            failcnt: 0,
        };
    }
    s.memory.usage = usage;
    s.memory.psi = psi(&dir.join("memory.pressure"))?;
    Ok(())
}

/// io.stat lines `8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0` → Read/Write entries
/// for `kind` "bytes" or "ios".
pub fn io_entries(text: &str, kind: &str) -> Vec<BlkioEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some((major, minor)) = fields.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else {
            continue;
        };
        for kv in fields {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let op = match k.strip_suffix(kind) {
                Some("r") => "Read",
                Some("w") => "Write",
                _ => continue,
            };
            let value = v.parse().unwrap_or(0);
            out.push(BlkioEntry {
                major,
                minor,
                op: op.to_string(),
                value,
            });
        }
    }
    out
}
