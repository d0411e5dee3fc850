//! Pure translation of a unit's identity and `linux.resources` into the systemd properties of
//! StartTransientUnit / SetUnitProperties. The D-Bus signature of every value is fixed here (a
//! wrong one, say `u` for `t`, makes systemd reject the whole call), and `dbus.rs` only encodes.
use anyhow::{bail, Context, Result};
use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources, LinuxThrottleDevice};

/// systemd's USEC_INFINITY / "infinity" for the `t` limits.
const INFINITY: u64 = u64::MAX;
/// The kernel's default CFS period, used when only a quota is given.
const DEFAULT_CPU_PERIOD: u64 = 100_000;

/// A property value with the exact D-Bus type systemd expects for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `b`
    Bool(bool),
    /// `t`
    U64(u64),
    /// `s`
    Str(String),
    /// `as`
    Strs(Vec<String>),
    /// `au`
    U32s(Vec<u32>),
    /// `ay`
    Bytes(Vec<u8>),
    /// `a(st)`: device path and a number (bandwidth, IOPS, weight).
    PathU64s(Vec<(String, u64)>),
    /// `a(ss)`: device path or group and permissions.
    PathStrs(Vec<(String, String)>),
}

impl Value {
    /// The D-Bus signature this value is sent with.
    pub fn signature(&self) -> &'static str {
        match self {
            Value::Bool(_) => "b",
            Value::U64(_) => "t",
            Value::Str(_) => "s",
            Value::Strs(_) => "as",
            Value::U32s(_) => "au",
            Value::Bytes(_) => "ay",
            Value::PathU64s(_) => "a(st)",
            Value::PathStrs(_) => "a(ss)",
        }
    }
}

/// One `(sv)` entry of a unit's property array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub value: Value,
}

fn prop(name: &'static str, value: Value) -> Property {
    Property { name, value }
}

/// The fixed properties of a new unit: where it goes, who is in it, and that the container's
/// runtime manages the cgroup below it (Delegate). `DefaultDependencies=false` keeps a scope
/// out of shutdown ordering, so systemd does not stop containers for unrelated jobs.
pub fn unit_properties(unit: &str, slice: &str, pid: u32, v2: bool) -> Vec<Property> {
    let mut props = vec![prop(
        "Description",
        Value::Str(format!("shoji container {unit}")),
    )];
    if unit.ends_with(".slice") {
        // A slice's parent is given by its name; Wants= makes sure that parent is started.
        props.push(prop("Wants", Value::Strs(vec![slice.to_string()])));
    } else {
        props.push(prop("Slice", Value::Str(slice.to_string())));
        props.push(prop("Delegate", Value::Bool(true)));
    }
    props.push(prop("PIDs", Value::U32s(vec![pid])));
    // Accounting on every controller realizes them all for the unit, as the cgroupfs driver
    // would, so the stats and limits files exist.
    let io_accounting = if v2 {
        "IOAccounting"
    } else {
        "BlockIOAccounting"
    };
    for name in [
        "MemoryAccounting",
        "CPUAccounting",
        io_accounting,
        "TasksAccounting",
    ] {
        props.push(prop(name, Value::Bool(true)));
    }
    props.push(prop("DefaultDependencies", Value::Bool(false)));
    props
}

/// What systemd can express of `linux.resources`, and the CPU quota the file writer must use.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ResourceProperties {
    pub properties: Vec<Property>,
    /// systemd keeps CPU quotas in whole percents; when the spec's quota is finer it is rounded
    /// up, and the cgroup files must get the same rounded value or the two disagree.
    pub cpu_quota: Option<i64>,
}

