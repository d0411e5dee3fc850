//! The clients tier: containerd (ctr, and its CRI plugin), podman and docker — Debian's packages — each started
//! inside the systemd sandbox (integration/sandbox) with shoji as their runtime by path, under
//! the cgroupfs and the systemd driver, going through the checklist in `scenario`.
//!
//! Each test's body runs inside the sandbox, in a private mount namespace of its own (so the
//! mounts a client makes are counted per test and die with it): the test binary re-execs itself
//! there with SHOJI_CLIENTS_CASE naming the test. Storage (image layers, container rootfs) is on
//! a directory of the real filesystem bound into the sandbox, removed when the binary exits.
//!
//! For other sandbox tests with a client configured a given way, the support API is
//! [`in_sandbox`], `env` ([`env::Env::new`], `write_config`, `write_system_config`, `sh`,
//! [`env::run`]) and the clients' constructors ([`docker::Docker::start_with`],
//! [`docker::podman`], [`containerd::Containerd::start`], [`cri::Cri::start`]). A new case:
//!
//! ```text
//! #[test]
//! fn docker_with_shoji_as_default() {
//!     in_sandbox("docker_with_shoji_as_default", || {
//!         let env = env::Env::new("dk-x"); // storage, run dir, image; removed on drop
//!         let path = env.shoji.display();
//!         let json = format!(r#"{{"default-runtime": "shoji",
//!                                 "runtimes": {{"shoji": {{"path": "{path}"}}}}}}"#);
//!         let docker = docker::Docker::start_with(&env, Driver::Systemd, &json);
//!         let out = env.sh("shoji check"); // any command, inside the sandbox
//!     });
//! }
//! ```
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

#[path = "../sandbox/mod.rs"]
mod sandbox;

#[path = "../support/mod.rs"]
mod support;

mod bench;
mod check;
mod client;
mod containerd;
mod cri;
mod cri_scenario;
mod daemon;
mod docker;
mod env;
mod image;
mod observed;
mod proto;
mod scenario;

use docker::{DockerRuntime, PodmanRuntime};
use env::Driver;

const CASE_ENV: &str = "SHOJI_CLIENTS_CASE";
const MARKER: &str = "shoji-clients-case-ran:";

/// Where storage lives: on the real filesystem, never under /tmp (the sandbox's /tmp is its
/// own tmpfs) — next to the build's scratch space, or /var/tmp for a checkout under /tmp.
fn storage_base() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let base = if tmp.starts_with("/tmp") {
        Path::new("/var/tmp")
    } else {
        tmp
    };
    base.join(format!("clients-{}", std::process::id()))
}

static STORAGE: Once = Once::new();
static ONE_CASE: Mutex<()> = Mutex::new(());

extern "C" fn remove_storage() {
    let _ = std::fs::remove_dir_all(storage_base());
}

fn shared_sandbox() -> std::sync::Arc<sandbox::Sandbox> {
    STORAGE.call_once(|| {
        std::fs::create_dir_all(storage_base()).unwrap();
        // Registered before the sandbox's own exit handler, so it runs after the sandbox
        // (and every daemon in it) is gone.
        // SAFETY: registering a plain extern "C" function.
        unsafe { libc::atexit(remove_storage) };
    });
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut binds = vec![storage_base()];
    if repo.starts_with("/tmp") {
        binds.push(repo.to_path_buf());
        return sandbox::shared(Path::new("/var/tmp"), &binds);
    }
    sandbox::shared(Path::new(env!("CARGO_TARGET_TMPDIR")), &binds)
}

