//! SCMP_ACT_NOTIFY: the listener fd goes to the agent at `listenerPath` exactly as runc sends
//! it — one message on a unix stream connection, the container process state as JSON with the
//! fd in SCM_RIGHTS — so existing seccomp agents work unchanged. Runs in the runtime parent,
//! which received the fd from the container's process. When the agent closes the listener
//! the kernel fails every notified syscall with ENOSYS.
use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;

use anyhow::{bail, Context, Result};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use oci_spec::runtime::LinuxSeccomp;
use serde::Serialize;

use super::Listener;

/// The name runc gives the listener in `fds` (runtime-spec's SeccompFdName).
const SECCOMP_FD_NAME: &str = "seccompFd";

/// runtime-spec's ContainerProcessState, field for field in runc's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerProcessState<'a> {
    oci_version: &'a str,
    fds: [&'a str; 1],
    pid: i32,
    #[serde(skip_serializing_if = "str::is_empty")]
    metadata: &'a str,
    state: &'a serde_json::Value,
}

/// The agent's socket, checked before the container exists: set, a path (not an abstract
/// name), and a socket there. Whether it listens shows when the listener is handed over,
/// still before the container's process runs.
pub fn listener(s: &LinuxSeccomp) -> Result<Listener> {
    let field = "linux.seccomp.listenerPath";
    let path = s.listener_path().clone().unwrap_or_default();
    let text = path.to_string_lossy();
    if text.is_empty() {
        bail!("{field} must be set when a rule uses SCMP_ACT_NOTIFY");
    }
    if text.starts_with('@') || text.starts_with('\0') {
        bail!("{field} {path:?}: abstract unix sockets are not supported; give a socket file");
    }
    let meta = std::fs::metadata(&path).with_context(|| format!("{field} {path:?}"))?;
    if !meta.file_type().is_socket() {
        bail!("{field} {path:?} is not a unix socket");
    }
    Ok(Listener {
        path,
        metadata: s.listener_metadata().clone().unwrap_or_default(),
    })
}

/// Send the listener of the process `pid` to the agent, with the container's `state` (its
/// status is "creating" for the init, as runc reports it then).
pub fn hand_over(l: &Listener, fd: OwnedFd, pid: i32, state: &serde_json::Value) -> Result<()> {
    let agent = UnixStream::connect(&l.path).with_context(|| {
        format!(
            "connecting to the seccomp agent at {:?} (linux.seccomp.listenerPath)",
            l.path
        )
    })?;
    let msg = ContainerProcessState {
        oci_version: state["ociVersion"].as_str().unwrap_or_default(),
        fds: [SECCOMP_FD_NAME],
        pid,
        metadata: &l.metadata,
        state,
    };
    let data = serde_json::to_vec(&msg)?;
    let fds = [fd.as_raw_fd()];
    sendmsg::<()>(
        agent.as_raw_fd(),
        &[IoSlice::new(&data)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .with_context(|| format!("sending the seccomp listener to the agent at {:?}", l.path))?;
    Ok(())
}
