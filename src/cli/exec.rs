//! `shoji exec`: flags → an OCI Process (from `--process` or the container's own process
//! with overrides), then wait for it unless `--detach`.
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{Capabilities, Process};

use super::GlobalArgs;
use crate::container::console_relay::relay_until_exit;
use crate::container::exec::{exec, ExecOptions, Started};
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// Path to the process.json
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Path to an AF_UNIX socket which will receive the console's pty master
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Current working directory in the container
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Set environment variables
    #[arg(short, long)]
    pub env: Vec<String>,
    /// UID (format: <uid>[:<gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Additional gids
    #[arg(short = 'g', long)]
    pub additional_gids: Vec<u32>,
    /// Detach from the container's process
    #[arg(short, long)]
    pub detach: bool,
    /// Specify the file to write the process id to
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Add a capability to the bounding set for the process
    #[arg(short, long)]
    pub cap: Vec<String>,
    /// Set the no new privileges value for the process
    #[arg(long)]
    pub no_new_privs: bool,
    /// Set the apparmor profile for the process
    #[arg(long)]
    pub apparmor: Option<String>,
    /// Set the asm process label for the process commonly used with selinux
    #[arg(long)]
    pub process_label: Option<String>,
    /// Pass N additional file descriptors to the container
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// Allow exec in a paused container
    #[arg(long)]
    pub ignore_paused: bool,
    /// Run the process in an (existing) sub-cgroup of the container's cgroup
    #[arg(long)]
    pub cgroup: Option<String>,
    /// The container id
    pub id: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(g: &GlobalArgs, a: ExecArgs) -> Result<i32> {
    // runc's prefix and exit status for every failure before the process runs, so a caller
    // tells a runtime error (255) from the process's own status (passed through as is).
    let started = start(g, &a).map_err(|e| e.context(super::Failed::new("exec failed", 255)))?;
    if a.detach {
        return Ok(0);
    }
    match started.relay {
        Some(master) => relay_until_exit(master, started.pid),
        None => crate::container::wait::wait_for(started.pid),
    }
}

fn start(g: &GlobalArgs, a: &ExecArgs) -> Result<Started> {
    let store = Store::new(&g.root)?;
    let process = build_process(a, &store)?;
    crate::spec::check_process(&process)?;
    if !a.detach {
        nix::sys::prctl::set_child_subreaper(true).context("prctl(PR_SET_CHILD_SUBREAPER)")?;
    }
    let opts = ExecOptions {
        id: a.id.clone(),
        process,
        console_socket: a.console_socket.clone(),
        pid_file: a.pid_file.clone(),
        preserve_fds: a.preserve_fds,
        ignore_paused: a.ignore_paused,
        sub_cgroup: a.cgroup.clone(),
        detach: a.detach,
    };
    exec(&store, &opts)
}

fn build_process(a: &ExecArgs, store: &Store) -> Result<Process> {
    if let Some(path) = &a.process {
        let data = std::fs::read(path).with_context(|| format!("reading process {path:?}"))?;
        return partial_process(&data).with_context(|| format!("parsing process {path:?}"));
    }
    if a.command.is_empty() {
        bail!("process args cannot be empty");
    }
    let (record, _) = store.peek(&a.id)?;
    let mut p = record.config.process().clone().unwrap_or_default();
    p.set_args(Some(a.command.clone()));
    p.set_terminal(Some(a.tty));
    p.set_env(Some(with_env(p.env().clone().unwrap_or_default(), &a.env)));
    if let Some(cwd) = &a.cwd {
        p.set_cwd(cwd.clone());
    }
    if let Some(u) = &a.user {
        let (uid, gid) = parse_user(u)?;
        let mut user = p.user().clone();
        user.set_uid(uid);
        if let Some(g) = gid {
            user.set_gid(g);
        }
        p.set_user(user);
    }
    if !a.additional_gids.is_empty() {
        let mut user = p.user().clone();
        user.set_additional_gids(Some(a.additional_gids.clone()));
        p.set_user(user);
    }
    if a.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if a.apparmor.is_some() {
        p.set_apparmor_profile(a.apparmor.clone());
    }
    if a.process_label.is_some() {
        p.set_selinux_label(a.process_label.clone());
    }
    add_caps(&mut p, &a.cap)?;
    Ok(p)
}