/// Translate resources for cgroup v2 (`v2`) or v1 (and hybrid, whose controllers are v1).
/// Device rules are not among them: the files get those once, at create, and so does the
/// unit (see `device_allow`).
pub fn resource_properties(r: &LinuxResources, v2: bool) -> Result<ResourceProperties> {
    let mut out = ResourceProperties::default();
    if let Some(memory) = r.memory() {
        memory_properties(memory, v2, &mut out.properties)?;
    }
    if let Some(cpu) = r.cpu() {
        out.cpu_quota = cpu_properties(cpu, v2, &mut out.properties)?;
    }
    if let Some(pids) = r.pids() {
        // systemd refuses TasksMax=0; pids.max 1 behaves the same (runc does this too).
        let max = match pids.limit() {
            l if l < 0 => INFINITY,
            0 => 1,
            l => l as u64,
        };
        out.properties.push(prop("TasksMax", Value::U64(max)));
    }
    if let Some(blkio) = r.block_io() {
        io_properties(blkio, v2, &mut out.properties);
    }
    if let (Some(unified), true) = (r.unified(), v2) {
        unified_properties(unified, &mut out.properties)?;
    }
    Ok(out)
}

/// `unified` keys systemd has a property for (as runc maps them), so that a daemon-reload
/// keeps what the files say. They win over the typed fields, as they do in the files.
fn unified_properties(
    unified: &std::collections::HashMap<String, String>,
    props: &mut Vec<Property>,
) -> Result<()> {
    let mut keys: Vec<&String> = unified.keys().collect();
    keys.sort();
    for key in keys {
        let name = match key.as_str() {
            "memory.high" => "MemoryHigh",
            "memory.low" => "MemoryLow",
            "memory.min" => "MemoryMin",
            "memory.max" => "MemoryMax",
            "memory.swap.max" => "MemorySwapMax",
            "pids.max" => "TasksMax",
            "cpu.weight" => "CPUWeight",
            _ => continue,
        };
        let value = match unified[key].trim() {
            "max" => INFINITY,
            n => n.parse().map_err(|_| {
                anyhow::anyhow!("linux.resources.unified: {key} = {n:?} is not a number or \"max\"")
            })?,
        };
        props.retain(|p| p.name != name);
        props.push(prop(name, Value::U64(value)));
    }
    Ok(())
}

/// A spec limit of -1 means unlimited; systemd spells that as the `t` infinity.
fn limit(value: i64) -> u64 {
    if value < 0 {
        INFINITY
    } else {
        value as u64
    }
}

fn memory_properties(m: &LinuxMemory, v2: bool, props: &mut Vec<Property>) -> Result<()> {
    if !v2 {
        // systemd's v1 memory support is MemoryLimit= only; swap, reservation and swappiness
        // go to the files.
        if let Some(l) = m.limit().filter(|l| *l != 0) {
            props.push(prop("MemoryLimit", Value::U64(limit(l))));
        }
        return Ok(());
    }
    if let Some(l) = m.limit().filter(|l| *l != 0) {
        props.push(prop("MemoryMax", Value::U64(limit(l))));
    }
    if let Some(l) = m.reservation().filter(|l| *l != 0) {
        props.push(prop("MemoryLow", Value::U64(limit(l))));
    }
    if let Some(swap) = swap_max(m.swap().unwrap_or(0), m.limit().unwrap_or(0))? {
        props.push(prop("MemorySwapMax", Value::U64(swap)));
    }
    Ok(())
}

/// The spec's swap is memory+swap (v1 semantics); v2's memory.swap.max is swap alone.
fn swap_max(swap: i64, memory: i64) -> Result<Option<u64>> {
    Ok(match (swap, memory) {
        // Unlimited memory with swap unset: unlimited swap too, as on v1.
        (0, -1) => Some(INFINITY),
        (0, _) => None,
        (-1, _) | (_, -1) => Some(limit(swap)),
        (_, 0) => bail!("unable to set swap limit without memory limit"),
        (s, m) if s < m => bail!("memory+swap limit ({s}) should be >= memory limit ({m})"),
        (s, m) => Some((s - m) as u64),
    })
}

