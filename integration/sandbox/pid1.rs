//! What the sandbox's PID 1 does before it execs systemd: a private overlay root (the host's /
//! read-only below, a tmpfs above), private /proc, /sys, /dev, /run, /tmp, fresh cgroup mounts
//! rooted at the new cgroup namespace, then pivot_root. The steps are prepared as C strings in
//! the test process, because they run in a child forked from a multi-threaded program, where
//! only raw system calls are safe (no allocation).
use std::ffi::CString;
use std::io;
use std::path::Path;

use libc::c_ulong;

enum Op {
    Mount {
        source: Option<CString>,
        target: CString,
        fstype: Option<CString>,
        flags: c_ulong,
        data: Option<CString>,
    },
    /// mkdir that accepts an existing directory.
    Mkdir(CString),
    /// Create an empty file to bind-mount over.
    Touch(CString),
    Symlink {
        target: CString,
        link: CString,
    },
    Chdir(CString),
    PivotRoot {
        new: CString,
        old: CString,
    },
    UmountDetach(CString),
    Rmdir(CString),
    Hostname(CString),
}

struct Step {
    op: Op,
    /// Said on stderr (the console log) when the step fails.
    what: CString,
}

/// The ordered steps; [`Plan::run`] executes them in the forked PID 1.
pub struct Plan {
    steps: Vec<Step>,
}

fn c(s: impl AsRef<str>) -> CString {
    CString::new(s.as_ref()).expect("no NUL in sandbox paths")
}

/// The layout of the new root: which cgroup hierarchies to mount and which host directories
/// to bind read-write at the same path.
pub struct Layout<'a> {
    /// Where the overlay's tmpfs goes (a host directory, not under /tmp).
    pub base: &'a Path,
    /// The file /dev/console is bound to.
    pub console: &'a Path,
    /// v1 controller hierarchies (`cpu`, `memory`…); empty on a pure cgroup v2 host.
    pub v1_controllers: &'a [String],
    pub binds: &'a [&'a Path],
}

impl Plan {
    pub fn new(l: &Layout) -> Plan {
        let mut p = Plan { steps: Vec::new() };
        let base = l.base.display().to_string();
        let root = format!("{base}/root");
        p.mount(None, "/", None, libc::MS_REC | libc::MS_PRIVATE, None);
        p.mount(
            Some("shoji-sandbox"),
            &base,
            Some("tmpfs"),
            0,
            Some("mode=755"),
        );
        for d in ["upper", "work", "root"] {
            p.op(
                Op::Mkdir(c(format!("{base}/{d}"))),
                format!("mkdir {base}/{d}"),
            );
        }
        let overlay = format!("lowerdir=/,upperdir={base}/upper,workdir={base}/work");
        p.mount(Some("overlay"), &root, Some("overlay"), 0, Some(&overlay));
        p.kernel_filesystems(&root);
        for d in l.binds {
            let d = d.display().to_string();
            p.mkdir_all(&root, &d);
            p.mount(
                Some(&d),
                &format!("{root}{d}"),
                None,
                libc::MS_BIND | libc::MS_REC,
                None,
            );
        }
        p.dev(&root, &l.console.display().to_string());
        p.cgroups(&root, l.v1_controllers);
        p.pivot(&root);
        p.op(Op::Hostname(c("shoji-sandbox")), "sethostname");
        p
    }

    fn op(&mut self, op: Op, what: impl AsRef<str>) {
        self.steps.push(Step { op, what: c(what) });
    }

    fn mount(
        &mut self,
        src: Option<&str>,
        target: &str,
        fs: Option<&str>,
        flags: c_ulong,
        data: Option<&str>,
    ) {
        let what = format!(
            "mount {} on {target}",
            fs.or(src).unwrap_or("(propagation)")
        );
        let op = Op::Mount {
            source: src.map(c),
            target: c(target),
            fstype: fs.map(c),
            flags,
            data: data.map(c),
        };
        self.op(op, what);
    }