/// Run test `name` (its path in this binary): inside the sandbox `body` runs; outside, the
/// binary re-execs itself inside and must report that the case ran.
fn in_sandbox(name: &str, body: impl FnOnce()) {
    if std::env::var(CASE_ENV).as_deref() == Ok(name) {
        body();
        println!("{MARKER}{name}");
        return;
    }
    // One case at a time: while systemd realizes a unit's v1 controllers it moves processes it
    // does not own (a cgroupfs client's containers) back to the root cgroup in blkio and
    // others — runc's containers as well as shoji's — so cgroupfs and systemd-driver clients
    // must not run side by side in one sandbox.
    let _one_at_a_time = ONE_CASE.lock().unwrap_or_else(|e| e.into_inner());
    let sb = shared_sandbox();
    let exe = std::env::current_exe().unwrap();
    let out = sb
        .command("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .arg(&exe)
        .args(sandbox::case_args(name))
        .env(CASE_ENV, name)
        .env(env::STORAGE_ENV, storage_base())
        .output()
        .expect("running the test inside the sandbox");
    sandbox::assert_case_ran(&out, name, MARKER);
}

/// Run the checklist; on failure, show the end of the daemon's log first.
fn exercise_showing_log(client: &dyn client::Client, tag: &str, daemon: &daemon::Daemon) {
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| scenario::exercise(client, tag)));
    if let Err(panic) = result {
        show_log_tail(daemon);
        std::panic::resume_unwind(panic);
    }
}

fn show_log_tail(daemon: &daemon::Daemon) {
    let log = daemon.log_text();
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    eprintln!("--- {:?}, last lines", daemon.log);
    tail.iter().rev().for_each(|l| eprintln!("{l}"));
}

fn docker(tag: &str, driver: Driver, how: DockerRuntime) {
    let env = env::Env::new(tag);
    let docker = docker::Docker::start(&env, driver, how);
    exercise_showing_log(&docker.cli, tag, &docker.daemon);
}

fn podman(tag: &str, driver: Driver, how: docker::PodmanRuntime) {
    let env = env::Env::new(tag);
    let podman = docker::podman(&env, driver, how);
    scenario::exercise(&podman, tag);
}

fn ctr(tag: &str, driver: Driver) {
    let env = env::Env::new(tag);
    let containerd = containerd::Containerd::start(&env, driver);
    exercise_showing_log(&containerd, tag, &containerd.daemon);
}

fn cri(tag: &str, driver: Driver) {
    let env = env::Env::new(tag);
    let cri = cri::Cri::start(&env, driver);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| cri_scenario::exercise(&cri, tag)));
    if let Err(panic) = result {
        show_log_tail(&cri.daemon);
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn docker_cgroupfs() {
    in_sandbox("docker_cgroupfs", || {
        docker("dk-fs", Driver::Cgroupfs, DockerRuntime::Flag)
    });
}

/// shoji named in daemon.json's "runtimes" instead of `--add-runtime`.
#[test]
fn docker_systemd() {
    in_sandbox("docker_systemd", || {
        docker("dk-sd", Driver::Systemd, DockerRuntime::DaemonJson)
    });
}

#[test]
fn podman_cgroupfs() {
    in_sandbox("podman_cgroupfs", || {
        podman("pm-fs", Driver::Cgroupfs, PodmanRuntime::Flag)
    });
}

/// shoji named in /etc/containers/containers.conf (this case's own copy) instead of a flag.
#[test]
fn podman_systemd() {
    in_sandbox("podman_systemd", || {
        podman("pm-sd", Driver::Systemd, PodmanRuntime::ContainersConf)
    });
}

#[test]
fn ctr_cgroupfs() {
    in_sandbox("ctr_cgroupfs", || ctr("ctr-fs", Driver::Cgroupfs));
}

#[test]
fn ctr_systemd() {
    in_sandbox("ctr_systemd", || ctr("ctr-sd", Driver::Systemd));
}

#[test]
fn cri_cgroupfs() {
    in_sandbox("cri_cgroupfs", || cri("cri-fs", Driver::Cgroupfs));
}

#[test]
fn cri_systemd() {
    in_sandbox("cri_systemd", || cri("cri-sd", Driver::Systemd));
}