fn cpu_properties(cpu: &LinuxCpu, v2: bool, props: &mut Vec<Property>) -> Result<Option<i64>> {
    if v2 && cpu.idle() == Some(1) {
        // CPUWeight=0 is systemd's way to set cpu.idle=1; it replaces any weight.
        props.push(prop("CPUWeight", Value::U64(0)));
    } else if let Some(shares) = cpu.shares().filter(|s| *s != 0) {
        let (name, value) = if v2 {
            ("CPUWeight", shares_to_weight(shares))
        } else {
            ("CPUShares", shares)
        };
        props.push(prop(name, Value::U64(value)));
    }
    let quota = cpu_quota(cpu.quota().unwrap_or(0), cpu.period().unwrap_or(0), props);
    if let Some(cpus) = cpu.cpus().as_deref().filter(|s| !s.is_empty()) {
        let bits = range_to_bits(cpus).with_context(|| format!("cpu.cpus {cpus:?}"))?;
        props.push(prop("AllowedCPUs", Value::Bytes(bits)));
    }
    if let Some(mems) = cpu.mems().as_deref().filter(|s| !s.is_empty()) {
        let bits = range_to_bits(mems).with_context(|| format!("cpu.mems {mems:?}"))?;
        props.push(prop("AllowedMemoryNodes", Value::Bytes(bits)));
    }
    Ok(quota)
}

/// cpu.shares [2, 262144] → cpu.weight [1, 10000] on the quadratic curve runc uses, which maps
/// the default 1024 to the default 100 and both ends to both ends.
pub fn shares_to_weight(shares: u64) -> u64 {
    match shares {
        0 => 0,
        1..=2 => 1,
        262_144.. => 10_000,
        s => {
            let l = (s as f64).log2();
            let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
            10f64.powf(exponent).ceil() as u64
        }
    }
}

/// CPUQuotaPerSecUSec (and CPUQuotaPeriodUSec when a period is given). Returns the quota the
/// files must be written with when systemd's 10 ms granularity rounded it up.
fn cpu_quota(quota: i64, period: u64, props: &mut Vec<Property>) -> Option<i64> {
    if period != 0 {
        props.push(prop("CPUQuotaPeriodUSec", Value::U64(period)));
    }
    if quota == 0 && period == 0 {
        return None;
    }
    if quota <= 0 {
        props.push(prop("CPUQuotaPerSecUSec", Value::U64(INFINITY)));
        return None;
    }
    let period = if period == 0 {
        DEFAULT_CPU_PERIOD
    } else {
        period
    };
    let mut per_sec = quota as u64 * 1_000_000 / period;
    let mut adjusted = None;
    if !per_sec.is_multiple_of(10_000) {
        per_sec = (per_sec / 10_000 + 1) * 10_000;
        adjusted = Some((per_sec * period / 1_000_000) as i64);
    }
    props.push(prop("CPUQuotaPerSecUSec", Value::U64(per_sec)));
    adjusted
}

/// A cpuset list ("0-2,7") as the little-endian byte mask AllowedCPUs= takes over D-Bus.
pub fn range_to_bits(list: &str) -> Result<Vec<u8>> {
    let mut bytes: Vec<u8> = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (start, end) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u32>()?, b.trim().parse::<u32>()?),
            None => {
                let n = part.parse::<u32>()?;
                (n, n)
            }
        };
        if start > end {
            bail!("invalid range {part:?}");
        }
        for bit in start..=end {
            let byte = (bit / 8) as usize;
            if bytes.len() <= byte {
                bytes.resize(byte + 1, 0);
            }
            bytes[byte] |= 1 << (bit % 8);
        }
    }
    if bytes.is_empty() {
        bail!("empty cpu list");
    }
    Ok(bytes)
}

/// blkio.weight [10, 1000] → io.weight [1, 10000], linearly (runc's formula).
pub fn blkio_to_io_weight(weight: u16) -> u64 {
    if weight == 0 {
        return 0;
    }
    1 + (u64::from(weight).saturating_sub(10)) * 9999 / 990
}

