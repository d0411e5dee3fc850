//! The exec'd process gets stdio and the `--preserve-fds` ones, nothing else the runtime's
//! caller (or the runtime) had open: no way back to the host through an inherited fd.

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use super::running;
use crate::support::{Bundle, Runtime, Scratch};

/// `exec -d --pid-file F [extra] ID sleep 1000` run with host files open, without
/// close-on-exec, at fds 3 and 4 of the runtime; the exec'd process's pid.
fn exec_with_open_fds(rt: &Runtime, id: &str, extra: &[&str], scratch: &Scratch) -> i32 {
    let pid_file = scratch.path().join("pid");
    let host_file = std::fs::File::open("/etc/hostname").unwrap();
    let host_dir = std::fs::File::open("/").unwrap();
    let (f3, f4) = (host_file.as_raw_fd(), host_dir.as_raw_fd());
    let mut cmd = Command::new(rt.binary());
    cmd.arg("--root")
        .arg(rt.root())
        .args(["exec", "-d", "--pid-file"]);
    cmd.arg(&pid_file).args(extra).args([id, "sleep", "1000"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: only async-signal-safe fcntl/dup2 between fork and exec. F_DUPFD first, so
    // neither source can already sit at 3 or 4 (dup2 onto itself keeps CLOEXEC); the copies
    // above 100 stay open without CLOEXEC too: more fds that must not leak.
    unsafe {
        cmd.pre_exec(move || {
            for (from, to) in [(f3, 3), (f4, 4)] {
                let high = libc::fcntl(from, libc::F_DUPFD, 100);
                if high < 0 || libc::dup2(high, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let status = cmd.status().expect("run exec");
    assert!(status.success(), "exec with open fds failed: {status}");
    let text = std::fs::read_to_string(&pid_file).expect("pid file");
    text.trim().parse().unwrap()
}

fn open_fds(pid: i32) -> Vec<(i32, String)> {
    let mut fds: Vec<(i32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .map(|e| {
            let n = e.file_name().to_string_lossy().parse().unwrap();
            let target = std::fs::read_link(e.path()).unwrap_or_default();
            (n, target.to_string_lossy().into_owned())
        })
        .collect();
    fds.sort();
    fds
}

#[test]
fn exec_keeps_only_stdio() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-fds");
    let c = running(&rt, &bundle, "ops-exec-fds", "sleep 1000");
    let scratch = Scratch::new("ops-fds");
    let pid = exec_with_open_fds(&rt, &c.id, &[], &scratch);
    let fds = open_fds(pid);
    let numbers: Vec<i32> = fds.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [0, 1, 2], "exec'd process's fds: {fds:?}");
}

#[test]
fn exec_preserve_fds_passes_exactly_n() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-pfds");
    let c = running(&rt, &bundle, "ops-exec-pfds", "sleep 1000");
    let scratch = Scratch::new("ops-pfds");
    let pid = exec_with_open_fds(&rt, &c.id, &["--preserve-fds", "1"], &scratch);
    let fds = open_fds(pid);
    let numbers: Vec<i32> = fds.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [0, 1, 2, 3], "exec'd process's fds: {fds:?}");
    assert_eq!(
        fds[3].1, "/etc/hostname",
        "fd 3 is the one the caller passed"
    );
}
