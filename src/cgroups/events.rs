//! The JSON of `runc events`: `{"type":"stats"|"oom","id":…,"data":…}` with `data` in runc's
//! `types.Stats` shape (types/events.go). Field names and omission follow runc: numbers,
//! strings and lists marked omitempty vanish when zero or empty; nested structs are always
//! written, as runc 1.1 (Debian's, the one on these machines) writes them — runc ≥ 1.2 built
//! with Go ≥ 1.24 tags them omitzero and drops all-zero ones; clients parse both. PSI (a
//! pointer in runc) appears only where the kernel has pressure files.
use std::collections::BTreeMap;

use serde::Serialize;

/// One line of `events` output.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Stats>,
}

fn zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub cpu: Cpu,
    pub cpuset: CpuSet,
    pub memory: Memory,
    pub pids: Pids,
    pub blkio: Blkio,
    pub hugetlb: BTreeMap<String, Hugetlb>,
    pub intel_rdt: IntelRdt,
    /// runc fills this only for containers it knows the network of; shoji never does.
    pub network_interfaces: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cpu {
    pub usage: CpuUsage,
    pub throttling: Throttling,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi: Option<Psi>,
}

/// Nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CpuUsage {
    #[serde(skip_serializing_if = "zero")]
    pub total: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_kernel: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_user: Vec<u64>,
    pub kernel: u64,
    pub user: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    #[serde(skip_serializing_if = "zero")]
    pub periods: u64,
    #[serde(skip_serializing_if = "zero")]
    pub throttled_periods: u64,
    #[serde(skip_serializing_if = "zero")]
    pub throttled_time: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CpuSet {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<u16>,
    pub cpu_exclusive: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mems: Vec<u16>,
    pub mem_hardwall: u64,
    pub mem_exclusive: u64,
    pub memory_migrate: u64,
    pub memory_spread_page: u64,
    pub memory_spread_slab: u64,
    pub memory_pressure: u64,
    pub sched_load_balance: u64,
    pub sched_relax_domain_level: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    #[serde(skip_serializing_if = "zero")]
    pub cache: u64,
    pub usage: MemoryEntry,
    pub swap: MemoryEntry,
    pub kernel: MemoryEntry,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi: Option<Psi>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MemoryEntry {
    pub limit: u64,
    #[serde(skip_serializing_if = "zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "zero")]
    pub max: u64,
    pub failcnt: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pids {
    #[serde(skip_serializing_if = "zero")]
    pub current: u64,
    #[serde(skip_serializing_if = "zero")]
    pub limit: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blkio {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
    #[serde(rename = "ioQueueRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_queued_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_service_time_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_wait_time_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_merged_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_time_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sectors_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi: Option<Psi>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BlkioEntry {
    #[serde(skip_serializing_if = "zero")]
    pub major: u64,
    #[serde(skip_serializing_if = "zero")]
    pub minor: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub op: String,
    #[serde(skip_serializing_if = "zero")]
    pub value: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Hugetlb {
    #[serde(skip_serializing_if = "zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "zero")]
    pub max: u64,
    pub failcnt: u64,
}

/// Intel RDT is not supported: runc writes `{}` when it has none.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IntelRdt {}

/// Pressure stall information (v2 `*.pressure` files).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Psi {
    #[serde(skip_serializing_if = "zero")]
    pub some: PsiData,
    #[serde(skip_serializing_if = "zero")]
    pub full: PsiData,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PsiData {
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_stats_match_runc_omission() {
        let json = serde_json::to_string(&Stats::default()).unwrap();
        assert_eq!(
            json,
            r#"{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},"memory":{"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}"#
        );
    }

    #[test]
    fn event_field_names() {
        let mut s = Stats::default();
        s.cpu.usage = CpuUsage {
            total: 5,
            percpu: vec![2, 3],
            kernel: 1,
            user: 4,
            ..Default::default()
        };
        s.cpu.throttling.throttled_periods = 2;
        s.memory.usage = MemoryEntry {
            limit: 10,
            usage: 7,
            max: 8,
            failcnt: 0,
        };
        s.memory.kernel_tcp.limit = 1;
        s.blkio.io_queued_recursive.push(BlkioEntry {
            major: 8,
            minor: 0,
            op: "Read".into(),
            value: 1,
        });
        s.hugetlb.insert("2MB".into(), Hugetlb::default());
        let v = serde_json::to_value(Event {
            kind: "stats".into(),
            id: "c1".into(),
            data: Some(s),
        })
        .unwrap();
        assert_eq!(v["type"], "stats");
        assert_eq!(
            v["data"]["cpu"]["usage"],
            serde_json::json!({"total":5,"percpu":[2,3],"kernel":1,"user":4})
        );
        assert_eq!(
            v["data"]["cpu"]["throttling"],
            serde_json::json!({"throttledPeriods":2})
        );
        assert_eq!(
            v["data"]["memory"]["usage"],
            serde_json::json!({"limit":10,"usage":7,"max":8,"failcnt":0})
        );
        assert_eq!(
            v["data"]["memory"]["kernelTCP"],
            serde_json::json!({"limit":1,"failcnt":0})
        );
        assert_eq!(v["data"]["blkio"]["ioQueueRecursive"][0]["op"], "Read");
        assert_eq!(
            v["data"]["hugetlb"]["2MB"],
            serde_json::json!({"failcnt":0})
        );
        let oom = serde_json::to_string(&Event {
            kind: "oom".into(),
            id: "c1".into(),
            data: None,
        })
        .unwrap();
        assert_eq!(oom, r#"{"type":"oom","id":"c1"}"#);
    }
}
