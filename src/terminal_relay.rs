//! Relaying the caller's stdio to a container's pty (`run` in the foreground with a terminal):
//! the caller's terminal goes raw so keys reach the container unchanged, and is restored when
//! the relay ends.
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};

pub struct Relay {
    saved: Option<Termios>,
    output: Option<JoinHandle<()>>,
}

/// Start copying stdin → pty and pty → stdout on two threads.
pub fn start(master: OwnedFd) -> Result<Relay> {
    let stdin = std::io::stdin();
    let saved = tcgetattr(stdin.as_fd()).ok();
    if let Some(t) = &saved {
        let mut raw = t.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).context("making the terminal raw")?;
    }
    let mut to_pty = File::from(master.try_clone().context("dup pty master")?);
    let mut from_pty = File::from(master);
    // The input thread is not joined: it may sit in read(stdin) after the container exits.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut to_pty);
    });
    let output = std::thread::spawn(move || {
        let mut out = std::io::stdout();
        let mut buf = [0u8; 8192];
        // EIO is how a pty master reports that the last slave fd closed: the end.
        while let Ok(n) = from_pty.read(&mut buf) {
            if n == 0 || out.write_all(&buf[..n]).is_err() {
                break;
            }
            let _ = out.flush();
        }
    });
    Ok(Relay {
        saved,
        output: Some(output),
    })
}

impl Drop for Relay {
    /// After the container's process exited: drain its last output, restore the terminal.
    fn drop(&mut self) {
        if let Some(h) = self.output.take() {
            let _ = h.join();
        }
        if let Some(t) = &self.saved {
            let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, t);
        }
    }
}
