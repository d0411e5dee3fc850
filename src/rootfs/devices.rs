//! /dev contents: the default nodes (null, zero, full, random, urandom, tty) and
//! `linux.devices`, then /dev/ptmx and the /proc/self/fd links. A user namespace cannot mknod,
//! so there the host's node is bind-mounted onto an empty file instead (as runc does).
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{fstat, major, makedev, minor, mknodat, Mode, SFlag};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType, Mount};

use super::safe_path::{clean, Root};
use super::sys_mount::{errno_error, io_error, proc_fd};

/// A device node to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub path: PathBuf,
    pub kind: SFlag,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

const DEFAULTS: &[(&str, u64, u64)] = &[
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

/// runc leaves /dev alone when the spec binds something over it.
pub fn needs_dev_setup(mounts: &[Mount]) -> bool {
    let binds_dev = |m: &Mount| {
        let bind = m.typ().as_deref() == Some("bind")
            || m.options()
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .any(|o| o == "bind" || o == "rbind");
        bind && clean(m.destination()) == Path::new("dev")
    };
    !mounts.iter().any(binds_dev)
}

/// The defaults (unless the spec lists the same path) followed by the spec's devices;
/// /dev/ptmx is left to `setup_ptmx`.
pub fn node_list(spec: &[LinuxDevice]) -> Result<Vec<Node>> {
    let spec_paths: Vec<PathBuf> = spec.iter().map(|d| clean(d.path())).collect();
    let mut out: Vec<Node> = DEFAULTS
        .iter()
        .filter(|(p, _, _)| !spec_paths.contains(&clean(Path::new(p))))
        .map(|&(p, major, minor)| Node {
            path: p.into(),
            kind: SFlag::S_IFCHR,
            major,
            minor,
            mode: 0o666,
            uid: 0,
            gid: 0,
        })
        .collect();
    for d in spec
        .iter()
        .filter(|d| clean(d.path()) != Path::new("dev/ptmx"))
    {
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            LinuxDeviceType::A => bail!(
                "{:?} is not a valid device type for device {:?}",
                "a",
                d.path()
            ),
        };
        let (Ok(major), Ok(minor)) = (u64::try_from(d.major()), u64::try_from(d.minor())) else {
            bail!(
                "invalid major:minor {}:{} for device {:?}",
                d.major(),
                d.minor(),
                d.path()
            );
        };
        let mode = d.file_mode().map_or(0o666, |m| m & 0o7777);
        let (uid, gid) = (d.uid().unwrap_or(0), d.gid().unwrap_or(0));
        out.push(Node {
            path: d.path().clone(),
            kind,
            major,
            minor,
            mode,
            uid,
            gid,
        });
    }
    Ok(out)
}

/// Create every node, then /dev/ptmx and the links.
pub fn setup_dev(root: &Root, spec: &[LinuxDevice], user_ns: bool) -> Result<()> {
    for node in node_list(spec)? {
        create_node(root, &node, user_ns).context("error creating device nodes")?;
    }
    setup_ptmx(root).context("error setting up ptmx")?;
    setup_links(root).context("error setting up /dev symlinks")
}

fn create_node(root: &Root, node: &Node, user_ns: bool) -> Result<()> {
    let rel = clean(&node.path);
    let (parent, name) = root
        .parent_of(&rel)
        .with_context(|| format!("mkdir parent of device inode {:?}", node.path))?;
    if user_ns {
        return bind_host_node(&parent, name, node);
    }
    let dev = makedev(node.major, node.minor);
    match mknodat(
        Some(parent.as_raw_fd()),
        name,
        node.kind,
        Mode::from_bits_truncate(node.mode),
        dev,
    ) {
        Ok(()) => {}
        Err(Errno::EEXIST) => return Ok(()),
        Err(Errno::EPERM) => return bind_host_node(&parent, name, node),
        Err(e) => return Err(errno_error(e)).context(format!("mknodat {:?}", node.path)),
    }
    let fd = open_node(&parent, name, OFlag::O_PATH | OFlag::O_NOFOLLOW, 0)?;
    let st = fstat(fd.as_raw_fd()).map_err(errno_error)?;
    // A FIFO has no device number, whatever major:minor the spec gave.
    let want_rdev = if node.kind == SFlag::S_IFIFO { 0 } else { dev };
    if st.st_mode & libc::S_IFMT != node.kind.bits() || st.st_rdev != want_rdev {
        bail!(
            "new device inode {:?} is {:o} {}:{}, not what was asked",
            node.path,
            st.st_mode,
            major(st.st_rdev),
            minor(st.st_rdev)
        );
    }
    // mknod obeyed the umask; set the asked mode and owner on exactly the inode just checked.
    let via = proc_fd(fd.as_fd());
    std::fs::set_permissions(&via, std::fs::Permissions::from_mode(node.mode)).map_err(io_error)?;
    std::os::unix::fs::chown(&via, Some(node.uid), Some(node.gid)).map_err(io_error)?;
    Ok(())
}

