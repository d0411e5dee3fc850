//! OCI hooks: each runs with the container state as JSON on stdin, its own args and env, and an
//! optional timeout. Which failures are fatal is the runtime-spec's rule: prestart,
//! createRuntime, createContainer and startContainer abort the lifecycle; poststart and
//! poststop only warn, and the remaining hooks still run.
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{Hook, Hooks};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Prestart,
    CreateRuntime,
    CreateContainer,
    StartContainer,
    Poststart,
    Poststop,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Prestart => "prestart",
            Kind::CreateRuntime => "createRuntime",
            Kind::CreateContainer => "createContainer",
            Kind::StartContainer => "startContainer",
            Kind::Poststart => "poststart",
            Kind::Poststop => "poststop",
        }
    }
    fn fatal(self) -> bool {
        !matches!(self, Kind::Poststart | Kind::Poststop)
    }
    fn select(self, hooks: &Hooks) -> Option<&Vec<Hook>> {
        #[allow(deprecated)]
        let list = match self {
            Kind::Prestart => hooks.prestart(),
            Kind::CreateRuntime => hooks.create_runtime(),
            Kind::CreateContainer => hooks.create_container(),
            Kind::StartContainer => hooks.start_container(),
            Kind::Poststart => hooks.poststart(),
            Kind::Poststop => hooks.poststop(),
        };
        list.as_ref()
    }
}

/// The names of the hooks `features` reports.
pub const KNOWN: &[&str] = &[
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

/// Does the spec have any hook of this kind?
pub fn has(hooks: &Option<Hooks>, kind: Kind) -> bool {
    hooks
        .as_ref()
        .and_then(|h| kind.select(h))
        .is_some_and(|l| !l.is_empty())
}

/// Run every hook of `kind` in order with `state` on stdin, from the runtime process. A hook
/// without `env` inherits the runtime's environment, as runc's (Go's exec with a nil Env).
pub fn run(hooks: &Option<Hooks>, kind: Kind, state: &str) -> Result<()> {
    run_all(hooks, kind, state, None)
}

/// Run the hooks of `kind` from the container's init (createContainer, startContainer). A
/// hook without `env` gets the container process's environment: runc's init has set exactly
/// that as its own before it runs them.
pub fn run_in_container(
    hooks: &Option<Hooks>,
    kind: Kind,
    state: &str,
    process_env: &[String],
) -> Result<()> {
    run_all(hooks, kind, state, Some(process_env))
}

fn run_all(
    hooks: &Option<Hooks>,
    kind: Kind,
    state: &str,
    default_env: Option<&[String]>,
) -> Result<()> {
    let Some(list) = hooks.as_ref().and_then(|h| kind.select(h)) else {
        return Ok(());
    };
    for (i, hook) in list.iter().enumerate() {
        if let Err(e) = run_one(hook, state, default_env) {
            let err = e.context(format!("error running {} hook #{i}", kind.name()));
            if kind.fatal() {
                return Err(err);
            }
            tracing::warn!("{err:#}");
        }
    }
    Ok(())
}

/// `default_env`: the environment of a hook without `env` (None: this process's own).
fn run_one(hook: &Hook, state: &str, default_env: Option<&[String]>) -> Result<()> {
    let path = hook.path();
    let mut cmd = Command::new(path);
    if let Some(args) = hook.args().as_ref().filter(|a| !a.is_empty()) {
        cmd.arg0(&args[0]).args(&args[1..]);
    }
    if let Some(env) = hook.env().as_deref().or(default_env) {
        cmd.env_clear();
        for kv in env {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("starting {path:?}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is not an error (EPIPE is ignored).
        let _ = stdin.write_all(state.as_bytes());
    }
    let deadline = hook
        .timeout()
        .filter(|t| *t > 0)
        .map(|t| Instant::now() + Duration::from_secs(t as u64));
    loop {
        if let Some(status) = child.try_wait()? {
            let out = child.wait_with_output()?;
            if status.success() {
                return Ok(());
            }
            bail!(
                "{path:?}: {status}, stdout: {}, stderr: {}",
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{path:?}: timeout of {}s exceeded",
                hook.timeout().unwrap_or(0)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
