//! The systemd sandbox (test tier 2): a real systemd as PID 1 of new pid, mount, cgroup, uts,
//! ipc and net namespaces, on a private overlay root whose lower layer is the host's / (read
//! only) and whose upper layer is a tmpfs — so nothing systemd writes (tmpfiles emptying /tmp,
//! journald) reaches the host. Never boot systemd on the host's own root.
//!
//! Runs in the test process. [`shared`] starts one sandbox per test binary; it is stopped (by
//! its pid) and its cgroups removed when the process exits, and by [`Sandbox`]'s Drop when a
//! start fails half-way. [`Sandbox::command`] runs a program inside, in the namespace's root
//! cgroup, as a user's `nsenter` would.
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

mod pid1;
pub mod runs;

const SYSTEMD: &str = "/lib/systemd/systemd";

/// A running sandboxed systemd.
pub struct Sandbox {
    /// Unique per test process; names the cgroups and the work directory.
    pub name: String,
    /// Host directory with the overlay's tmpfs mount point and the console log.
    work: PathBuf,
    /// The sandbox's cgroup in every host hierarchy (its cgroup namespace root), deepest last.
    cgroups: Vec<PathBuf>,
    /// `unshare --fork`'s role: the parent of PID 1, in the host's pid namespace.
    keeper: Mutex<Option<Child>>,
    /// Host pid of the sandbox's systemd.
    pub pid: i32,
    /// Host directories visible read-write at the same path inside.
    pub binds: Vec<PathBuf>,
}

impl Sandbox {
    /// Boot systemd (basic.target) and wait until both its private socket and the system bus
    /// socket exist. `work` must not be under /tmp (the sandbox's own /tmp is a fresh tmpfs).
    pub fn start(work: &Path, binds: &[PathBuf]) -> Result<Sandbox> {
        remove_stale(work);
        let name = format!("shoji-sandbox-{}", std::process::id());
        let work = work.join(&name);
        fs::create_dir_all(work.join("ns")).with_context(|| format!("creating {work:?}"))?;
        let mut sb = Sandbox {
            name,
            work,
            cgroups: Vec::new(),
            keeper: Mutex::new(None),
            pid: 0,
            binds: binds.to_vec(),
        };
        let v1 = sb.make_cgroups()?;
        sb.boot(&v1)?;
        sb.wait_ready()?;
        Ok(sb)
    }

    /// A dedicated cgroup below ours in every hierarchy, which becomes the sandbox's root.
    fn make_cgroups(&mut self) -> Result<Vec<String>> {
        let mut v1 = Vec::new();
        for (ctrl, mount, path) in own_cgroups()? {
            let dir = mount.join(path.trim_start_matches('/')).join(&self.name);
            fs::create_dir_all(&dir).with_context(|| format!("creating {dir:?}"))?;
            if ctrl == "cpuset" {
                // A v1 cpuset cgroup takes no process until it has cpus and mems.
                for f in ["cpuset.cpus", "cpuset.mems"] {
                    let parent = fs::read_to_string(dir.parent().unwrap().join(f))?;
                    fs::write(dir.join(f), parent.trim())?;
                }
            }
            self.cgroups.push(dir);
            if !ctrl.is_empty() && !ctrl.starts_with("name=") {
                v1.push(ctrl);
            }
        }
        Ok(v1)
    }

    fn boot(&mut self, v1: &[String]) -> Result<()> {
        let console = self.work.join("console.log");
        let log = fs::File::create(&console)?;
        let binds: Vec<&Path> = self.binds.iter().map(PathBuf::as_path).collect();
        let plan = pid1::Plan::new(&pid1::Layout {
            base: &self.work.join("ns"),
            console: &console,
            v1_controllers: v1,
            binds: &binds,
        });
        let procs = cgroup_procs(&self.cgroups);
        let mut cmd = Command::new(SYSTEMD);
        cmd.args([
            "--unit=basic.target",
            "--log-color=no",
            "--log-target=console",
        ])
        .env_clear()
        .env("container", "shoji-sandbox")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
        // SAFETY: the closure makes only raw system calls on memory prepared before the fork.
        unsafe { cmd.pre_exec(move || become_pid1(&procs, &plan)) };
        let keeper = cmd.spawn().context("starting the sandbox's systemd")?;
        let keeper_pid = keeper.id();
        *self.keeper.lock().unwrap() = Some(keeper);
        let children = format!("/proc/{keeper_pid}/task/{keeper_pid}/children");
        self.pid = poll(Duration::from_secs(5), || {
            let pids = fs::read_to_string(&children).ok()?;
            pids.split_whitespace().next()?.parse().ok()
        })
        .with_context(|| {
            format!(
                "the sandbox's PID 1 did not appear; console:\n{}",
                self.console()
            )
        })?;
        // For a later run to clean up after this one if it is killed before it can.
        fs::write(self.work.join("systemd.pid"), self.pid.to_string())?;
        Ok(())
    }

