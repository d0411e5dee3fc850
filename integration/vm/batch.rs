//! The batch: every case of a mode runs in one boot, started lazily by the first #[test] of
//! that mode to ask; each #[test] then asserts its own case's result.
use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};

use crate::{boot, kernel, BENCHES, CASES};

/// Which PID 1 the guest runs, and therefore which cgroup driver the cases use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No systemd; cgroup2 mounted by hand; the cgroupfs driver.
    Direct,
    /// systemd as PID 1 on cgroup v2; shoji with `--systemd-cgroup`.
    Systemd,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Direct => "direct",
            Mode::Systemd => "systemd",
        }
    }
}

/// A test case: a bash script run in the guest after `guest/lib.sh`.
pub struct Case {
    pub name: &'static str,
    pub mode: Mode,
    pub script: &'static str,
    pub timeout_secs: u64,
}

/// What a case left in the share (it may also keep scratch files in `$ART`, inside the share).
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub rc: i32,
    pub output: String,
    pub seconds: f64,
}

type Boot = Result<boot::Outcome, String>;

static DIRECT: OnceLock<Boot> = OnceLock::new();
static SYSTEMD: OnceLock<Boot> = OnceLock::new();

/// The result of case `name`, booting its mode's VM first if no test has yet.
pub fn result(name: &str) -> CaseResult {
    let case = CASES
        .iter()
        .chain(BENCHES)
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no VM case named {name:?}"));
    let cell = match case.mode {
        Mode::Direct => &DIRECT,
        Mode::Systemd => &SYSTEMD,
    };
    let outcome = match cell.get_or_init(|| boot_mode(case.mode).map_err(|e| format!("{e:#}"))) {
        Ok(o) => o,
        Err(e) => panic!("the {} VM did not run: {e}", case.mode.name()),
    };
    match outcome.results.get(name) {
        Some(r) => r.clone(),
        None => panic!(
            "case {name} left no result in the {} VM (boot took {:.0} s); console tail:\n{}",
            case.mode.name(),
            outcome.seconds,
            outcome.console_tail
        ),
    }
}

/// Asserts case `name` exited 0, showing its output either way (cargo shows it on failure).
pub fn assert_case(name: &str) {
    let r = result(name);
    if r.rc != 0 {
        panic!(
            "VM case {name} failed (exit {}) after {:.1} s in the guest:\n{}",
            r.rc, r.seconds, r.output
        );
    }
    println!("--- {name} ({:.1} s in the guest)\n{}", r.seconds, r.output);
}

fn boot_mode(mode: Mode) -> Result<boot::Outcome> {
    let filters = test_filters();
    let named = |c: &&Case| filters.iter().any(|f| c.name.contains(f.as_str()));
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|c| c.mode == mode)
        .filter(|c| filters.is_empty() || named(c))
        .chain(BENCHES.iter().filter(|c| c.mode == mode).filter(named))
        .collect();
    let kernel = {
        let _lock = lock_cache()?;
        kernel::prepare(&cache_dir())?
    };
    let runtime = std::env::var_os("SHOJI_RUNTIME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_shoji")));
    let outcome = boot::run(&kernel, mode, &cases, &runtime)?;
    eprintln!(
        "vm tier: {} boot ran {} cases in {:.1} s",
        mode.name(),
        outcome.results.len(),
        outcome.seconds
    );
    Ok(outcome)
}

/// The name filters given to this test binary (`cargo test --test vm oom` → ["oom"]), so a
/// boot runs only the cases of the tests that will ask for them. Values of libtest's options
/// are skipped; a filter that is not one only widens the batch.
fn test_filters() -> Vec<String> {
    const TAKE_VALUE: &[&str] = &[
        "--skip",
        "--test-threads",
        "--color",
        "--format",
        "--logfile",
        "-Z",
    ];
    let mut filters = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if TAKE_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            filters.push(a);
        }
    }
    filters
}

/// Where the unpacked kernel lives across runs; outside the repository.
fn cache_dir() -> PathBuf {
    std::env::var_os("SHOJI_VM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/shoji-vm"))
}

/// Serializes the one-time setup between the two modes' boots (and concurrent test runs).
fn lock_cache() -> Result<Flock<fs::File>> {
    let dir = cache_dir();
    fs::create_dir_all(&dir).with_context(|| format!("creating {dir:?}"))?;
    let f = fs::File::create(dir.join("lock")).with_context(|| format!("locking {dir:?}"))?;
    Flock::lock(f, FlockArg::LockExclusive).map_err(|(_, e)| anyhow::anyhow!("flock {dir:?}: {e}"))
}