    fn mkdir_all(&mut self, root: &str, path: &str) {
        let mut at = root.to_string();
        for part in path.split('/').filter(|s| !s.is_empty()) {
            at = format!("{at}/{part}");
            self.op(Op::Mkdir(c(&at)), format!("mkdir {at}"));
        }
    }

    /// /proc with /proc/sys read-only except net (the private netns owns those), sysfs
    /// read-only, fresh /run and /tmp.
    fn kernel_filesystems(&mut self, r: &str) {
        let (bind, ro) = (
            libc::MS_BIND | libc::MS_REC,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
        );
        self.mount(Some("proc"), &format!("{r}/proc"), Some("proc"), 0, None);
        let (sys, net) = (format!("{r}/proc/sys"), format!("{r}/proc/sys/net"));
        self.mount(Some(&sys), &sys, None, bind, None);
        self.mount(None, &sys, None, ro, None);
        self.mount(Some(&net), &net, None, bind, None);
        self.mount(None, &net, None, libc::MS_BIND | libc::MS_REMOUNT, None);
        self.mount(
            Some("sysfs"),
            &format!("{r}/sys"),
            Some("sysfs"),
            libc::MS_RDONLY,
            None,
        );
        self.mount(
            Some("tmpfs"),
            &format!("{r}/run"),
            Some("tmpfs"),
            0,
            Some("mode=755"),
        );
        self.mount(
            Some("tmpfs"),
            &format!("{r}/tmp"),
            Some("tmpfs"),
            0,
            Some("mode=1777"),
        );
    }

    /// A minimal private /dev; the console is a log file on the host.
    fn dev(&mut self, r: &str, console: &str) {
        let dev = format!("{r}/dev");
        self.mount(
            Some("dev"),
            &dev,
            Some("tmpfs"),
            libc::MS_NOSUID,
            Some("mode=755"),
        );
        for n in ["null", "zero", "full", "random", "urandom", "tty"] {
            let node = format!("{dev}/{n}");
            self.op(Op::Touch(c(&node)), format!("create {node}"));
            self.mount(Some(&format!("/dev/{n}")), &node, None, libc::MS_BIND, None);
        }
        for d in ["pts", "shm"] {
            self.op(
                Op::Mkdir(c(format!("{dev}/{d}"))),
                format!("mkdir {dev}/{d}"),
            );
        }
        let pts_opts = Some("newinstance,ptmxmode=0666,mode=620");
        self.mount(
            Some("devpts"),
            &format!("{dev}/pts"),
            Some("devpts"),
            0,
            pts_opts,
        );
        self.mount(
            Some("shm"),
            &format!("{dev}/shm"),
            Some("tmpfs"),
            0,
            Some("mode=1777"),
        );
        let links = [
            ("pts/ptmx", "ptmx"),
            ("/proc/self/fd", "fd"),
            ("/proc/self/fd/0", "stdin"),
            ("/proc/self/fd/1", "stdout"),
            ("/proc/self/fd/2", "stderr"),
        ];
        for (target, link) in links {
            let op = Op::Symlink {
                target: c(target),
                link: c(format!("{dev}/{link}")),
            };
            self.op(op, format!("symlink {dev}/{link}"));
        }
        self.op(
            Op::Touch(c(format!("{dev}/console"))),
            "create /dev/console",
        );
        self.mount(
            Some(console),
            &format!("{dev}/console"),
            None,
            libc::MS_BIND,
            None,
        );
    }

