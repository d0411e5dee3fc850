//! What the scenario asks of a client: the commands a user types, in the client's own words
//! (docker and podman share a CLI shape; containerd's `ctr` differs).
use std::path::PathBuf;

use crate::env::{Driver, Out};

/// Resource limits given at `run` or `update`; `pids: None` where the client has no flag.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub memory: u64,
    pub cpu_shares: u64,
    pub pids: Option<u64>,
}

pub trait Client {
    fn driver(&self) -> Driver;
    /// Whether `run` takes a pids limit.
    fn limits_pids(&self) -> bool;
    /// `run --rm` in the foreground, on a new terminal (`-it`) when `tty`.
    fn run_fg(&self, name: &str, script: &str, tty: bool) -> Out;
    /// `run -d` with `limits`; the id the other commands take.
    fn run_bg(&self, name: &str, limits: &Limits, script: &str) -> String;
    fn exec(&self, id: &str, script: &str, tty: bool) -> Out;
    fn logs(&self, id: &str) -> String;
    fn pause(&self, id: &str);
    fn resume(&self, id: &str);
    /// The memory limit the client's stats report, in bytes (rounded as it prints it).
    fn stats_memory_limit(&self, id: &str) -> f64;
    /// Apply `limits` to the running container; what the client could apply, `None` when it
    /// has no update command (ctr).
    fn update(&self, id: &str, limits: &Limits) -> Option<Limits>;
    fn kill(&self, id: &str, signal: &str);
    /// The client's stop: SIGTERM, SIGKILL after a one-second grace.
    fn stop(&self, id: &str);
    /// Wait until the container's process exited; its exit code as the client reports it.
    fn wait(&self, id: &str) -> i32;
    fn rm(&self, id: &str);
    fn init_pid(&self, id: &str) -> i32;
    /// Where shoji keeps the container's state, as the client's `--root` puts it.
    fn state_dir(&self, id: &str) -> PathBuf;
}

/// A size as docker (`64MiB`) or podman (`67.11MB`) prints it, in bytes.
pub fn parse_size(text: &str) -> f64 {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().unwrap_or_else(|_| panic!("size {text:?}"));
    let scale = match unit.trim() {
        "B" | "" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        other => panic!("unit {other:?} in {text:?}"),
    };
    number * scale
}
