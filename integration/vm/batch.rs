//! The batch: every case of a mode runs in one boot, started lazily by the first #[test] of
//! that mode to ask; each #[test] then asserts its own case's result.
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};

use crate::{boot, kernel, CASES};

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
pub fn assert_case(name: &str) -> CaseResult {
    let r = result(name);
    println!("--- {name} ({:.1} s in the guest)\n{}", r.seconds, r.output);
    assert_eq!(
        r.rc, 0,
        "VM case {name} failed (exit {}):\n{}",
        r.rc, r.output
    );
    r
}

fn boot_mode(mode: Mode) -> Result<boot::Outcome> {
    let cases: Vec<&crate::batch::Case> = CASES.iter().filter(|c| c.mode == mode).collect();
    let kernel = {
        let _lock = lock_cache()?;
        kernel::prepare(&cache_dir())?
    };
    let shoji = Path::new(env!("CARGO_BIN_EXE_shoji"));
    let outcome = boot::run(&kernel, mode, &cases, shoji)?;
    eprintln!(
        "vm tier: {} boot ran {} cases in {:.1} s",
        mode.name(),
        outcome.results.len(),
        outcome.seconds
    );
    Ok(outcome)
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
