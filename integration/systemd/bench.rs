//! Issue 3's speed figure, run by bench/systemd.sh (ignored by `cargo test`: timings are for
//! `make bench`, never assertions): 100 sequential `run`s of /bin/true in the sandbox with
//! shoji --systemd-cgroup, runc --systemd-cgroup and shoji's cgroupfs driver; beside them
//! systemd's own floor, so the distance of the 1.3x target to what systemd allows is measured.
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::in_sandbox;
use crate::sandbox::runs::Runs;
use crate::support::{unique_name, Bundle, Runtime};

const RUNS: usize = 100;
const RUNC: &str = "/usr/sbin/runc";

/// One runtime configuration, its own `--root` and bundle, and the time of each run.
struct Figure {
    label: &'static str,
    systemd: bool,
    rt: Runtime,
    bundle: Bundle,
    runs: Runs,
}

impl Figure {
    fn new(label: &'static str, binary: PathBuf, systemd: bool) -> Figure {
        let bundle = Bundle::busybox("bench");
        bundle.args(&["/bin/true"]);
        Figure {
            label,
            systemd,
            rt: Runtime::with_binary(binary),
            bundle,
            runs: Runs::with_capacity(RUNS),
        }
    }

    /// One `run` of a new container (own id, own unit), timed from spawn to exit.
    fn run_once(&mut self) -> Result<(), String> {
        let id = unique_name("bench");
        let (path, flags): (String, &[&str]) = if self.systemd {
            (format!("system.slice:bench:{id}"), &["--systemd-cgroup"])
        } else {
            (format!("/bench/{id}"), &[])
        };
        self.bundle
            .edit(|s| s["linux"]["cgroupsPath"] = path.into());
        let mut cmd = Command::new(self.rt.binary());
        cmd.arg("--root").arg(self.rt.root()).args(flags).args([
            "run",
            "--bundle",
            self.bundle.path_str(),
            &id,
        ]);
        let took = timed(&mut cmd).map_err(|e| format!("{}: run {id}: {e}", self.label))?;
        self.runs.push(took);
        Ok(())
    }
}

/// The shoji under test: bench/systemd.sh passes `make build`'s binary; else the one cargo built.
fn shoji_binary() -> PathBuf {
    std::env::var_os("SHOJI_BENCH_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_shoji")))
}

#[test]
#[ignore = "a benchmark: bench/systemd.sh runs it"]
fn lifecycle_bench() {
    in_sandbox("bench::lifecycle_bench", || {
        let shoji = shoji_binary();
        let mut figures = vec![
            Figure::new("shoji --systemd-cgroup", shoji.clone(), true),
            Figure::new("runc --systemd-cgroup", PathBuf::from(RUNC), true),
            Figure::new("shoji (cgroupfs)", shoji, false),
        ];
        // An A/B of a change: the same figure for another shoji binary, in the same rounds.
        if let Some(baseline) = std::env::var_os("SHOJI_BENCH_BASELINE") {
            figures.push(Figure::new(
                "baseline --systemd-cgroup",
                baseline.into(),
                true,
            ));
        }
        let mut floor = ScopeFloor::default();
        // Interleaved, so that load from other work on the machine spreads over all three. A
        // failed run is not timed; it is reported, and fails the bench, after the figures.
        let mut failures = Vec::new();
        for _ in 0..RUNS {
            for f in figures.iter_mut() {
                if let Err(e) = f.run_once() {
                    failures.push(e);
                }
            }
            if let Err(e) = floor.run_once() {
                failures.push(e);
            }
        }
        println!(
            "bench: {RUNS} sequential `run` of /bin/true each, interleaved, in the systemd sandbox"
        );
        for f in &figures {
            println!(
                "bench:   {:<24} total {:>6.2} s   mean {:>5.1} ms   median {:>5.1} ms",
                f.label,
                f.runs.total(),
                f.runs.mean() * 1000.0,
                f.runs.median() * 1000.0
            );
        }
        let [sd, runc, fs] = [&figures[0], &figures[1], &figures[2]];
        for f in figures.iter().filter(|f| f.runs.len() < RUNS) {
            println!(
                "bench:   {}: {} of {RUNS} runs failed (not timed)",
                f.label,
                RUNS - f.runs.len()
            );
        }
        println!(
            "bench:   shoji systemd / shoji cgroupfs = {:.2} by mean, {:.2} by median (target <= 1.3)",
            sd.runs.mean() / fs.runs.mean(),
            sd.runs.median() / fs.runs.median()
        );
        println!(
            "bench:   shoji systemd / runc systemd   = {:.2} by mean, {:.2} by median (target <= 0.3)",
            sd.runs.mean() / runc.runs.mean(),
            sd.runs.median() / runc.runs.median()
        );
        floor.report(fs);
        if let Some(base) = figures.get(3) {
            println!(
                "bench:   shoji systemd / baseline       = {:.2} by mean, {:.2} by median",
                sd.runs.mean() / base.runs.mean(),
                sd.runs.median() / base.runs.median()
            );
        }
        assert!(failures.is_empty(), "failed runs:\n{}", failures.join("\n"));
    });
}

