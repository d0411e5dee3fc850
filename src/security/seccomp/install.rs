//! seccomp(2): installing a compiled program in the calling process, and asking the kernel
//! which filter flags it has. Runs in the container's processes (install) and in the runtime
//! (the flag probes, at compile time and for `features`).
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use anyhow::{bail, Context, Result};

use super::profile::flag;
use super::Program;

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const TSYNC: u32 = 1;

/// The spec's filter flags and their bits, in runc's order.
pub const KNOWN_FLAGS: [(&str, u32); 4] = [
    ("SECCOMP_FILTER_FLAG_TSYNC", TSYNC),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", flag::SPEC_ALLOW),
    ("SECCOMP_FILTER_FLAG_LOG", flag::LOG),
    (
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        flag::WAIT_KILLABLE_RECV,
    ),
];

/// Install `p` in this process (and, through fork, its future children); returns the notify
/// listener when the profile has NOTIFY rules. Without no_new_privs this needs CAP_SYS_ADMIN.
pub fn install(p: &Program) -> Result<Option<OwnedFd>> {
    let prog = libc::sock_fprog {
        len: p.filter.len() as u16,
        filter: p.filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `prog` points at `p.filter`, which outlives the call; seccompiler's sock_filter
    // is repr(C) with the kernel's layout.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            p.flags as libc::c_ulong,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error()).context("installing the seccomp filter");
    }
    if p.flags & flag::NEW_LISTENER == 0 {
        return Ok(None);
    }
    // SAFETY: with NEW_LISTENER the return value is a new fd that nothing else owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(rc as i32) }))
}

/// Whether this kernel knows the flag bits: with a NULL program it checks the flags, then
/// fails to read the program (EFAULT) — runc's probe. Installs nothing.
fn kernel_has(bits: u32) -> bool {
    // WAIT_KILLABLE_RECV is only valid together with a listener.
    let bits = match bits & flag::WAIT_KILLABLE_RECV {
        0 => bits,
        _ => bits | flag::NEW_LISTENER,
    };
    // SAFETY: a NULL program pointer is never dereferenced by us; the kernel faults safely.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            bits as libc::c_ulong,
            std::ptr::null::<libc::sock_fprog>(),
        )
    };
    rc < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EFAULT)
}

/// Refuse flags this kernel lacks, naming them: a flag asked for is honoured or refused.
pub fn check_flags(bits: u32) -> Result<()> {
    for (name, bit) in KNOWN_FLAGS {
        if bits & bit != 0 && !kernel_has(bit) {
            bail!("linux.seccomp.flags: {name} is not supported by this kernel");
        }
    }
    if bits & flag::NEW_LISTENER != 0 && !kernel_has(flag::NEW_LISTENER) {
        bail!("linux.seccomp: SCMP_ACT_NOTIFY needs a kernel with seccomp user notification");
    }
    Ok(())
}

/// The known flags this kernel has, for `features`.
pub fn supported_flags() -> Vec<&'static str> {
    KNOWN_FLAGS
        .iter()
        .filter(|(_, bit)| kernel_has(*bit))
        .map(|(name, _)| *name)
        .collect()
}
