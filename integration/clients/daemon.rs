//! A client daemon (dockerd, containerd) started by a test, its output in a log file (never a
//! pipe: what it starts would inherit it and hold the test's output open). Drop stops it by
//! its pid: SIGTERM, then SIGKILL if it has not exited after 30 s.
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Daemon {
    child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Start `program args`, then poll `ready` until it answers (60 s at most).
    pub fn start(program: &str, args: &[String], log: &Path, ready: impl Fn() -> bool) -> Daemon {
        let file = File::create(log).unwrap();
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        let mut daemon = Daemon {
            child,
            log: log.to_path_buf(),
        };
        let start = Instant::now();
        while !ready() {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("{program} exited ({status}); log:\n{}", daemon.log_text());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{program} did not answer within 60 s; log:\n{}",
                daemon.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        // SAFETY: signalling the daemon this guard started.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
