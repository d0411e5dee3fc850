//! Forking the container's first child. The child never returns into the caller's code: it
//! runs the init stages and `_exit`s, sending any error over the sync channel first.
use anyhow::{Context, Result};
use nix::unistd::{fork, ForkResult, Pid};

use super::init;
use super::sync::{channel_pair, Channel, Msg};
use super::InitConfig;

pub struct Spawned {
    /// Stage 1: it exits once it has forked the init and reported its pid.
    pub stage1: Pid,
    pub channel: Channel,
}

pub fn spawn_init(cfg: &InitConfig) -> Result<Spawned> {
    spawn(|chan| init::stage1(cfg, chan))
}

/// Fork stage 1, which runs `stage1` and `_exit`s; its error goes over the channel first.
pub(super) fn spawn(stage1: impl FnOnce(&Channel) -> Result<()>) -> Result<Spawned> {
    let (parent, child) = channel_pair()?;
    // SAFETY: the runtime parent is single-threaded here (no D-Bus connection exists yet), so
    // the child may run arbitrary code before it execs or exits.
    match unsafe { fork() }.context("fork")? {
        ForkResult::Parent { child: pid } => {
            drop(child);
            Ok(Spawned {
                stage1: pid,
                channel: parent,
            })
        }
        ForkResult::Child => {
            drop(parent);
            let code = match stage1(&child) {
                Ok(()) => 0,
                Err(e) => {
                    let _ = child.send(&Msg::Error(format!("{e:#}")));
                    1
                }
            };
            // SAFETY: _exit skips the parent's atexit handlers and destructors, which belong
            // to the runtime process, not to this child.
            unsafe { libc::_exit(code) }
        }
    }
}