    /// Fresh cgroup mounts: made after the cgroup namespace was created, so they are rooted at
    /// the sandbox's own cgroup and systemd sees it as the root.
    fn cgroups(&mut self, r: &str, v1: &[String]) {
        let cg = format!("{r}/sys/fs/cgroup");
        if v1.is_empty() {
            self.mount(Some("cgroup2"), &cg, Some("cgroup2"), 0, None);
            return;
        }
        self.mount(Some("cgroup"), &cg, Some("tmpfs"), 0, Some("mode=755"));
        for ctrl in v1 {
            self.op(
                Op::Mkdir(c(format!("{cg}/{ctrl}"))),
                format!("mkdir {cg}/{ctrl}"),
            );
            self.mount(
                Some("cgroup"),
                &format!("{cg}/{ctrl}"),
                Some("cgroup"),
                0,
                Some(ctrl),
            );
        }
        for (dir, fs, opts) in [
            ("systemd", "cgroup", Some("none,name=systemd")),
            ("unified", "cgroup2", None),
        ] {
            self.op(
                Op::Mkdir(c(format!("{cg}/{dir}"))),
                format!("mkdir {cg}/{dir}"),
            );
            self.mount(Some(fs), &format!("{cg}/{dir}"), Some(fs), 0, opts);
        }
    }

    fn pivot(&mut self, root: &str) {
        self.op(Op::Chdir(c(root)), format!("chdir {root}"));
        self.op(Op::Mkdir(c(".oldroot")), "mkdir .oldroot");
        let op = Op::PivotRoot {
            new: c("."),
            old: c(".oldroot"),
        };
        self.op(op, "pivot_root");
        self.op(Op::Chdir(c("/")), "chdir /");
        self.op(Op::UmountDetach(c("/.oldroot")), "umount /.oldroot");
        self.op(Op::Rmdir(c("/.oldroot")), "rmdir /.oldroot");
    }

    /// Run every step; on failure say which on stderr and return the errno. Raw syscalls only.
    pub fn run(&self) -> io::Result<()> {
        for step in &self.steps {
            if let Err(e) = step.op.run() {
                report(&step.what, e.raw_os_error().unwrap_or(0));
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Op {
    fn run(&self) -> io::Result<()> {
        let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        // SAFETY: every pointer is a NUL-terminated string owned by the plan, alive for the
        // call; the calls have no memory effects beyond the kernel's.
        let rc = unsafe {
            match self {
                Op::Mount {
                    source,
                    target,
                    fstype,
                    flags,
                    data,
                } => libc::mount(
                    ptr(source),
                    target.as_ptr(),
                    ptr(fstype),
                    *flags,
                    ptr(data).cast(),
                ),
                Op::Mkdir(p) => {
                    let rc = libc::mkdir(p.as_ptr(), 0o755);
                    if rc != 0 && *libc::__errno_location() == libc::EEXIST {
                        0
                    } else {
                        rc
                    }
                }
                Op::Touch(p) => {
                    let fd = libc::open(
                        p.as_ptr(),
                        libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                        0o644,
                    );
                    if fd >= 0 {
                        libc::close(fd)
                    } else {
                        fd
                    }
                }
                Op::Symlink { target, link } => libc::symlink(target.as_ptr(), link.as_ptr()),
                Op::Chdir(p) => libc::chdir(p.as_ptr()),
                Op::PivotRoot { new, old } => {
                    libc::syscall(libc::SYS_pivot_root, new.as_ptr(), old.as_ptr()) as libc::c_int
                }
                Op::UmountDetach(p) => libc::umount2(p.as_ptr(), libc::MNT_DETACH),
                Op::Rmdir(p) => libc::rmdir(p.as_ptr()),
                Op::Hostname(h) => libc::sethostname(h.as_ptr(), h.as_bytes().len()),
            }
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// "sandbox pid 1: <what> failed: errno N" on stderr, formatted without allocating.
pub fn report(what: &CString, errno: i32) {
    let mut digits = [0u8; 12];
    let mut i = digits.len();
    let mut n = errno.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let parts: [&[u8]; 4] = [
        b"sandbox pid 1: ",
        what.as_bytes(),
        b" failed: errno ",
        &digits[i..],
    ];
    for part in parts.iter().chain([&b"\n"[..]].iter()) {
        // SAFETY: writing a live byte slice to stderr.
        unsafe { libc::write(2, part.as_ptr().cast(), part.len()) };
    }
}
