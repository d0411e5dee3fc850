//! Process attributes shared by the init and by `exec`: oom score, rlimits, cwd, user and
//! capabilities, no_new_privs, the seccomp filter, then the resolved binary to exec.
//!
//! The filter goes in where runc puts it: with no_new_privs as late as possible (after
//! everything else here), without it before the capabilities are dropped, because installing
//! a filter then needs CAP_SYS_ADMIN. A notify listener goes to the parent at once, so the
//! agent has it before any later syscall of ours could wait on it.
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use oci_spec::runtime::Process;

use super::sync::{Channel, Msg};
use super::{rlimits, user};
use crate::security::{capabilities, seccomp};

/// What to execve, resolved while the runtime could still report a missing binary.
pub struct ExecTarget {
    path: CString,
    args: Vec<CString>,
    env: Vec<CString>,
}

impl ExecTarget {
    pub fn exec(self) -> Result<std::convert::Infallible> {
        nix::unistd::execve(&self.path, &self.args, &self.env)
            .with_context(|| format!("exec {:?}", self.path))
    }
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn apply(
    process: &Process,
    filter: Option<&seccomp::Program>,
    chan: &Channel,
) -> Result<ExecTarget> {
    if let Some(adj) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .with_context(|| format!("setting oom_score_adj to {adj}"))?;
    }
    if let Some(rl) = process.rlimits() {
        rlimits::apply(rl)?;
    }
    let cwd = process.cwd();
    std::fs::create_dir_all(cwd).ok();
    nix::unistd::chdir(cwd).with_context(|| format!("chdir to cwd {cwd:?} set in config.json"))?;
    verify_cwd_in_root(cwd)?;
    let nnp = process.no_new_privileges().unwrap_or(false);
    if !nnp {
        if let Some(f) = filter {
            install_filter(f, chan)?;
        }
    }
    if let Some(caps) = process.capabilities() {
        capabilities::drop_bounding(caps)?;
        capabilities::keep_across_setuid()?;
    }
    user::switch(process.user())?;
    match process.capabilities() {
        Some(caps) => capabilities::apply_sets(caps)?,
        None => capabilities::apply_sets(&Default::default())?,
    }
    if nnp {
        nix::sys::prctl::set_no_new_privs().context("prctl(PR_SET_NO_NEW_PRIVS)")?;
    }
    let target = target(process)?;
    if nnp {
        if let Some(f) = filter {
            install_filter(f, chan)?;
        }
    }
    Ok(target)
}

fn install_filter(filter: &seccomp::Program, chan: &Channel) -> Result<()> {
    if let Some(listener) = seccomp::install(filter)? {
        chan.send_fd(&Msg::SeccompListener, listener.as_raw_fd())?;
    }
    Ok(())
}

/// The kernel's getcwd names a directory outside this process's root "(unreachable)/…"
/// (glibc turns that into ENOENT): a cwd that resolved through a leaked fd or a /proc link to
/// a host directory is caught here, before the container process could use it.
fn verify_cwd_in_root(cwd: &Path) -> Result<()> {
    match nix::unistd::getcwd() {
        Ok(dir) if dir.is_absolute() => Ok(()),
        _ => bail!(
            "cwd {cwd:?} set in config.json is outside the container's root (possible container breakout)"
        ),
    }
}

fn target(process: &Process) -> Result<ExecTarget> {
    let args = process.args().as_ref().context("args must not be empty")?;
    let env: Vec<String> = process.env().clone().unwrap_or_default();
    let path_var = env
        .iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let path = look_path(&args[0], path_var)?;
    let cs = |s: &str| CString::new(s).with_context(|| format!("NUL byte in {s:?}"));
    Ok(ExecTarget {
        path: CString::new(path.as_os_str().as_encoded_bytes())?,
        args: args.iter().map(|a| cs(a)).collect::<Result<_>>()?,
        env: env.iter().map(|e| cs(e)).collect::<Result<_>>()?,
    })
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `exec.LookPath`'s rules: a name with a slash is used as is, else searched in PATH.
fn look_path(name: &str, path_var: &str) -> Result<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        if is_executable(&p) {
            return Ok(p);
        }
        bail!("exec: {name:?}: stat {name}: no such file or directory");
    }
    for dir in path_var.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let p = Path::new(dir).join(name);
        if is_executable(&p) {
            return Ok(p);
        }
    }
    bail!("exec: {name:?}: executable file not found in $PATH")
}
