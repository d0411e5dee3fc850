//! One client test's environment inside the sandbox: a storage directory on the real
//! filesystem bound into the sandbox (docker's overlay2, podman's and containerd's overlay
//! snapshots cannot live on the sandbox's overlay root), a run directory under the sandbox's
//! /run for sockets, pid files and runtime state, the busybox image tar, and shoji's path.
//! Both directories are removed on Drop, after the daemons (declared later, so dropped first).
//!
//! The support API for other sandbox tests that need a client configured a given way:
//! [`Env::new`], [`Env::write_config`] / [`Env::write_system_config`], [`run`] / [`Env::sh`],
//! and the clients' own constructors (`Docker::start_with`, `podman`, `Containerd::start`,
//! `Cri::start`).
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::image;
use crate::support::procfs;

/// The variable that carries the bound storage directory into the sandbox.
pub const STORAGE_ENV: &str = "SHOJI_CLIENTS_STORAGE";

/// Any client command still running after this many seconds is a hang, reported as a failure.
const COMMAND_TIMEOUT_SECS: &str = "120";

/// The cgroup driver a client is configured with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    Cgroupfs,
    Systemd,
}

pub struct Env {
    pub storage: PathBuf,
    pub run_dir: PathBuf,
    pub image: PathBuf,
    pub shoji: PathBuf,
}

/// A finished command: exit code (-1 when killed by a signal) and its output.
#[derive(Debug)]
pub struct Out {
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// The stdout of a command that must succeed.
    pub fn ok(self) -> String {
        assert_eq!(self.code, 0, "{}: {self:#?}", self.command);
        self.stdout
    }
}

impl Env {
    /// Inside the sandbox: fresh directories for test `case` and the image built in them.
    pub fn new(case: &str) -> Env {
        let base = std::env::var(STORAGE_ENV).expect("the storage directory from the outer test");
        let storage = Path::new(&base).join(case);
        // Short: containerd's and dockerd's socket paths must fit in sun_path.
        let run_dir = PathBuf::from(format!("/run/scl-{case}"));
        for dir in [&storage, &run_dir] {
            let _ = fs::remove_dir_all(dir);
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
        }
        let image = image::build(&storage.join("image"), image::IMAGE, &["sh"]);
        Env {
            storage,
            run_dir,
            image,
            shoji: runtime_binary(),
        }
    }

    /// Write a client's configuration file (parents created), e.g. a containerd config.toml.
    pub fn write_config(&self, path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap_or_else(|e| panic!("writing {path:?}: {e}"));
    }

    /// Write a client's system-wide file (e.g. /etc/containers/containers.conf) seen by this
    /// case only: its directory is first covered, in the case's private mount namespace, with a
    /// tmpfs holding a copy of what was there (the sandbox's /etc is shared by every case).
    pub fn write_system_config(&self, path: &Path, text: &str) {
        let dir = path.parent().unwrap();
        fs::create_dir_all(dir).unwrap();
        let covered = procfs::mountinfo(std::process::id() as i32)
            .iter()
            .any(|m| m.mount_point == dir);
        if !covered {
            let copy = self.run_dir.join("etc-copy");
            let _ = fs::remove_dir_all(&copy);
            let (dir, copy) = (dir.display().to_string(), copy.display().to_string());
            run("cp", &["-a", &dir, &copy]).ok();
            run("mount", &["-t", "tmpfs", "case-etc", &dir]).ok();
            run("cp", &["-a", &format!("{copy}/."), &dir]).ok();
        }
        self.write_config(path, text);
    }

    /// `sh -c script` inside the sandbox.
    #[allow(dead_code)] // support API for sandbox tests of client configurations
    pub fn sh(&self, script: &str) -> Out {
        run("sh", &["-c", script])
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let leaked = procfs::host_mounts_under(&self.storage);
        if !leaked.is_empty() {
            // Removing through a mount would delete what it shows; a leak is a failure.
            if !std::thread::panicking() {
                panic!("mounts left under {:?}: {leaked:?}", self.storage);
            }
            return;
        }
        let _ = fs::remove_dir_all(&self.storage);
        let _ = fs::remove_dir_all(&self.run_dir);
    }
}

/// `$SHOJI_RUNTIME` (runc, to check a test against the compatibility target), else the shoji
/// cargo built.
fn runtime_binary() -> PathBuf {
    std::env::var_os("SHOJI_RUNTIME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_shoji")))
}

/// Run `program args` under coreutils' timeout, stdin closed, output captured.
pub fn run<S: AsRef<str>>(program: &str, args: &[S]) -> Out {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let command = format!("{program} {}", args.join(" "));
    let out = Command::new("timeout")
        .args(["-k", "5", COMMAND_TIMEOUT_SECS, program])
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    Out {
        command,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `argv` run on a new pseudo-terminal (util-linux `script`), as a user's `-it` would be;
/// the exit code is the command's own.
pub fn run_on_terminal(argv: &[String]) -> Out {
    let quoted: Vec<String> = argv.iter().map(|a| shell_quote(a)).collect();
    run("script", &["-qefc", &quoted.join(" "), "/dev/null"])
}

pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
