//! Typed messages between the runtime parent and the container's processes, over a
//! SOCK_SEQPACKET socketpair. A message (the state hooks see carries every annotation: 256 KiB
//! from Kubernetes, megabytes from others) can exceed what one datagram may hold, so each goes
//! as datagrams of at most [`CHUNK`] bytes, the first byte of each saying whether more follow.
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use anyhow::{bail, Context, Result};
use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum Msg {
    /// Parent → stage 1: the cgroup is ready, go on.
    Go,
    /// Stage 1 → parent: a new user namespace exists; write its id maps.
    MapIds,
    /// Parent → child: done (maps written, hooks run).
    Done,
    /// Stage 1 → parent: the host pid of the process it forked, and whether that process was
    /// born in its cgroup (clone3 CLONE_INTO_CGROUP) rather than needing to be moved there.
    InitPid(i32, bool),
    /// Init → parent: mounts are made; run prestart and createRuntime hooks now.
    RunHooks,
    /// Parent → init: the state hooks see (createContainer, startContainer).
    State(String),
    /// Init → parent: everything is set up; the init now waits on the exec FIFO (or execs).
    Ready,
    /// Child → parent: setup failed.
    Error(String),
}

pub struct Channel {
    fd: OwnedFd,
}

/// A connected pair: (parent end, child end).
pub fn channel_pair() -> Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .context("creating sync socketpair")?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

/// The most payload bytes in one datagram (well under the socket buffer on any kernel).
const CHUNK: usize = 32 * 1024;
const MORE: u8 = 0;
const LAST: u8 = 1;

impl Channel {
    pub fn send(&self, msg: &Msg) -> Result<()> {
        let data = serde_json::to_vec(msg)?;
        let mut chunks = data.chunks(CHUNK).peekable();
        while let Some(chunk) = chunks.next() {
            let mut frame = Vec::with_capacity(chunk.len() + 1);
            frame.push(if chunks.peek().is_some() { MORE } else { LAST });
            frame.extend_from_slice(chunk);
            send(self.fd.as_raw_fd(), &frame, MsgFlags::MSG_NOSIGNAL).context("sync send")?;
        }
        Ok(())
    }

    /// The next message; an EOF means the peer died before saying why.
    pub fn recv(&self) -> Result<Msg> {
        let mut buf = vec![0u8; CHUNK + 1];
        let mut data = Vec::new();
        loop {
            let n = recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()).context("sync recv")?;
            if n == 0 {
                bail!("container init exited before it was ready");
            }
            data.extend_from_slice(&buf[1..n]);
            if buf[0] == LAST {
                break;
            }
        }
        serde_json::from_slice(&data).context("sync message")
    }

    /// Receive and fail on anything but `want`; a child's Error becomes this error.
    pub fn expect(&self, want: &Msg) -> Result<()> {
        match self.recv()? {
            m if &m == want => Ok(()),
            Msg::Error(e) => Err(anyhow::anyhow!(e)),
            other => bail!("sync: expected {want:?}, got {other:?}"),
        }
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_fd().as_raw_fd()
    }
}
