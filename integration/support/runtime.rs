//! Runs the runtime under test. The binary is `$SHOJI_RUNTIME` when set (runc or crun, to
//! validate a test against the compatibility target) else the shoji this crate built. Each
//! `Runtime` has its own `--root`, so tests run in parallel without seeing each other's state.
//! stdio goes to files, never pipes: a created container inherits the runtime's stdout and
//! would otherwise hold a pipe open long after the runtime exited.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::scratch::{unique_name, Scratch};

/// A runtime command that has not exited by then is a hang, reported as a failure.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Runtime {
    binary: PathBuf,
    root: PathBuf,
    scratch: Scratch,
}

/// What a runtime command left behind: exit code (None if killed by a signal) and its output.
#[derive(Debug)]
pub struct Output {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Runtime {
    pub fn new() -> Runtime {
        Runtime::with_binary(runtime_binary())
    }

    pub fn with_binary(binary: PathBuf) -> Runtime {
        let scratch = Scratch::new("rt");
        let root = scratch.path().join("root");
        Runtime {
            binary,
            root,
            scratch,
        }
    }

    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The `--root` this runtime's commands use.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the runtime keeps container `id`'s state (runc, crun and shoji: `<root>/<id>`).
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// `name` of the binary under test: "shoji", "runc" or "crun".
    pub fn name(&self) -> String {
        self.binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Runs `<binary> --root <root> ARGS` with stdin from /dev/null.
    pub fn cmd(&self, args: &[&str]) -> Output {
        self.cmd_stdin(args, None)
    }

    /// Like `cmd` with extra global flags placed before the subcommand (`--log`, ...).
    pub fn cmd_global(&self, global: &[&str], args: &[&str]) -> Output {
        let all: Vec<&str> = global.iter().chain(args).copied().collect();
        self.cmd(&all)
    }

    /// Runs a command feeding `stdin` (if any) through a file.
    pub fn cmd_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let tag = unique_name("io");
        let out_path = self.scratch.path().join(format!("{tag}.out"));
        let err_path = self.scratch.path().join(format!("{tag}.err"));
        let stdin = match stdin {
            Some(text) => {
                let in_path = self.scratch.path().join(format!("{tag}.in"));
                std::fs::write(&in_path, text).expect("write stdin file");
                Stdio::from(std::fs::File::open(&in_path).expect("open stdin file"))
            }
            None => Stdio::null(),
        };
        let mut child = Command::new(&self.binary)
            .arg("--root")
            .arg(&self.root)
            .args(args)
            .stdin(stdin)
            .stdout(std::fs::File::create(&out_path).expect("create stdout file"))
            .stderr(std::fs::File::create(&err_path).expect("create stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {e}", self.binary));
        let code = wait_with_timeout(&mut child, args);
        Output {
            args: args.iter().map(|a| a.to_string()).collect(),
            code,
            stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        }
    }

    /// Starts `<binary> --root <root> ARGS` without waiting, stdio to /dev/null: for a test
    /// that kills the runtime part way (the caller kills and reaps the child, by its pid).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(&self.binary)
            .arg("--root")
            .arg(&self.root)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {e}", self.binary))
    }

    /// `state ID` parsed, asserting success.
    pub fn state(&self, id: &str) -> Value {
        self.cmd(&["state", id]).success().json()
    }
}

/// Safety net for a test that panicked before a `Container` guard took charge: force-delete
/// whatever is still listed under this `--root` before the directory goes.
impl Drop for Runtime {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            if let Some(id) = entry.file_name().to_str() {
                let _ = self.cmd(&["delete", "--force", id]);
            }
        }
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

fn runtime_binary() -> PathBuf {
    match std::env::var_os("SHOJI_RUNTIME") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_shoji")),
    }
}

fn wait_with_timeout(child: &mut std::process::Child, args: &[&str]) -> Option<i32> {
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait for runtime") {
            return status.code();
        }
        if Instant::now() > deadline {
            // The runtime is our own child: kill exactly it, by pid.
            let _ = child.kill();
            let _ = child.wait();
            panic!("runtime {args:?} still running after {COMMAND_TIMEOUT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl Output {
    /// Asserts exit 0, showing the whole command and its output otherwise.
    pub fn success(self) -> Output {
        assert_eq!(self.code, Some(0), "expected success:\n{self}");
        self
    }

    /// Asserts exit `code`.
    pub fn exit(self, code: i32) -> Output {
        assert_eq!(self.code, Some(code), "expected exit {code}:\n{self}");
        self
    }

    /// Asserts a clean failure: exit 1 and a non-empty error on stderr.
    pub fn failure(self) -> Output {
        assert_eq!(self.code, Some(1), "expected exit 1:\n{self}");
        assert!(
            !self.stderr.trim().is_empty(),
            "expected an error message:\n{self}"
        );
        self
    }

    /// Asserts a failed exec as runc reports one: exit 255 (not the process's own status) and
    /// a non-empty error on stderr.
    pub fn exec_failure(self) -> Output {
        assert_eq!(self.code, Some(255), "expected exit 255:\n{self}");
        assert!(
            !self.stderr.trim().is_empty(),
            "expected an error message:\n{self}"
        );
        self
    }

    /// Asserts stderr contains every one of `needles` (case-sensitive).
    pub fn stderr_has(self, needles: &[&str]) -> Output {
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr lacks {needle:?}:\n{self}"
            );
        }
        self
    }

    /// The error as one line: the last non-empty stderr line, asserting there is exactly one.
    pub fn one_line_error(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "expected a one-line error:\n{self}");
        lines[0].to_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "  command: {:?}", self.args)?;
        writeln!(f, "  exit: {:?}", self.code)?;
        writeln!(f, "  stdout: {}", self.stdout.trim_end())?;
        write!(f, "  stderr: {}", self.stderr.trim_end())
    }
}
