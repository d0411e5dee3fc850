//! The few raw syscalls nix does not wrap, each with the reason it is safe.
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Mark every fd from `first` up as close-on-exec (fds the caller did not ask to keep must not
/// reach the container process).
pub fn cloexec_from(first: u32) -> io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes fd flags of this process; no memory is passed.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Close the fds `first..=last` (close_range(2), Linux 5.9; on an older kernel one close per
/// fd up to the fd limit).
pub fn close_range(first: u32, last: u32) -> io::Result<()> {
    // SAFETY: close_range only closes fds of this process; no memory is passed.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::ENOSYS) {
        return Err(err);
    }
    let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| soft.min(u64::from(u32::MAX)) as u32)
        .unwrap_or(1024);
    for fd in first..=last.min(limit) {
        // SAFETY: closing an fd number; a number that is not open gives EBADF, ignored.
        unsafe { libc::close(fd as libc::c_int) };
    }
    Ok(())
}

/// Give the container a new session keyring named `name` (so it cannot read the host's keys).
pub fn join_session_keyring(name: &str) -> io::Result<()> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    let cname = std::ffi::CString::new(name)?;
    // SAFETY: `cname` is a valid NUL-terminated string that outlives the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            cname.as_ptr(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// setdomainname(2), which nix lacks.
pub fn set_domainname(name: &str) -> io::Result<()> {
    // SAFETY: the pointer and length describe `name`'s bytes, valid for the call.
    let rc = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// fork(2) as clone3 with CLONE_INTO_CGROUP: the child starts life in the cgroup v2 directory
/// `cgroup_dir`, so it never has to be migrated. Returns 0 in the child, the pid in the parent.
pub fn fork_into_cgroup(cgroup_dir: std::os::fd::RawFd) -> io::Result<libc::pid_t> {
    #[repr(C)]
    #[derive(Default)]
    struct CloneArgs {
        flags: u64,
        pidfd: u64,
        child_tid: u64,
        parent_tid: u64,
        exit_signal: u64,
        stack: u64,
        stack_size: u64,
        tls: u64,
        set_tid: u64,
        set_tid_size: u64,
        cgroup: u64,
    }
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup_dir as u64,
        ..Default::default()
    };
    // SAFETY: with no stack given, clone3 behaves as fork: the child continues on a copy of
    // this stack. The caller is single-threaded (as for fork), and `args` outlives the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc as libc::pid_t)
}

/// fsopen(2): a filesystem context for `fs_name` (a new superblock, not yet mounted).
pub fn fsopen(fs_name: &std::ffi::CStr) -> io::Result<OwnedFd> {
    // SAFETY: `fs_name` is NUL-terminated and outlives the call.
    let fd = unsafe { libc::syscall(libc::SYS_fsopen, fs_name.as_ptr(), libc::FSOPEN_CLOEXEC) };
    owned_fd(fd)
}

/// fsconfig(2) setting string parameter `key` of context `ctx`.
pub fn fsconfig_set_string(
    ctx: BorrowedFd,
    key: &std::ffi::CStr,
    value: &std::ffi::CStr,
) -> io::Result<()> {
    // SAFETY: both strings are NUL-terminated and outlive the call; `ctx` is an open fd.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            libc::FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    };
    check(rc).map(|_| ())
}

/// fsconfig(2) setting parameter `key` of context `ctx` to the file `value` (a layer by fd).
pub fn fsconfig_set_fd(ctx: BorrowedFd, key: &std::ffi::CStr, value: BorrowedFd) -> io::Result<()> {
    // SAFETY: `key` is NUL-terminated and outlives the call; both fds are open.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            libc::FSCONFIG_SET_FD,
            key.as_ptr(),
            std::ptr::null::<libc::c_char>(),
            value.as_raw_fd(),
        )
    };
    check(rc).map(|_| ())
}

/// fsconfig(FSCONFIG_CMD_CREATE) then fsmount(2): the configured superblock as a detached
/// mount (in no mount namespace, gone with its last fd or user), `attrs` being MOUNT_ATTR_*.
pub fn fsmount(ctx: BorrowedFd, attrs: u64) -> io::Result<OwnedFd> {
    let null = std::ptr::null::<libc::c_char>();
    // SAFETY: `ctx` is an open fs context; the null key and value are what CMD_CREATE takes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            libc::FSCONFIG_CMD_CREATE,
            null,
            null,
            0,
        )
    };
    check(rc)?;
    // SAFETY: `ctx` is an open fs context holding a created superblock.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            ctx.as_raw_fd(),
            libc::FSMOUNT_CLOEXEC,
            attrs,
        )
    };
    owned_fd(fd)
}

/// A raw syscall's result: -1 is the error in errno.
fn check(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc)
}

/// The result of a syscall that returns a new fd, as the OwnedFd it is.
fn owned_fd(rc: libc::c_long) -> io::Result<OwnedFd> {
    let fd = check(rc)?;
    // SAFETY: a non-negative result of an fd-returning syscall is a new fd we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}