fn open_node(parent: &OwnedFd, name: &std::ffi::OsStr, flags: OFlag, mode: u32) -> Result<OwnedFd> {
    let fd = openat(
        Some(parent.as_raw_fd()),
        name,
        flags | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(mode),
    )
    .map_err(errno_error)?;
    // SAFETY: openat just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn bind_host_node(parent: &OwnedFd, name: &std::ffi::OsStr, node: &Node) -> Result<()> {
    // An existing node is not opened for reading (opening /dev/tty without a terminal
    // fails); only a missing one is created, as an empty regular file.
    let fd = open_node(parent, name, OFlag::O_PATH | OFlag::O_NOFOLLOW, 0)
        .or_else(|_| {
            let create = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_RDONLY;
            open_node(parent, name, create, 0)
        })
        .with_context(|| format!("create device inode {:?}", node.path))?;
    mount(
        Some(&node.path),
        &proc_fd(fd.as_fd()),
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(errno_error)
    .with_context(|| format!("bind mount {:?}", node.path))
}

/// /dev/ptmx → pts/ptmx, so a devpts with `newinstance` serves the container's terminals.
fn setup_ptmx(root: &Root) -> Result<()> {
    let rel = Path::new("dev/ptmx");
    match root.unlink(rel) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(errno_error(e)).context("unlink /dev/ptmx"),
    }
    root.symlink("pts/ptmx", rel).map_err(errno_error)
}

fn setup_links(root: &Root) -> Result<()> {
    let mut links = vec![
        ("/proc/self/fd", "dev/fd"),
        ("/proc/self/fd/0", "dev/stdin"),
        ("/proc/self/fd/1", "dev/stdout"),
        ("/proc/self/fd/2", "dev/stderr"),
    ];
    // Kernels without CONFIG_PROC_KCORE have no /proc/kcore; no dangling link then.
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "dev/core"));
    }
    for (target, link) in links {
        match root.symlink(target, Path::new(link)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(errno_error(e)).context(format!("symlink /{link}")),
        }
    }
    Ok(())
}

fn is_dev_null(st: &nix::sys::stat::FileStat) -> bool {
    st.st_mode & libc::S_IFMT == SFlag::S_IFCHR.bits() && st.st_rdev == makedev(1, 3)
}

/// After the pivot, stdio left on the host's /dev/null is moved to the container's, so no
/// host inode stays reachable through fds 0-2.
pub fn reopen_dev_null() -> Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(io_error)?;
    if !is_dev_null(&fstat(null.as_raw_fd()).map_err(errno_error)?) {
        bail!("container's /dev/null is invalid");
    }
    for fd in 0..3 {
        if fstat(fd).is_ok_and(|st| is_dev_null(&st)) {
            nix::unistd::dup2(null.as_raw_fd(), fd).map_err(errno_error)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(json: &str) -> LinuxDevice {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn spec_devices_override_defaults_and_skip_ptmx() {
        let spec = [
            device(
                r#"{"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":8630,"uid":5}"#,
            ),
            device(r#"{"path":"/dev/ptmx","type":"c","major":5,"minor":2}"#),
            device(r#"{"path":"/dev/sda","type":"b","major":8,"minor":0,"gid":6}"#),
            device(r#"{"path":"/dev/fifo","type":"p","major":0,"minor":0}"#),
        ];
        let nodes = node_list(&spec).unwrap();
        let paths: Vec<&str> = nodes.iter().map(|n| n.path.to_str().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "/dev/zero",
                "/dev/full",
                "/dev/random",
                "/dev/urandom",
                "/dev/tty",
                "/dev/null",
                "/dev/sda",
                "/dev/fifo"
            ]
        );
        let null = &nodes[5];
        assert_eq!((null.mode, null.uid, null.kind), (0o666, 5, SFlag::S_IFCHR)); // 8630 = 0o20666
        assert_eq!(
            (nodes[6].kind, nodes[6].mode, nodes[6].gid),
            (SFlag::S_IFBLK, 0o666, 6)
        );
        assert_eq!(nodes[7].kind, SFlag::S_IFIFO);
    }

    #[test]
    fn dev_bind_disables_setup() {
        let m: Vec<Mount> = serde_json::from_str(
            r#"[{"destination":"/dev/","type":"none","source":"/dev","options":["rbind"]}]"#,
        )
        .unwrap();
        assert!(!needs_dev_setup(&m));
        let m: Vec<Mount> =
            serde_json::from_str(r#"[{"destination":"/dev","type":"tmpfs","source":"tmpfs"}]"#)
                .unwrap();
        assert!(needs_dev_setup(&m));
    }
}