fn io_properties(b: &LinuxBlockIo, v2: bool, props: &mut Vec<Property>) {
    let weight = |w: u16| {
        if v2 {
            blkio_to_io_weight(w)
        } else {
            u64::from(w)
        }
    };
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        let name = if v2 { "IOWeight" } else { "BlockIOWeight" };
        props.push(prop(name, Value::U64(weight(w))));
    }
    let per_device: Vec<(String, u64)> = b
        .weight_device()
        .iter()
        .flatten()
        .filter_map(|d| Some((block_path(d.major(), d.minor()), weight(d.weight()?))))
        .collect();
    if !per_device.is_empty() {
        let name = if v2 {
            "IODeviceWeight"
        } else {
            "BlockIODeviceWeight"
        };
        props.push(prop(name, Value::PathU64s(per_device)));
    }
    // systemd has no v1 IOPS limits: those go to the files only.
    let throttles: [(
        &'static str,
        &'static str,
        &Option<Vec<LinuxThrottleDevice>>,
    ); 4] = [
        (
            "IOReadBandwidthMax",
            "BlockIOReadBandwidth",
            b.throttle_read_bps_device(),
        ),
        (
            "IOWriteBandwidthMax",
            "BlockIOWriteBandwidth",
            b.throttle_write_bps_device(),
        ),
        ("IOReadIOPSMax", "", b.throttle_read_iops_device()),
        ("IOWriteIOPSMax", "", b.throttle_write_iops_device()),
    ];
    for (v2_name, v1_name, devices) in throttles {
        let name = if v2 { v2_name } else { v1_name };
        let Some(devices) = devices
            .as_ref()
            .filter(|d| !d.is_empty() && !name.is_empty())
        else {
            continue;
        };
        let entries = devices
            .iter()
            .map(|d| (block_path(d.major(), d.minor()), d.rate()))
            .collect();
        props.push(prop(name, Value::PathU64s(entries)));
    }
}

