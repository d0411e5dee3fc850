//! Property tests over everything `create` decides from untrusted input before it makes
//! anything: the config loader and validators (spec, rootfs, cgroups::plan, namespaces) and
//! both cgroupsPath parsers (cgroupfs path cleaning, systemd `slice:prefix:name`).
//!
//! Inputs are structured but hostile: a valid config mutated at random paths and at the fields
//! that matter, with odd unicode, NUL bytes, newlines, `..`, huge and negative numbers, type
//! confusion, deep nesting, very long strings and truncated JSON. Properties: no panic, no
//! hang (each property runs under a watchdog), and every error renders as one line (the
//! `{:#}` chain main prints and the JSON log carries). Fixed case counts keep `cargo test
//! --lib` bounded; `PROPTEST_CASES=N` raises them (the case count is printed).
use std::path::{Component, Path};
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

use crate::cgroups::{self, path};

/// Cases per property when PROPTEST_CASES is unset: about 10 s in all on 2 busy cores.
const CONFIG_CASES: u32 = 1000;
const PATH_CASES: u32 = 5000;
/// A property with no verdict by then has a case that hangs.
const HANG_LIMIT: Duration = Duration::from_secs(300);
/// Longer than PATH_MAX and any name limit, short enough to keep a case fast.
const LONG: usize = 5_000;

/// Runs `test` over the inputs `strategy()` makes, on its own thread (the strategy is built
/// there: proptest's boxed strategies are not Send), failing on a counterexample or a hang.
fn check<S>(name: &str, default_cases: u32, strategy: fn() -> S, test: fn(S::Value) -> TestResult)
where
    S: Strategy + 'static,
    S::Value: std::fmt::Debug,
{
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let (done, verdict) = mpsc::channel();
    std::thread::spawn(move || {
        let mut runner = TestRunner::new(config);
        let _ = done.send(runner.run(&strategy(), test).map_err(|e| e.to_string()));
    });
    match verdict.recv_timeout(HANG_LIMIT) {
        Ok(Ok(())) => eprintln!("{name}: {cases} cases, no panic, every error one line"),
        Ok(Err(e)) => panic!("{name}: {e}"),
        Err(_) => panic!("{name}: no verdict after {HANG_LIMIT:?}: a case hangs"),
    }
}

type TestResult = Result<(), TestCaseError>;

fn one_line(what: &str, result: anyhow::Result<()>) -> TestResult {
    if let Err(e) = result {
        let rendered = format!("{e:#}");
        prop_assert!(
            !rendered.contains('\n'),
            "{what}: multi-line error: {rendered:?}"
        );
    }
    Ok(())
}

fn hostile_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("..".to_string()),
        Just(".".to_string()),
        Just("/".to_string()),
        Just(":".to_string()),
        Just("-".to_string()),
        Just(".slice".to_string()),
        Just("\0".to_string()),
        Just("\n".to_string()),
        Just("\r\n\t\u{1b}[31m".to_string()),
        Just("\u{202e}\u{feff}\u{0301}é😀".to_string()),
        Just("\\x2d".to_string()),
        Just("a".repeat(LONG)),
        "[a-z0-9_]{1,12}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
}

fn hostile_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(-1)),
        Just(json!(4294967295u64)),
        Just(json!(2147483648u64)),
        Just(json!(9007199254740993u64)),
        Just(json!(1e308)),
        Just(json!(-0.0)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
    ]
}

fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        hostile_string().prop_map(Value::String),
        hostile_number(),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((hostile_string(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A valid config: `shoji spec`'s default with the fields the validators look at set.
fn base_config() -> Value {
    let mut spec = crate::spec::default_spec(false, 0, 0);
    spec["linux"]["cgroupsPath"] = json!("/fuzz/c1");
    spec["linux"]["rootfsPropagation"] = json!("rprivate");
    spec["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10,
        "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}]);
    spec["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
    spec
}

/// The fields the validators read, as JSON pointers (their parent must exist in the base).
const FIELDS: &[&str] = &[
    "/ociVersion",
    "/root/path",
    "/process/cwd",
    "/process/args",
    "/process/args/0",
    "/process/env/0",
    "/process/user/uid",
    "/process/user/additionalGids",
    "/process/rlimits/0/type",
    "/process/capabilities/bounding/0",
    "/hostname",
    "/domainname",
    "/mounts/1/options/0",
    "/mounts/1/type",
    "/mounts/1/destination",
    "/mounts/0/source",
    "/linux/cgroupsPath",
    "/linux/rootfsPropagation",
    "/linux/namespaces/0/type",
    "/linux/namespaces/0/path",
    "/linux/uidMappings",
    "/linux/devices/0/path",
    "/linux/devices/0/type",
    "/linux/devices/0/major",
    "/linux/sysctl/net.ipv4.ip_forward",
    "/linux/maskedPaths/0",
    "/linux/resources/memory",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Set the field at FIELDS[i] to a hostile value of the type it has, so the config still
    /// parses and the validators behind the parser are reached: the string, the number, a
    /// one-string array or a one-member object.
    Typed(usize, String, Value),
    /// Set the field at FIELDS[i] to anything.
    Field(usize, Value),
    /// Walk down choosing children by these numbers, then replace what is there.
    Replace(Vec<usize>, Value),
    /// Walk down, then remove that member.
    Remove(Vec<usize>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let walk = || prop::collection::vec(any::<usize>(), 1..6);
    prop_oneof![
        4 => (0..FIELDS.len(), hostile_string(), hostile_number())
            .prop_map(|(i, s, n)| Mutation::Typed(i, s, n)),
        2 => (0..FIELDS.len(), hostile_value()).prop_map(|(i, v)| Mutation::Field(i, v)),
        2 => (walk(), hostile_value()).prop_map(|(w, v)| Mutation::Replace(w, v)),
        1 => walk().prop_map(Mutation::Remove),
    ]
}

/// The child a walk step picks: an object member by key order, an array element.
fn child_key(v: &Value, step: usize) -> Option<String> {
    match v {
        Value::Object(m) if !m.is_empty() => m.keys().nth(step % m.len()).cloned(),
        Value::Array(a) if !a.is_empty() => Some((step % a.len()).to_string()),
        _ => None,
    }
}

fn apply(spec: &mut Value, m: &Mutation) {
    match m {
        Mutation::Typed(i, text, number) => {
            if let Some(slot) = spec.pointer_mut(FIELDS[*i]) {
                let typed = match &*slot {
                    Value::String(_) => Value::String(text.clone()),
                    Value::Number(_) => number.clone(),
                    Value::Array(_) => json!([text]),
                    Value::Object(_) => json!({ text.clone(): text }),
                    other => other.clone(),
                };
                *slot = typed;
            }
        }
        Mutation::Field(i, v) => {
            if let Some(slot) = spec.pointer_mut(FIELDS[*i]) {
                *slot = v.clone();
            }
        }
        Mutation::Replace(walk, _) | Mutation::Remove(walk) => {
            let mut node = spec;
            for (n, step) in walk.iter().enumerate() {
                let Some(key) = child_key(node, *step) else {
                    return;
                };
                let last = n + 1 == walk.len();
                match (last, m, &mut *node) {
                    (true, Mutation::Remove(_), Value::Object(o)) => {
                        o.remove(&key);
                        return;
                    }
                    (true, Mutation::Remove(_), Value::Array(a)) => {
                        a.remove(key.parse::<usize>().unwrap_or(0));
                        return;
                    }
                    _ => {}
                }
                node = match node {
                    Value::Object(o) => o.get_mut(&key).expect("key exists"),
                    Value::Array(a) => &mut a[key.parse::<usize>().unwrap_or(0)],
                    _ => return,
                };
                if last {
                    if let Mutation::Replace(_, v) = m {
                        *node = v.clone();
                    }
                }
            }
        }
    }
}

/// How the mutated config reaches the loader: whole, cut short, or with one byte changed.
#[derive(Debug, Clone)]
enum Bytes {
    Whole,
    Truncated(usize),
    Flipped(usize, u8),
}

fn config_case() -> impl Strategy<Value = (Vec<Mutation>, Bytes)> {
    let bytes = prop_oneof![
        6 => Just(Bytes::Whole),
        1 => any::<usize>().prop_map(Bytes::Truncated),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Bytes::Flipped(i, b)),
    ];
    (prop::collection::vec(mutation(), 0..6), bytes)
}

/// A bundle directory with a rootfs; config.json is rewritten per case.
fn bundle_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"));
    std::fs::create_dir_all(dir.path().join("rootfs")).expect("mkdir rootfs");
    dir.path()
}

/// Everything `create` decides before it makes anything, in its order.
fn plan_create(bundle: &Path, systemd: bool) -> anyhow::Result<()> {
    let v = crate::spec::validate(crate::spec::load_bundle(bundle)?)?;
    crate::rootfs::validate(&v.spec, false)?;
    crate::namespaces::plan(&v.spec);
    cgroups::plan(&v.spec, "fuzz", systemd).map(|_| ())
}

fn config_property((mutations, bytes): (Vec<Mutation>, Bytes)) -> TestResult {
    let mut spec = base_config();
    for m in &mutations {
        apply(&mut spec, m);
    }
    let mut data = serde_json::to_vec(&spec).expect("serialize");
    match bytes {
        Bytes::Whole => {}
        Bytes::Truncated(at) => data.truncate(at % (data.len() + 1)),
        Bytes::Flipped(at, b) => {
            let i = at % data.len();
            data[i] = b;
        }
    }
    let bundle = bundle_dir();
    std::fs::write(bundle.join("config.json"), &data).expect("write config.json");
    one_line("create's plan", plan_create(bundle, false))?;
    one_line(
        "create's plan (--systemd-cgroup)",
        plan_create(bundle, true),
    )
}

#[test]
fn hostile_configs_fail_cleanly() {
    // The base config must pass, or every case would only exercise the first check.
    let bundle = bundle_dir();
    std::fs::write(bundle.join("config.json"), base_config().to_string()).unwrap();
    plan_create(bundle, false).expect("the base config is valid");
    check("config", CONFIG_CASES, config_case, config_property);
}

fn has_dot_dot(p: &Path) -> bool {
    p.components().any(|c| c == Component::ParentDir)
}

fn cgroupfs_path_property(raw: String) -> TestResult {
    let cleaned = path::clean(&raw);
    prop_assert!(
        !has_dot_dot(Path::new(&cleaned)),
        "clean({raw:?}) = {cleaned:?}"
    );
    prop_assert_eq!(cleaned.starts_with('/'), raw.starts_with('/'));
    match path::requested(Some(&raw), "fuzz") {
        Ok(p) => prop_assert!(!has_dot_dot(&p) && p != Path::new("/"), "{raw:?} → {p:?}"),
        Err(e) => one_line("requested", Err(e))?,
    }
    one_line("sub-cgroup", path::parse_sub_cgroup(&raw).map(|_| ()))
}

#[test]
fn hostile_cgroupfs_paths_stay_inside_the_hierarchy() {
    check(
        "cgroupfs path",
        PATH_CASES,
        hostile_string,
        cgroupfs_path_property,
    );
}

#[cfg(feature = "systemd")]
fn systemd_path_property(raw: String) -> TestResult {
    use crate::systemd::unit;
    match unit::parse_cgroups_path(Some(&raw), "fuzz") {
        Ok(u) => {
            prop_assert!(u.unit.ends_with(".scope") || u.unit.ends_with(".slice"));
            prop_assert!(u.unit.len() <= 255 && !u.unit.contains('/'), "{u:?}");
            prop_assert!(u.path.is_absolute() && !has_dot_dot(&u.path), "{u:?}");
        }
        Err(e) => one_line("slice:prefix:name", Err(e))?,
    }
    one_line("expand_slice", unit::expand_slice(&raw).map(|_| ()))
}

/// Three hostile fields joined by colons reach past the field count check far more often.
#[cfg(feature = "systemd")]
#[test]
fn hostile_systemd_paths_make_valid_units_or_one_line_errors() {
    let raw = || {
        prop_oneof![
            hostile_string(),
            (hostile_string(), hostile_string(), hostile_string())
                .prop_map(|(s, p, n)| format!("{s}:{p}:{n}")),
        ]
    };
    check("systemd path", PATH_CASES, raw, systemd_path_property);
}
