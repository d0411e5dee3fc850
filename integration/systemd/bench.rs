//! Issue 3's speed figure, run by bench/systemd.sh (ignored by `cargo test`: timings are for
//! `make bench`, never assertions): 100 sequential `run`s of /bin/true in the sandbox with
//! shoji --systemd-cgroup, runc --systemd-cgroup and shoji's cgroupfs driver.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::in_sandbox;
use crate::support::{unique_name, Bundle, Runtime};

const RUNS: usize = 100;
const RUNC: &str = "/usr/sbin/runc";

struct Figure {
    label: &'static str,
    runs: Vec<Duration>,
}

impl Figure {
    fn total(&self) -> Duration {
        self.runs.iter().sum()
    }

    fn median(&self) -> Duration {
        let mut sorted = self.runs.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }
}

/// `RUNS` sequential `run`s; each container gets its own id (and unit).
fn measure(label: &'static str, binary: PathBuf, systemd: bool) -> Result<Figure, String> {
    let rt = Runtime::with_binary(binary);
    let bundle = Bundle::busybox("bench");
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let id = unique_name("bench");
        let path = format!("system.slice:bench:{id}");
        bundle.edit(|s| {
            s["linux"]["cgroupsPath"] = if systemd {
                path.into()
            } else {
                format!("/bench/{id}").into()
            }
        });
        bundle.args(&["/bin/true"]);
        let flags: &[&str] = if systemd { &["--systemd-cgroup"] } else { &[] };
        let start = Instant::now();
        let out = rt.cmd_global(flags, &["run", "--bundle", bundle.path_str(), &id]);
        runs.push(start.elapsed());
        if out.code != Some(0) {
            return Err(format!("{label}: run failed:\n{out}"));
        }
    }
    Ok(Figure { label, runs })
}

#[test]
#[ignore = "a benchmark: bench/systemd.sh runs it"]
fn lifecycle_bench() {
    in_sandbox("bench::lifecycle_bench", || {
        // bench/systemd.sh passes `make build`'s binary; else the one cargo built.
        let shoji = std::env::var_os("SHOJI_BENCH_BINARY")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_shoji")));
        let configs = [
            ("shoji --systemd-cgroup", shoji.clone(), true),
            ("runc --systemd-cgroup", PathBuf::from(RUNC), true),
            ("shoji (cgroupfs)", shoji, false),
        ];
        let mut figures = Vec::new();
        let mut failures = Vec::new();
        for (label, binary, systemd) in configs {
            match measure(label, binary, systemd) {
                Ok(f) => figures.push(f),
                Err(e) => failures.push(e),
            }
        }
        println!("bench: {RUNS} sequential `run` of /bin/true in the systemd sandbox");
        for f in &figures {
            println!(
                "bench:   {:<24} total {:>7.2} s   mean {:>6.1} ms   median {:>6.1} ms",
                f.label,
                f.total().as_secs_f64(),
                f.total().as_secs_f64() * 1000.0 / RUNS as f64,
                f.median().as_secs_f64() * 1000.0
            );
        }
        let total = |label: &str| {
            figures
                .iter()
                .find(|f| f.label == label)
                .map(|f| f.total().as_secs_f64())
        };
        if let (Some(sd), Some(fs)) = (total("shoji --systemd-cgroup"), total("shoji (cgroupfs)")) {
            println!(
                "bench:   shoji systemd / shoji cgroupfs = {:.2} (target <= 1.3)",
                sd / fs
            );
        }
        if let (Some(sd), Some(runc)) = (
            total("shoji --systemd-cgroup"),
            total("runc --systemd-cgroup"),
        ) {
            println!(
                "bench:   shoji systemd / runc systemd   = {:.2} (target < 1)",
                sd / runc
            );
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}
