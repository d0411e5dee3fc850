//! Typed messages between the runtime parent and the container's processes, over a
//! SOCK_SEQPACKET socketpair. A message (the state hooks see carries every annotation: 256 KiB
//! from Kubernetes, megabytes from others) can exceed what one datagram may hold, so each goes
//! as datagrams of at most [`CHUNK`] bytes, the first byte of each saying whether more follow.
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use anyhow::{bail, ensure, Context, Result};
use nix::sys::socket::{
    recvmsg, send, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned,
    MsgFlags, SockFlag, SockType,
};
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
    /// Child → parent, with the fd in SCM_RIGHTS: the seccomp notify listener, for the agent.
    SeccompListener,
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

    /// `msg` with `fd` attached (SCM_RIGHTS), in one datagram; the receiver gets its own copy.
    pub fn send_fd(&self, msg: &Msg, fd: RawFd) -> Result<()> {
        let mut frame = vec![LAST];
        frame.extend(serde_json::to_vec(msg)?);
        ensure!(
            frame.len() <= CHUNK,
            "sync: {msg:?} too long to go with an fd"
        );
        let fds = [fd];
        sendmsg::<()>(
            self.fd.as_raw_fd(),
            &[IoSlice::new(&frame)],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        )
        .context("sync send with fd")?;
        Ok(())
    }

    /// The next message; an EOF means the peer died before saying why.
    pub fn recv(&self) -> Result<Msg> {
        Ok(self.recv_with_fd()?.0)
    }

    /// The next message and the fd that came with it, if any.
    pub fn recv_with_fd(&self) -> Result<(Msg, Option<OwnedFd>)> {
        let mut buf = vec![0u8; CHUNK + 1];
        let mut data = Vec::new();
        let mut fd = None;
        loop {
            let mut cmsg = nix::cmsg_space!(RawFd);
            let mut iov = [IoSliceMut::new(&mut buf)];
            let got = recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            )
            .context("sync recv")?;
            for c in got.cmsgs().context("sync recv")? {
                if let ControlMessageOwned::ScmRights(fds) = c {
                    // SAFETY: SCM_RIGHTS hands us new fds that nothing else owns.
                    fd = fds.first().map(|&f| unsafe { OwnedFd::from_raw_fd(f) });
                }
            }
            let n = got.bytes;
            if n == 0 {
                bail!("container init exited before it was ready");
            }
            data.extend_from_slice(&buf[1..n]);
            if buf[0] == LAST {
                break;
            }
        }
        Ok((serde_json::from_slice(&data).context("sync message")?, fd))
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
