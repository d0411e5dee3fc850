//! Resolving and creating paths inside the rootfs without ever leaving it.
//!
//! Every lookup is openat2(2) with RESOLVE_IN_ROOT from a handle on the rootfs, so an absolute
//! symlink or `..` in the image resolves against the rootfs, not the host. Paths are first
//! cleaned lexically (runc does the same). Creating directories walks one component at a time,
//! expanding symlinks itself against the root; every open still goes through RESOLVE_IN_ROOT,
//! so a symlink swapped in meanwhile is resolved inside the root too.
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, readlinkat, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, mkdirat, Mode};
use nix::unistd::{symlinkat, unlinkat, UnlinkatFlags};

use super::sys_mount::{errno_error, proc_fd};

/// An open handle on the rootfs directory and its canonical host path.
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

/// `dest` as a relative path inside the root: `.` and `..` folded lexically, never above `/`.
pub fn clean(dest: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in dest.components() {
        match c {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

impl Root {
    pub fn open(path: &Path) -> Result<Root> {
        let path =
            std::fs::canonicalize(path).with_context(|| format!("resolve rootfs {path:?}"))?;
        let fd = openat(
            None,
            &path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno_error)
        .with_context(|| format!("open rootfs handle {path:?}"))?;
        // SAFETY: openat just returned this descriptor and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Root { fd, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Open `rel` (already cleaned) inside the root with `flags` (O_CLOEXEC added).
    pub fn open_in(&self, rel: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let fd = openat2(self.fd.as_raw_fd(), rel, how)?;
        // SAFETY: openat2 just returned this descriptor and nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// `mkdir -p` inside the root; returns an O_PATH handle on the final directory. Symlinks
    /// met on the way are expanded against the root, dangling ones included (their targets
    /// are created inside the root, as runc's MkdirAllInRoot does).
    pub fn mkdir_all(&self, rel: &Path, mode: u32) -> Result<OwnedFd> {
        let mut pending: VecDeque<OsString> =
            rel.components().map(|c| c.as_os_str().to_owned()).collect();
        let mut done = PathBuf::new(); // resolved so far: real directories only, no symlinks
        let mut links = 0;
        while let Some(name) = pending.pop_front() {
            match Path::new(&name).components().next() {
                Some(Component::ParentDir) => {
                    done.pop();
                    continue;
                }
                Some(Component::Normal(_)) => {}
                _ => continue,
            }
            let next = done.join(&name);
            match self.open_in(&next, OFlag::O_PATH | OFlag::O_NOFOLLOW) {
                Ok(fd) => {
                    let kind = fstat(fd.as_raw_fd()).map_err(errno_error)?.st_mode & libc::S_IFMT;
                    if kind == libc::S_IFDIR {
                        done = next;
                    } else if kind == libc::S_IFLNK {
                        links += 1;
                        if links > 40 {
                            return Err(errno_error(Errno::ELOOP))
                                .context(format!("resolve {rel:?}"));
                        }
                        let target = readlinkat(Some(fd.as_raw_fd()), "").map_err(errno_error)?;
                        if Path::new(&target).is_absolute() {
                            done = PathBuf::new();
                        }
                        for c in Path::new(&target).components().rev() {
                            pending.push_front(c.as_os_str().to_owned());
                        }
                    } else {
                        return Err(errno_error(Errno::ENOTDIR)).context(format!("mkdir {next:?}"));
                    }
                }
                Err(Errno::ENOENT) => {
                    let parent = self
                        .open_in(&done, OFlag::O_PATH | OFlag::O_DIRECTORY)
                        .map_err(errno_error)?;
                    match mkdirat(
                        Some(parent.as_raw_fd()),
                        name.as_os_str(),
                        Mode::from_bits_truncate(mode),
                    ) {
                        Ok(()) => done = next,
                        Err(Errno::EEXIST) => pending.push_front(name), // raced: look again
                        Err(e) => return Err(errno_error(e)).context(format!("mkdir {next:?}")),
                    }
                }
                Err(e) => return Err(errno_error(e)).context(format!("open {next:?}")),
            }
        }
        self.open_in(&done, OFlag::O_PATH | OFlag::O_DIRECTORY)
            .map_err(errno_error)
            .with_context(|| format!("open {done:?}"))
    }

    /// The parent directory of `rel` (created if missing) and `rel`'s last component.
    pub fn parent_of<'p>(&self, rel: &'p Path) -> Result<(OwnedFd, &'p OsStr)> {
        let Some(name) = rel.file_name() else {
            bail!("{rel:?} has no file name")
        };
        let parent = rel.parent().unwrap_or(Path::new(""));
        Ok((self.mkdir_all(parent, 0o755)?, name))
    }

    /// Create (or open) a plain file at `rel` with `mode`. A final symlink is never opened
    /// blindly: a dangling one (`/etc/resolv.conf -> ../run/resolv.conf`) is followed inside the
    /// root and its target created, as mkdir_all does for directories.
    pub fn create_file(&self, rel: &Path, mode: u32) -> Result<OwnedFd> {
        let mut rel = rel.to_path_buf();
        for _ in 0..40 {
            let (parent, name) = self.parent_of(&rel)?;
            let flags = OFlag::O_CREAT | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_RDONLY;
            match openat(
                Some(parent.as_raw_fd()),
                name,
                flags,
                Mode::from_bits_truncate(mode),
            ) {
                // SAFETY: openat just returned this descriptor and nothing else owns it.
                Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
                Err(Errno::ELOOP) => {
                    let target = readlinkat(Some(parent.as_raw_fd()), name).map_err(errno_error)?;
                    let dir = self.path_inside(&parent)?;
                    rel = clean(&dir.join(target)); // an absolute target replaces `dir`
                }
                Err(e) => return Err(errno_error(e)).context(format!("create {rel:?}")),
            }
        }
        Err(errno_error(Errno::ELOOP)).context(format!("create {rel:?}"))
    }

    /// `ln -s target rel` inside the root.
    pub fn symlink(&self, target: &str, rel: &Path) -> Result<(), Errno> {
        let (parent, name) = self.parent_of(rel).map_err(|_| Errno::ENOENT)?;
        symlinkat(target, Some(parent.as_raw_fd()), name)
    }

    /// Remove the non-directory entry `rel` (its parent resolved inside the root).
    pub fn unlink(&self, rel: &Path) -> Result<(), Errno> {
        let (parent, name) = self.parent_of(rel).map_err(|_| Errno::ENOENT)?;
        unlinkat(Some(parent.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir)
    }

    /// Where `fd` really is, as a path inside the root (`/dev/pts`); errors if it is outside.
    pub fn path_inside(&self, fd: &OwnedFd) -> Result<PathBuf> {
        let host = std::fs::read_link(proc_fd(fd.as_fd())).context("read mountpoint path")?;
        match host.strip_prefix(&self.path) {
            Ok(rel) => Ok(Path::new("/").join(rel)),
            Err(_) => bail!("mountpoint {host:?} is outside of rootfs {:?}", self.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn clean_never_climbs_above_root() {
        let cases = [
            ("/proc", "proc"),
            ("/dev/../dev/./pts/", "dev/pts"),
            ("/../../etc", "etc"),
            ("relative/x", "relative/x"),
            ("/", ""),
        ];
        for (input, want) in cases {
            assert_eq!(clean(Path::new(input)), PathBuf::from(want), "{input}");
        }
    }

    fn hostile_root() -> (tempfile::TempDir, tempfile::TempDir, Root) {
        let root_dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let r = root_dir.path();
        std::fs::create_dir_all(r.join("real/dir")).unwrap();
        // Absolute and relative escapes, a loop and a dangling link pointing at the host.
        symlink(outside.path(), r.join("abs")).unwrap();
        symlink("../../../../../..", r.join("up")).unwrap();
        symlink("real", r.join("rel")).unwrap();
        symlink("loop", r.join("loop")).unwrap();
        symlink(outside.path().join("nothing"), r.join("dangling")).unwrap();
        let root = Root::open(r).unwrap();
        (root_dir, outside, root)
    }

    #[test]
    fn absolute_symlink_resolves_inside_root() {
        let (root_dir, outside, root) = hostile_root();
        let fd = root
            .mkdir_all(&clean(Path::new("/abs/sub")), 0o755)
            .unwrap();
        let inside = root.path_inside(&fd).unwrap();
        let want = Path::new("/")
            .join(outside.path().strip_prefix("/").unwrap())
            .join("sub");
        assert_eq!(inside, want);
        assert!(root_dir
            .path()
            .join(want.strip_prefix("/").unwrap())
            .is_dir());
        assert!(!outside.path().join("sub").exists(), "escaped the root");
    }

    #[test]
    fn dotdot_symlink_stops_at_root() {
        let (root_dir, outside, root) = hostile_root();
        let fd = root
            .mkdir_all(&clean(Path::new("/up/etc/x")), 0o755)
            .unwrap();
        assert_eq!(root.path_inside(&fd).unwrap(), PathBuf::from("/etc/x"));
        assert!(root_dir.path().join("etc/x").is_dir());
        drop(outside);
    }

    #[test]
    fn relative_symlink_is_followed_within_root() {
        let (_root_dir, _outside, root) = hostile_root();
        let fd = root.open_in(Path::new("rel/dir"), OFlag::O_PATH).unwrap();
        assert_eq!(root.path_inside(&fd).unwrap(), PathBuf::from("/real/dir"));
    }

    #[test]
    fn looping_links_fail() {
        let (_root_dir, _outside, root) = hostile_root();
        assert!(root.mkdir_all(Path::new("loop/x"), 0o755).is_err());
        assert!(root.create_file(Path::new("loop"), 0o644).is_err());
    }

    #[test]
    fn dangling_final_link_is_created_inside_root() {
        let (root_dir, outside, root) = hostile_root();
        let fd = root.create_file(Path::new("dangling"), 0o644).unwrap();
        let inside = root.path_inside(&fd).unwrap();
        let want = Path::new("/")
            .join(outside.path().strip_prefix("/").unwrap())
            .join("nothing");
        assert_eq!(inside, want);
        assert!(root_dir
            .path()
            .join(want.strip_prefix("/").unwrap())
            .is_file());
        assert!(!outside.path().join("nothing").exists(), "escaped the root");
    }

    #[test]
    fn create_file_and_symlink_inside_root() {
        let (root_dir, _outside, root) = hostile_root();
        root.create_file(Path::new("abs/etc/hosts"), 0o644).unwrap();
        root.symlink("/proc/self/fd", Path::new("real/fd")).unwrap();
        assert_eq!(root.symlink("x", Path::new("real/fd")), Err(Errno::EEXIST));
        let link = std::fs::read_link(root_dir.path().join("real/fd")).unwrap();
        assert_eq!(link, PathBuf::from("/proc/self/fd"));
        root.unlink(Path::new("real/fd")).unwrap();
        assert!(!root_dir.path().join("real/fd").exists());
    }
}
