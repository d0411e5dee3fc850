//! The few raw syscalls nix does not wrap, each with the reason it is safe.
use std::io;

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

/// Give the container a new session keyring (so it cannot read the host's keys), named after
/// the container as runc does.
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
