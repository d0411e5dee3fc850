//! Tier 2: the systemd cgroup driver against a real systemd, in the project's sandbox (see
//! integration/sandbox). Each test runs its body inside the sandbox: the test binary re-execs
//! itself there (through nsenter) with SHOJI_SANDBOX_CASE naming the test.
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

#[path = "../sandbox/mod.rs"]
mod sandbox;

#[path = "../support/mod.rs"]
mod support;

mod bench;
mod check;
mod crash;
mod cwd_escape;
mod driver;
mod operations;
mod reload;
mod runtime;

/// Held (in the outer process, around `in_sandbox`) by the tests that use or assert on the
/// Kubernetes-shaped unit `cri-containerd-345def.scope`, which the sandbox's systemd shares.
static K8S_LOCK: Mutex<()> = Mutex::new(());

pub fn k8s_lock() -> MutexGuard<'static, ()> {
    K8S_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const CASE_ENV: &str = "SHOJI_SANDBOX_CASE";
const MARKER: &str = "shoji-sandbox-case-ran:";

fn shared_sandbox() -> Arc<sandbox::Sandbox> {
    // Bundles are made inside, under the sandbox's own /tmp. The checkout is visible through
    // the overlay's lower layer, except under /tmp (the sandbox's /tmp is its own): then it
    // is bound in, and the sandbox's work directory moves off /tmp.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if repo.starts_with("/tmp") {
        return sandbox::shared(Path::new("/var/tmp"), &[repo.to_path_buf()]);
    }
    sandbox::shared(Path::new(env!("CARGO_TARGET_TMPDIR")), &[])
}

/// Whether this process is the re-exec'd copy running `name` inside the sandbox.
pub fn is_inside(name: &str) -> bool {
    std::env::var(CASE_ENV).as_deref() == Ok(name)
}

/// Run test `name` (its path in this binary, e.g. `driver::scope_in_nested_slices`): inside
/// the sandbox `body` runs; outside, the binary re-execs itself inside and must report the case
/// ran (a wrong name would otherwise match no test and pass).
pub fn in_sandbox(name: &str, body: impl FnOnce()) {
    run_case(name, &[], body)
}

/// Like [`in_sandbox`], in a private mount namespace where /run/dbus is an empty tmpfs: the
/// system bus is gone and only systemd's private socket answers.
pub fn in_sandbox_without_bus(name: &str, body: impl FnOnce()) {
    let hide = r#"mount -t tmpfs none /run/dbus && exec "$0" "$@""#;
    let wrapper = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        hide,
    ];
    run_case(name, &wrapper, body)
}

fn run_case(name: &str, wrapper: &[&str], body: impl FnOnce()) {
    if is_inside(name) {
        body();
        println!("{MARKER}{name}");
        return;
    }
    let sb = shared_sandbox();
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = sb.command(program);
            cmd.args(args).arg(&exe);
            cmd
        }
        None => sb.command(&exe),
    };
    let out = cmd
        .args(sandbox::case_args(name))
        .env(CASE_ENV, name)
        .output()
        .expect("running the test inside the sandbox");
    sandbox::assert_case_ran(&out, name, MARKER);
}
