//! `shoji run`: create + start; without `--detach`, wait for the process, forward signals to
//! it, return its exit status (128+signal when killed) and delete it unless `--keep`.
use std::os::fd::AsRawFd;

use anyhow::{Context, Result};
use nix::unistd::Pid;

use super::create::CreateArgs;
use super::GlobalArgs;
use crate::container::{console_relay, create::create, delete::delete, start::start_loaded, wait};
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub create: CreateArgs,
    /// Detach from the container's process
    #[arg(short, long)]
    pub detach: bool,
    /// Do not delete the container after it exits
    #[arg(long)]
    pub keep: bool,
}

pub fn run(g: &GlobalArgs, a: RunArgs) -> Result<i32> {
    let store = Store::new(&g.root)?;
    if !a.detach {
        // The init is our grandchild; as subreaper we can wait for it.
        nix::sys::prctl::set_child_subreaper(true).context("prctl(PR_SET_CHILD_SUBREAPER)")?;
    }
    let mut opts = a.create.options(g);
    // In the foreground without --console-socket we are the console socket (as runc).
    let local = match (a.detach, &opts.console_socket) {
        (false, None) => Some(console_relay::socket_pair()?),
        _ => None,
    };
    opts.local_console = local.as_ref().map(|(_, theirs)| theirs.as_raw_fd());
    let created = create(&store, &opts)?;
    let init = Pid::from_raw(created.record.init_pid);
    let wants_tty = created
        .record
        .config
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    // The init sent the pty master before it reported ready.
    let master = match &local {
        Some((ours, _)) if wants_tty => Some(console_relay::receive_master(ours)?),
        _ => None,
    };
    // Started under the lock create took, from the record it saved (nothing read back); the
    // lock is released once the process runs, as a separate `start` would.
    if a.detach {
        return start_loaded(&created.dir, &created.record).map(|()| 0);
    }
    // Blocked only now: the init was forked with the caller's mask and has not exec'd yet.
    let set = wait::signal_set();
    set.thread_block().context("blocking signals")?;
    let started = start_loaded(&created.dir, &created.record);
    drop(created.dir);
    tracing::debug!("started");
    let code = match (started, master) {
        (Ok(()), Some(master)) => console_relay::relay_until_exit(master, init)?,
        (Ok(()), None) => wait::wait_forwarding(init, &set)?,
        (Err(e), _) => {
            let _ = delete(&store, &a.create.id, true);
            return Err(e);
        }
    };
    tracing::debug!("container process exited with {code}");
    if !a.keep {
        delete(&store, &a.create.id, true)?;
        tracing::debug!("deleted");
    }
    Ok(code)
}
