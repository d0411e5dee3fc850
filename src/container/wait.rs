//! Waiting for a container's process in the foreground (`run`, `exec`): the runtime is its
//! subreaper, forwards the signals a user sends it, and returns the exit status as a shell
//! would (128+signal when killed). Runs in the runtime parent, after every fork.
use anyhow::{Context, Result};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Signals the runtime passes on to the process it waits for (SIGWINCH too, unless a pty
/// relay handles it by resizing).
pub const FORWARDED: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// How long a wait for signals lasts before the child is reaped again.
const REAP_POLL: libc::timespec = libc::timespec {
    tv_sec: 0,
    tv_nsec: 100_000_000,
};

/// SIGCHLD, the forwarded signals and SIGWINCH, for a caller to block before it waits.
pub fn signal_set() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    set.add(Signal::SIGWINCH);
    FORWARDED.iter().for_each(|s| set.add(*s));
    set
}

/// Block the signals and wait for `pid` (of `exec`), forwarding signals; its exit status.
pub fn wait_for(pid: Pid) -> Result<i32> {
    let set = signal_set();
    set.thread_block().context("blocking signals")?;
    wait_forwarding(pid, &set)
}

/// Wait for `pid` with `set` already blocked, forwarding every signal but SIGCHLD.
pub fn wait_forwarding(pid: Pid, set: &SigSet) -> Result<i32> {
    loop {
        // A SIGCHLD may have arrived before we block in wait: reap first.
        if let Some(code) = reap(pid)? {
            return Ok(code);
        }
        match next_signal(set)? {
            Some(Signal::SIGCHLD) | None => {}
            Some(sig) => {
                let _ = kill(pid, sig);
            }
        }
    }
}

/// The next signal of `set`, or None after REAP_POLL: a SIGCHLD taken by a thread that does
/// not block it (a library's) is lost to this wait, and reaping again finds the exit anyway.
fn next_signal(set: &SigSet) -> Result<Option<Signal>> {
    // SAFETY: a valid set and timeout; no siginfo is asked for.
    let n = unsafe { libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &REAP_POLL) };
    if n < 0 {
        return match nix::errno::Errno::last() {
            nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR => Ok(None),
            e => Err(e).context("waiting for signals"),
        };
    }
    Ok(Some(Signal::try_from(n).context("waiting for signals")?))
}

/// Reap every exited child; `pid`'s status, if it was among them.
pub fn reap(pid: Pid) -> Result<Option<i32>> {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(p, code)) if p == pid => return Ok(Some(code)),
            Ok(WaitStatus::Signaled(p, sig, _)) if p == pid => return Ok(Some(128 + sig as i32)),
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(_) => {}
            Err(nix::errno::Errno::ECHILD) => return Ok(Some(0)),
            Err(e) => return Err(e).context("waitpid"),
        }
    }
}