/// systemd resolves a block device by path; /dev/block/MAJ:MIN names it by number.
fn block_path(major: i64, minor: i64) -> String {
    format!("/dev/block/{major}:{minor}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(json: &str) -> LinuxResources {
        serde_json::from_str(json).unwrap()
    }

    fn find<'a>(props: &'a [Property], name: &str) -> Option<&'a Value> {
        props.iter().find(|p| p.name == name).map(|p| &p.value)
    }

    #[test]
    fn maps_resources_per_cgroup_version() {
        use Value::*;
        let spec = r#"{"memory": {"limit": 104857600, "reservation": 52428800, "swap": 209715200},
            "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-2,7", "mems": "0"},
            "pids": {"limit": 50},
            "blockIO": {"weight": 500,
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]}}"#;
        let r = resources(spec);
        let v1 = resource_properties(&r, false).unwrap().properties;
        let v2 = resource_properties(&r, true).unwrap().properties;
        let cases: [(&[Property], &str, Option<Value>); 18] = [
            (&v1, "MemoryLimit", Some(U64(104857600))),
            (&v1, "MemoryMax", None),
            (&v1, "MemoryLow", None),
            (&v1, "CPUShares", Some(U64(512))),
            (&v1, "CPUWeight", None),
            (&v1, "BlockIOWeight", Some(U64(500))),
            (
                &v1,
                "BlockIOReadBandwidth",
                Some(PathU64s(vec![("/dev/block/8:0".into(), 1048576)])),
            ),
            (&v1, "IOWriteIOPSMax", None),
            (&v2, "MemoryMax", Some(U64(104857600))),
            (&v2, "MemoryLow", Some(U64(52428800))),
            (&v2, "MemorySwapMax", Some(U64(104857600))),
            (&v2, "CPUWeight", Some(U64(shares_to_weight(512)))),
            (&v2, "IOWeight", Some(U64(blkio_to_io_weight(500)))),
            (
                &v2,
                "IOReadBandwidthMax",
                Some(PathU64s(vec![("/dev/block/8:0".into(), 1048576)])),
            ),
            (
                &v2,
                "IOWriteIOPSMax",
                Some(PathU64s(vec![("/dev/block/8:0".into(), 100)])),
            ),
            (&v2, "CPUQuotaPerSecUSec", Some(U64(500_000))),
            (&v2, "CPUQuotaPeriodUSec", Some(U64(100_000))),
            (&v2, "AllowedCPUs", Some(Bytes(vec![0b1000_0111]))),
        ];
        for (props, name, want) in cases {
            assert_eq!(find(props, name), want.as_ref(), "{name}");
        }
        for props in [&v1, &v2] {
            assert_eq!(find(props, "TasksMax"), Some(&U64(50)));
            assert_eq!(find(props, "AllowedMemoryNodes"), Some(&Bytes(vec![1])));
        }
    }

    #[test]
    fn signatures_match_systemd() {
        let r = resources(
            r#"{"memory": {"limit": 1}, "cpu": {"shares": 2, "quota": 1, "cpus": "1"},
                "pids": {"limit": 1}, "blockIO": {"weight": 10,
                "throttleReadBpsDevice": [{"major": 1, "minor": 1, "rate": 1}]}}"#,
        );
        let mut props = resource_properties(&r, true).unwrap().properties;
        let rules: Vec<oci_spec::runtime::LinuxDeviceCgroup> =
            serde_json::from_str(r#"[{"allow": false}, {"allow": true, "type": "c"}]"#).unwrap();
        let groups = super::super::device_allow::DeviceGroups::default();
        props.extend(super::super::device_allow::properties(&rules, &groups).properties);
        props.extend(unit_properties("p-n.scope", "a.slice", 7, true));
        props.extend(unit_properties("a-b.slice", "a.slice", 7, true));
        let want = [
            ("MemoryMax", "t"),
            ("CPUWeight", "t"),
            ("CPUQuotaPerSecUSec", "t"),
            ("AllowedCPUs", "ay"),
            ("TasksMax", "t"),
            ("IOWeight", "t"),
            ("IOReadBandwidthMax", "a(st)"),
            ("DeviceAllow", "a(ss)"),
            ("DevicePolicy", "s"),
            ("PIDs", "au"),
            ("Delegate", "b"),
            ("Slice", "s"),
            ("Wants", "as"),
            ("Description", "s"),
            ("DefaultDependencies", "b"),
            ("MemoryAccounting", "b"),
        ];
        for (name, sig) in want {
            let p = props
                .iter()
                .find(|p| p.name == name)
                .unwrap_or_else(|| panic!("{name}"));
            assert_eq!(p.value.signature(), sig, "{name}");
        }
    }

    #[test]
    fn scope_and_slice_units() {
        let scope = unit_properties("cri-containerd-345def.scope", "kubepods.slice", 42, false);
        assert_eq!(
            find(&scope, "Slice"),
            Some(&Value::Str("kubepods.slice".into()))
        );
        assert_eq!(find(&scope, "Delegate"), Some(&Value::Bool(true)));
        assert_eq!(find(&scope, "PIDs"), Some(&Value::U32s(vec![42])));
        assert_eq!(find(&scope, "BlockIOAccounting"), Some(&Value::Bool(true)));
        assert_eq!(
            find(&scope, "DefaultDependencies"),
            Some(&Value::Bool(false))
        );
        let slice = unit_properties("kubepods-a.slice", "kubepods.slice", 42, true);
        assert_eq!(find(&slice, "Slice"), None);
        assert_eq!(find(&slice, "Delegate"), None);
        assert_eq!(
            find(&slice, "Wants"),
            Some(&Value::Strs(vec!["kubepods.slice".into()]))
        );
        assert_eq!(find(&slice, "IOAccounting"), Some(&Value::Bool(true)));
    }

    #[test]
    fn cpu_quota_rounds_up_to_ten_milliseconds() {
        // (quota, period) → (CPUQuotaPerSecUSec, quota for the files when rounded)
        let cases = [
            (50_000, 100_000, Some(500_000), None),
            (12_345, 100_000, Some(130_000), Some(13_000)),
            (25_000, 0, Some(250_000), None),
            (1, 100_000, Some(10_000), Some(1_000)),
            (-1, 100_000, Some(u64::MAX), None),
            (0, 0, None, None),
        ];
        for (quota, period, per_sec, adjusted) in cases {
            let mut props = Vec::new();
            assert_eq!(
                cpu_quota(quota, period, &mut props),
                adjusted,
                "{quota}/{period}"
            );
            assert_eq!(
                find(&props, "CPUQuotaPerSecUSec"),
                per_sec.map(Value::U64).as_ref()
            );
            let want_period = (period != 0).then_some(Value::U64(period));
            assert_eq!(find(&props, "CPUQuotaPeriodUSec"), want_period.as_ref());
        }
    }

    #[test]
    fn unified_keys_with_a_property() {
        let r = resources(
            r#"{"memory": {"limit": 1000}, "unified": {"memory.high": "209715200",
                "memory.min": "max", "memory.max": "4096", "io.max": "8:0 rbps=1"}}"#,
        );
        let props = resource_properties(&r, true).unwrap().properties;
        assert_eq!(find(&props, "MemoryHigh"), Some(&Value::U64(209715200)));
        assert_eq!(find(&props, "MemoryMin"), Some(&Value::U64(INFINITY)));
        assert_eq!(find(&props, "MemoryMax"), Some(&Value::U64(4096)));
        assert_eq!(props.iter().filter(|p| p.name == "MemoryMax").count(), 1);
        let v1 = resource_properties(&r, false).unwrap().properties;
        assert!(find(&v1, "MemoryHigh").is_none());
        let bad = resources(r#"{"unified": {"pids.max": "lots"}}"#);
        assert!(resource_properties(&bad, true).is_err());
    }

    #[test]
    fn conversions() {
        for (shares, weight) in [(0, 0), (2, 1), (1024, 100), (262_144, 10_000), (512, 59)] {
            assert_eq!(shares_to_weight(shares), weight, "shares {shares}");
        }
        for (blkio, io) in [(0, 0), (10, 1), (1000, 10_000), (500, 4950)] {
            assert_eq!(blkio_to_io_weight(blkio), io, "blkio {blkio}");
        }
        for (list, bits) in [
            ("0", vec![1]),
            ("0-2,7", vec![0x87]),
            ("8", vec![0, 1]),
            ("1,,3", vec![0xa]),
        ] {
            assert_eq!(range_to_bits(list).unwrap(), bits, "{list}");
        }
        for bad in ["", "3-1", "a", "1-b"] {
            assert!(range_to_bits(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_edge_cases() {
        let unlimited = resource_properties(&resources(r#"{"memory": {"limit": -1}}"#), true);
        let p = unlimited.unwrap().properties;
        assert_eq!(find(&p, "MemoryMax"), Some(&Value::U64(u64::MAX)));
        assert_eq!(find(&p, "MemorySwapMax"), Some(&Value::U64(u64::MAX)));
        let pids0 = resource_properties(&resources(r#"{"pids": {"limit": 0}}"#), false).unwrap();
        assert_eq!(find(&pids0.properties, "TasksMax"), Some(&Value::U64(1)));
        let bad = [
            r#"{"memory": {"swap": 10}}"#,
            r#"{"memory": {"limit": 20, "swap": 10}}"#,
        ];
        for spec in bad {
            assert!(
                resource_properties(&resources(spec), true).is_err(),
                "{spec}"
            );
        }
    }
}