/// systemd's own floor: `systemd-run --scope /bin/true` is systemd's minimal client for what a
/// runtime's create asks of it (connect, StartTransientUnit with the process's pid, wait for
/// the job, then run), less the same binary's start-up (`systemd-run --version`) and the run of
/// /bin/true. It does not even stop its scope (systemd collects it once empty), and its exec of
/// /bin/true is counted out twice over, so it bounds the systemd driver's cost from below.
#[derive(Default)]
struct ScopeFloor {
    scope: Runs,
    startup: Runs,
    bare: Runs,
}

impl ScopeFloor {
    fn run_once(&mut self) -> Result<(), String> {
        let unit = format!("{}.scope", unique_name("bench-floor"));
        let scope = timed(Command::new("systemd-run").args([
            "--scope",
            "--quiet",
            "--collect",
            "--unit",
            &unit,
            "/bin/true",
        ]))?;
        self.scope.push(scope);
        self.startup
            .push(timed(Command::new("systemd-run").arg("--version"))?);
        self.bare.push(timed(&mut Command::new("/bin/true"))?);
        Ok(())
    }

    /// The floor, and the 1.3x target's allowance beside it, against shoji's cgroupfs run.
    fn report(&self, cgroupfs: &Figure) {
        let [scope, startup, bare] = [&self.scope, &self.startup, &self.bare].map(Runs::median);
        let floor = scope - startup - bare;
        let allowance = 0.3 * cgroupfs.runs.median();
        println!(
            "bench:   systemd's floor: systemd-run --scope /bin/true {:.1} ms, less its start-up \
             {:.1} ms and /bin/true {:.1} ms (medians): StartTransientUnit and its job cost at \
             least {:.1} ms; the 1.3x target leaves {:.1} ms over shoji's cgroupfs run for \
             all of systemd, create and delete",
            scope * 1000.0,
            startup * 1000.0,
            bare * 1000.0,
            floor * 1000.0,
            allowance * 1000.0
        );
    }
}

/// Runs `cmd` with no stdin or stdout and returns how long it took, from spawn to exit; an
/// error with its stderr if it failed. stderr goes to a file, not a pipe: a process the command
/// leaves behind holding it must not keep the bench waiting for end of file.
fn timed(cmd: &mut Command) -> Result<Duration, String> {
    let err_path = std::env::temp_dir().join(format!("{}.err", unique_name("bench")));
    let err = std::fs::File::create(&err_path).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .status();
    let took = start.elapsed();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&err_path);
    match status {
        Ok(s) if s.success() => Ok(took),
        other => Err(format!("{cmd:?} failed ({other:?}): {stderr}")),
    }
}

/// Where shoji's systemd `run` spends its time, stage by stage (bench/systemd.sh prints it
/// through bench/stages.awk): 40 `--debug` runs in the sandbox, each log preceded by `RUN` and
/// followed by its wall time, printed with the prefix `stages: ` (the sandbox's files are its
/// own).
#[test]
#[ignore = "a benchmark: bench/systemd.sh runs it"]
fn stages_bench() {
    in_sandbox("bench::stages_bench", || {
        let rt = Runtime::with_binary(shoji_binary());
        let bundle = Bundle::busybox("stages");
        bundle.args(&["/bin/true"]);
        // A line of its own: libtest has printed "test ... " without a newline.
        println!();
        for _ in 0..40 {
            let id = unique_name("stages");
            bundle.edit(|s| s["linux"]["cgroupsPath"] = format!("system.slice:bench:{id}").into());
            let start = Instant::now();
            let o = Command::new(rt.binary())
                .arg("--root")
                .arg(rt.root())
                .args(["--debug", "--systemd-cgroup", "run", "--bundle"])
                .arg(bundle.path_str())
                .arg(&id)
                .stdin(Stdio::null())
                .output()
                .expect("spawning shoji");
            let wall = start.elapsed();
            assert!(
                o.status.success(),
                "run {id}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            println!("stages: RUN");
            for line in String::from_utf8_lossy(&o.stderr).lines() {
                println!("stages: {line}");
            }
            println!("stages: WALL {}", wall.as_nanos());
        }
    });
}