    fn wait_ready(&self) -> Result<()> {
        let root = PathBuf::from(format!("/proc/{}/root", self.pid));
        let sockets = [
            root.join("run/systemd/private"),
            root.join("run/dbus/system_bus_socket"),
        ];
        poll(Duration::from_secs(20), || {
            sockets.iter().all(|s| s.exists()).then_some(())
        })
        .with_context(|| {
            format!(
                "systemd in the sandbox did not come up; console:\n{}",
                self.console()
            )
        })
    }

    /// What systemd wrote to its console.
    pub fn console(&self) -> String {
        fs::read_to_string(self.work.join("console.log")).unwrap_or_default()
    }

    /// `program` inside the sandbox's namespaces, first moved into its root cgroup in every
    /// hierarchy (so it reads its cgroup as `/`, like a process systemd started).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let procs = cgroup_procs(&self.cgroups);
        let mut cmd = Command::new("nsenter");
        cmd.args([
            "-t",
            &self.pid.to_string(),
            "-m",
            "-p",
            "-C",
            "-u",
            "-i",
            "-n",
            "--",
        ])
        .arg(program);
        // SAFETY: only raw system calls on strings prepared before the fork.
        unsafe { cmd.pre_exec(move || join_cgroups(&procs)) };
        cmd
    }

    /// Power systemd off (SIGRTMIN+4), kill it if it hangs, remove its cgroups and work dir.
    /// Idempotent.
    pub fn stop(&self) {
        let Some(mut keeper) = self.keeper.lock().unwrap().take() else {
            self.remove_cgroups();
            return;
        };
        if self.pid > 0 {
            // SAFETY: signalling the pid this sandbox started.
            unsafe { libc::kill(self.pid, libc::SIGRTMIN() + 4) };
        }
        let exited = poll(Duration::from_secs(10), || keeper.try_wait().ok().flatten());
        if exited.is_err() {
            if self.pid > 0 {
                // SAFETY: as above.
                unsafe { libc::kill(self.pid, libc::SIGKILL) };
            }
            let _ = keeper.kill();
            let _ = keeper.wait();
        }
        self.remove_cgroups();
        let _ = fs::remove_dir_all(&self.work);
    }

    fn remove_cgroups(&self) {
        for dir in &self.cgroups {
            // Processes leave their cgroups a moment after they die: retry briefly.
            let _ = poll(Duration::from_secs(5), || remove_tree(dir).ok());
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

static SHARED: Mutex<Option<Arc<Sandbox>>> = Mutex::new(None);
static AT_EXIT: Once = Once::new();

/// The sandbox of this test binary, started on first use under `work`, with `binds` (host
/// directories) visible read-write at their own paths inside. The host's / is the overlay's
/// lower layer, so built binaries are visible without binds.
pub fn shared(work: &Path, binds: &[PathBuf]) -> Arc<Sandbox> {
    let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(sb) = slot.as_ref() {
        return sb.clone();
    }
    AT_EXIT.call_once(|| {
        // SAFETY: registering a plain extern "C" function.
        unsafe { libc::atexit(stop_shared) };
    });
    let sb = Arc::new(Sandbox::start(work, binds).unwrap_or_else(|e| panic!("sandbox: {e:#}")));
    *slot = Some(sb.clone());
    sb
}

/// libtest exits the process after the last test; stop the shared sandbox then.
extern "C" fn stop_shared() {
    if let Some(sb) = SHARED.lock().unwrap_or_else(|e| e.into_inner()).take() {
        sb.stop();
    }
}

/// Sandboxes left by test processes that were killed (Ctrl-C, a timeout): power off the
/// systemd each one started (by its recorded pid, after checking it is that sandbox's systemd)
/// and remove its cgroups and work directory.
fn remove_stale(work: &Path) {
    let Ok(entries) = fs::read_dir(work) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(owner) = name
            .strip_prefix("shoji-sandbox-")
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        let pid: i32 = fs::read_to_string(entry.path().join("systemd.pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0);
        let cgroup = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if pid > 0 && exe.ends_with("systemd") && cgroup.contains(&format!("/{name}")) {
            // SAFETY: signalling the systemd that sandbox recorded, checked above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = poll(Duration::from_secs(5), || {
                (!Path::new(&format!("/proc/{pid}")).exists()).then_some(())
            });
        }
        if let Ok(own) = own_cgroups() {
            for (_, mount, path) in own {
                let dir = mount.join(path.trim_start_matches('/')).join(&name);
                let _ = poll(Duration::from_secs(5), || remove_tree(&dir).ok());
            }
        }
        let _ = fs::remove_dir_all(entry.path());
    }
}

/// (controller line, mount point, path) for each hierarchy in /proc/self/cgroup.
fn own_cgroups() -> Result<Vec<(String, PathBuf, String)>> {
    let unified = is_cgroup2("/sys/fs/cgroup");
    let mut out = Vec::new();
    for line in fs::read_to_string("/proc/self/cgroup")?.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrl, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or("/"));
        let mount = match ctrl {
            "" if unified => PathBuf::from("/sys/fs/cgroup"),
            "" => PathBuf::from("/sys/fs/cgroup/unified"),
            c => PathBuf::from("/sys/fs/cgroup").join(c.trim_start_matches("name=")),
        };
        if mount.is_dir() {
            out.push((ctrl.to_string(), mount, path.to_string()));
        }
    }
    if out.is_empty() {
        bail!("no cgroup hierarchy found under /sys/fs/cgroup");
    }
    Ok(out)
}