/// A `--process` file as runc reads it: any field may be missing and takes Go's zero value
/// (no `user` is 0:0, no env, no capabilities, no rlimits), except what runc requires: args,
/// and an absolute cwd.
fn partial_process(data: &[u8]) -> Result<Process> {
    let mut v: serde_json::Value = serde_json::from_slice(data)?;
    let obj = v.as_object_mut().context("not a JSON object")?;
    obj.entry("user")
        .or_insert_with(|| serde_json::json!({"uid": 0, "gid": 0}));
    match obj.get("cwd").and_then(|c| c.as_str()) {
        None | Some("") => bail!("cwd property must not be empty"),
        Some(c) if !c.starts_with('/') => bail!("cwd must be an absolute path"),
        Some(_) => {}
    }
    let p: Process = serde_json::from_value(v)?;
    if p.args().as_ref().is_none_or(|a| a.is_empty()) {
        bail!("process args cannot be empty");
    }
    Ok(p)
}

/// `-e KEY=VALUE` replaces the container's KEY rather than adding a second one (getenv
/// would find the first, old, value), as runc's does.
fn with_env(mut env: Vec<String>, extra: &[String]) -> Vec<String> {
    for kv in extra {
        let key = kv.split('=').next().unwrap_or(kv);
        env.retain(|old| old.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    env
}

fn parse_user(u: &str) -> Result<(u32, Option<u32>)> {
    let bad = || anyhow::anyhow!("invalid --user {u:?}: want <uid>[:<gid>]");
    match u.split_once(':') {
        Some((uid, gid)) => Ok((
            uid.parse().map_err(|_| bad())?,
            Some(gid.parse().map_err(|_| bad())?),
        )),
        None => Ok((u.parse().map_err(|_| bad())?, None)),
    }
}

/// `--cap` adds to the bounding, effective and permitted sets, as runc's does.
fn add_caps(p: &mut Process, caps: &[String]) -> Result<()> {
    if caps.is_empty() {
        return Ok(());
    }
    let mut c = p.capabilities().clone().unwrap_or_default();
    let parsed: Capabilities = caps
        .iter()
        .map(|s| {
            let v = serde_json::Value::String(s.to_ascii_uppercase());
            serde_json::from_value(v).map_err(|_| anyhow::anyhow!("unknown capability {s:?}"))
        })
        .collect::<Result<_>>()?;
    let merge = |set: &Option<Capabilities>| {
        let mut s = set.clone().unwrap_or_default();
        s.extend(parsed.iter().cloned());
        Some(s)
    };
    c.set_bounding(merge(c.bounding()));
    c.set_effective(merge(c.effective()));
    c.set_permitted(merge(c.permitted()));
    p.set_capabilities(Some(c));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_process_takes_runcs_defaults() {
        let p = partial_process(br#"{"args": ["id"], "cwd": "/"}"#).unwrap();
        assert_eq!((p.user().uid(), p.user().gid()), (0, 0));
        assert!(p.env().is_none() && p.capabilities().is_none() && p.rlimits().is_none());
        let err = |json: &str| format!("{:#}", partial_process(json.as_bytes()).unwrap_err());
        assert!(err(r#"{"args": ["id"]}"#).contains("cwd property must not be empty"));
        assert!(err(r#"{"args": ["id"], "cwd": "tmp"}"#).contains("absolute"));
        assert!(err(r#"{"cwd": "/"}"#).contains("args cannot be empty"));
    }

    #[test]
    fn env_flags_replace_keys() {
        let base = vec!["PATH=/bin".to_string(), "TERM=xterm".to_string()];
        let extra = ["TERM=dumb".to_string(), "NEW=1".to_string()];
        assert_eq!(with_env(base, &extra), ["PATH=/bin", "TERM=dumb", "NEW=1"]);
    }
}
