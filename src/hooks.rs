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

/// Run every hook of `kind` in order with `state` on stdin.
pub fn run(hooks: &Option<Hooks>, kind: Kind, state: &str) -> Result<()> {
    let Some(list) = hooks.as_ref().and_then(|h| kind.select(h)) else {
        return Ok(());
    };
    for (i, hook) in list.iter().enumerate() {
        if let Err(e) = run_one(hook, state) {
            let err = e.context(format!("error running {} hook #{i}", kind.name()));
            if kind.fatal() {
                return Err(err);
            }
            tracing::warn!("{err:#}");
        }
    }
    Ok(())
}

fn run_one(hook: &Hook, state: &str) -> Result<()> {
    let path = hook.path();
    let mut cmd = Command::new(path);
    if let Some(args) = hook.args().as_ref().filter(|a| !a.is_empty()) {
        cmd.arg0(&args[0]).args(&args[1..]);
    }
    cmd.env_clear();
    for kv in hook.env().iter().flatten() {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
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