fn is_cgroup2(path: &str) -> bool {
    nix::sys::statfs::statfs(path)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

fn cgroup_procs(dirs: &[PathBuf]) -> Vec<CString> {
    dirs.iter()
        .map(|d| {
            CString::new(d.join("cgroup.procs").into_os_string().into_encoded_bytes()).unwrap()
        })
        .collect()
}

/// Move the calling (forked, single-threaded) process into each cgroup. Raw syscalls only.
fn join_cgroups(procs: &[CString]) -> io::Result<()> {
    for p in procs {
        // SAFETY: a NUL-terminated path and a two-byte buffer.
        let ok = unsafe {
            let fd = libc::open(p.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            let ok = fd >= 0 && libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
            if fd >= 0 {
                libc::close(fd);
            }
            ok
        };
        if !ok {
            let err = io::Error::last_os_error();
            pid1::report(p, err.raw_os_error().unwrap_or(0));
            return Err(err);
        }
    }
    Ok(())
}

/// In the forked child: join the sandbox cgroups, unshare, fork PID 1 and return in it (std
/// then execs systemd); the first child stays behind as PID 1's parent, like `unshare --fork`.
fn become_pid1(procs: &[CString], plan: &pid1::Plan) -> io::Result<()> {
    join_cgroups(procs)?;
    let flags = libc::CLONE_NEWNS
        | libc::CLONE_NEWCGROUP
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWPID;
    // SAFETY: unshare and fork in a single-threaded child; the parent branch never returns.
    unsafe {
        if libc::unshare(flags) != 0 {
            return Err(io::Error::last_os_error());
        }
        match libc::fork() {
            -1 => return Err(io::Error::last_os_error()),
            0 => {}
            child => {
                // Let go of std's exec-status pipe (and everything else) so spawn() returns
                // once PID 1 has exec'd; then live exactly as long as PID 1.
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                let mut status = 0;
                while libc::waitpid(child, &mut status, 0) < 0
                    && *libc::__errno_location() == libc::EINTR
                {}
                libc::_exit(if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    1
                });
            }
        }
    }
    plan.run()
}

/// Remove a cgroup directory tree, deepest first.
fn remove_tree(dir: &Path) -> io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            remove_tree(&entry.path())?;
        }
    }
    fs::remove_dir(dir)
}

/// Call `f` every 20 ms until it returns Some, or fail after `limit`.
fn poll<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Result<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if start.elapsed() > limit {
            bail!("gave up after {limit:?}");
        }
        sleep(Duration::from_millis(20));
    }
}

/// The libtest arguments that re-run exactly the case `name` (ignored or not) inside the
/// sandbox, its output shown, alone.
pub fn case_args(name: &str) -> [&str; 5] {
    [
        name,
        "--exact",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ]
}

/// A test case re-run inside the sandbox passed: it exited 0 and printed `{marker}{name}`
/// (so a filter that matched nothing cannot pass). Its stdout is shown with --nocapture (the
/// bench's figures), captured by libtest otherwise.
pub fn assert_case_ran(out: &std::process::Output, name: &str, marker: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(&format!("{marker}{name}")),
        "case {name} inside the sandbox: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    print!("{stdout}");
}
