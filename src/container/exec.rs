//! `exec`: a new process in a running container's namespaces and cgroup.
use std::os::fd::{AsRawFd, OwnedFd};

use super::console_relay;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use oci_spec::runtime::Process;

use crate::cgroups;
use crate::process::exec_init::{container_namespaces, spawn_exec, ExecConfig};
use crate::process::sync::{Channel, Msg};
use crate::security::seccomp;
use crate::state::{require_status, Record, Status, Store};

pub struct ExecOptions {
    pub id: String,
    pub process: Process,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub preserve_fds: u32,
    pub ignore_paused: bool,
    pub sub_cgroup: Option<String>,
    pub detach: bool,
}

/// A process that has exec'd in the container.
pub struct Started {
    pub pid: Pid,
    /// The pty master to relay, for `--tty` without `--console-socket`.
    pub relay: Option<OwnedFd>,
}

/// Start the process; returns once it has exec'd.
pub fn exec(store: &Store, opts: &ExecOptions) -> Result<Started> {
    // Read without the state lock: with --ignore-paused the process may wait in the frozen
    // cgroup until `resume`, which takes that lock.
    let (record, dir) = store.peek(&opts.id)?;
    check_status(&record, &dir.fifo_path(), opts.ignore_paused)?;
    let plan = container_namespaces(record.init_pid)?;
    // The container's filter, compiled as create compiled it: exec'd processes get it too.
    let filter = seccomp::for_spec(&record.config)?;
    tracing::debug!(
        "exec: joining the namespaces of init {} ({:?})",
        record.init_pid,
        opts.process.args()
    );
    let terminal = opts.process.terminal().unwrap_or(false);
    // Without a console socket the runtime receives the pty itself and relays it.
    let (console, relay) = match (&opts.console_socket, terminal) {
        (Some(p), true) => (Some(crate::terminal::connect_console_socket(p)?), None),
        (None, true) if opts.detach => {
            anyhow::bail!("cannot allocate tty if shoji will detach without setting console socket")
        }
        (None, true) => {
            let (ours, theirs) = console_relay::socket_pair()?;
            (Some(theirs), Some(ours))
        }
        _ => (None, None),
    };
    let cfg = ExecConfig {
        process: &opts.process,
        init_pid: record.init_pid,
        console: console.as_ref().map(|c| c.as_raw_fd()),
        preserve_fds: opts.preserve_fds,
        seccomp: filter.as_ref(),
    };
    let spawned = spawn_exec(&cfg, &plan)?;
    let stage1 = spawned.stage1;
    tracing::debug!("exec: forked {stage1}, joining the container's cgroup");
    let joined = cgroups::driver(&record.cgroup)
        .and_then(|d| d.join(stage1, opts.sub_cgroup.as_deref()))
        .context("joining the container's cgroup");
    if let Err(e) = joined {
        let _ = nix::sys::signal::kill(stage1, nix::sys::signal::Signal::SIGKILL);
        let _ = waitpid(stage1, None);
        return Err(e);
    }
    spawned.channel.send(&Msg::Go)?;
    let agent = Agent {
        listener: filter.as_ref().and_then(|p| p.listener.as_ref()),
        state: seccomp::agent_state(serde_json::to_value(record.view(&dir.fifo_path()))?, false),
    };
    let started = wait_started(&spawned.channel, &agent);
    let _ = waitpid(stage1, None);
    let pid = started?;
    tracing::debug!("exec: process {pid} started");
    if let Some(path) = &opts.pid_file {
        std::fs::write(path, pid.to_string())
            .with_context(|| format!("writing pid file {path:?}"))?;
    }
    let relay = relay
        .map(|r| console_relay::receive_master(&r))
        .transpose()?;
    Ok(Started { pid, relay })
}

/// runc's refusals, in its words: stopped always, paused unless `--ignore-paused`.
fn check_status(record: &Record, fifo: &Path, ignore_paused: bool) -> Result<()> {
    match record.status(fifo) {
        Status::Stopped => anyhow::bail!("cannot exec in a stopped container"),
        Status::Paused if !ignore_paused => {
            anyhow::bail!("cannot exec in a paused container (use --ignore-paused to override)")
        }
        Status::Paused => Ok(()),
        _ => require_status(record, fifo, &[Status::Created, Status::Running]).map(|_| ()),
    }
}

/// Stage 1 reports the pid it forked; the socket then closes when that process execs (the
/// socket is close-on-exec), while an Error means it did not get that far. A seccomp
/// listener goes to the agent; it may arrive before the pid (the process it belongs to runs
/// beside stage 1), so it waits for the pid the agent is told about.
fn wait_started(channel: &Channel, agent: &Agent) -> Result<Pid> {
    let (mut pid, mut listener) = (None, None);
    loop {
        let msg = channel.recv_with_fd();
        let closed = msg.is_err();
        match msg {
            Ok((Msg::InitPid(p, _), _)) => pid = Some(Pid::from_raw(p)),
            Ok((Msg::SeccompListener, Some(fd))) => listener = Some(fd),
            Ok((Msg::Error(e), _)) => anyhow::bail!("unable to start container process: {e}"),
            Ok((other, _)) => anyhow::bail!("sync: unexpected {other:?}"),
            Err(e) if pid.is_none() => return Err(e).context("unable to start container process"),
            Err(_) => {}
        }
        if let (Some(p), Some(fd)) = (pid, listener.take()) {
            if let Err(e) = agent.hand_over(fd, p) {
                let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
                return Err(e).context("unable to start container process");
            }
        }
        if let (Some(p), true) = (pid, closed) {
            return Ok(p);
        }
    }
}

/// Where an exec'd process's seccomp listener goes, and the state the agent is sent with it.
struct Agent<'a> {
    listener: Option<&'a seccomp::Listener>,
    state: serde_json::Value,
}

impl Agent<'_> {
    fn hand_over(&self, fd: OwnedFd, pid: Pid) -> Result<()> {
        let listener = self
            .listener
            .context("sync: a seccomp listener nobody asked for")?;
        seccomp::notify::hand_over(listener, fd, pid.as_raw(), &self.state)
    }
}
