//! The binary's entry point: `create`, `run` and `exec` re-execute from the read-only overlay
//! (see the parent module) before the C library starts, so the unsealed process runs none of
//! glibc's and Rust's start-up (glibc's CPU and cache detection alone is dozens of `cpuid`s,
//! each a trap to the hypervisor on these hosts, and every text page touched is a fault).
//! Measured (issue 11, perf stat, 200 runs): `shoji run` with no id, which re-executes and then
//! fails parsing, took 2.27-2.31 ms with the re-exec after start-up and 1.66-1.81 ms with it
//! here: about 0.55 ms off every `create`, `run` and `exec`.
//!
//! Code here runs before glibc's start-up, which sets the thread pointer (so errno and every
//! thread-local) and resolves the IFUNCs (memcpy, memset, memcmp, bcmp, strlen: calling one
//! earlier jumps through an unresolved slot). So it makes raw syscalls, keeps its buffers in
//! statics (a debug build copies large locals with memcpy), reads and writes memory with
//! volatile accesses in plain loops (the optimizer turns copy and compare loops into those
//! calls otherwise), allocates nothing, formats nothing and has no panic it can reach.
//!
//! It only ever takes the fast path. Anything unexpected (another command, the marker already
//! set, a kernel without the new mount API, a path too long, the stacking limit) closes what it
//! opened and returns to the normal start-up, where `ensure_sealed` seals after parsing, with
//! the memfd fallback and full errors. Nothing here is trusted: `ensure_sealed` checks, in the
//! re-executed process, that its exe is the read-only overlay.
use core::ptr::{addr_of, addr_of_mut};

use super::SEALED_ENV;

// Entry point (build.rs passes `--entry=shoji_entry` for the shoji binary): the kernel's
// initial stack (argc, argv, envp) goes to `pre_start`; if that returns, glibc's `_start` runs
// with the stack and registers as the kernel left them (rdx = 0: no loader's fini function).
core::arch::global_asm!(
    ".globl shoji_entry",
    ".type shoji_entry,@function",
    "shoji_entry:",
    "mov rdi, rsp",
    "call {pre_start}",
    "xor edx, edx",
    "jmp _start",
    pre_start = sym pre_start,
);

/// The marker the re-executed process finds in its environment; `ensure_sealed` logs the part
/// after `=` under --debug, so the tiers can tell this path from the fallback after parsing.
const MARKER: &[u8] = b"_SHOJI_SEALED_EXE=overlay (made at entry)\0";
/// Environments longer than this go the slow way.
const MAX_ENV: usize = 4096;
const PATH_MAX: usize = 4096;

static mut EXE_PATH: [u8; PATH_MAX] = [0; PATH_MAX];
static mut NEW_ENV: [*const u8; MAX_ENV + 2] = [core::ptr::null(); MAX_ENV + 2];
/// "/proc/self/fd/N:/proc/self/fd/M" for kernels that take overlay layers only as paths.
static mut LAYER_PATHS: [u8; 64] = [0; 64];

/// # Safety
/// Called once, from `shoji_entry`, with the kernel's initial stack pointer.
unsafe extern "C" fn pre_start(sp: *const usize) {
    let argc = sp.read();
    let argv = sp.add(1) as *const *const u8;
    let envp = argv.add(argc + 1);
    if names_sealed_command(argv, argc) && !has_marker(envp) {
        reexec_through_overlay(argv, envp);
    }
}

/// Whether the command word of `argv` (the first argument that is neither a flag nor the value
/// of a global flag that takes one) is a command that starts container processes.
///
/// # Safety
/// `argv` holds `argc` NUL-terminated strings.
unsafe fn names_sealed_command(argv: *const *const u8, argc: usize) -> bool {
    let mut i = 1;
    while i < argc {
        let arg = argv.add(i).read();
        i += 1;
        if takes_value(arg) {
            i += 1;
        } else if arg.read_volatile() != b'-' {
            return c_eq(arg, b"create") || c_eq(arg, b"run") || c_eq(arg, b"exec");
        }
    }
    false
}

/// The global flags whose value is the next argument.
unsafe fn takes_value(arg: *const u8) -> bool {
    c_eq(arg, b"--root")
        || c_eq(arg, b"--log")
        || c_eq(arg, b"--log-format")
        || c_eq(arg, b"--rootless")
        || c_eq(arg, b"--criu")
}

/// Whether the environment already has the marker: this is the re-executed process.
unsafe fn has_marker(mut envp: *const *const u8) -> bool {
    while !envp.read().is_null() {
        if c_starts_with(envp.read(), SEALED_ENV.as_bytes())
            && envp.read().add(SEALED_ENV.len()).read_volatile() == b'='
        {
            return true;
        }
        envp = envp.add(1);
    }
    false
}

/// C string `s` equals `lit`.
unsafe fn c_eq(s: *const u8, lit: &[u8]) -> bool {
    c_starts_with(s, lit) && s.add(lit.len()).read_volatile() == 0
}

unsafe fn c_starts_with(s: *const u8, lit: &[u8]) -> bool {
    let mut i = 0;
    while i < lit.len() {
        // A NUL in `s` differs from every byte of `lit`, so the read never passes its end.
        if s.add(i).read_volatile() != *lit.as_ptr().add(i) {
            return false;
        }
        i += 1;
    }
    true
}

/// The fds this path opens (-1 until opened), closed on every way out but the exec.
struct Fds {
    top: isize,
    bottom: isize,
    ctx: isize,
    mount: isize,
}

/// The parent module's `exec_through_overlay`, in raw syscalls: returns only when it failed.
unsafe fn reexec_through_overlay(argv: *const *const u8, envp: *const *const u8) {
    let mut fds = Fds {
        top: -1,
        bottom: -1,
        ctx: -1,
        mount: -1,
    };
    overlay_exec(&mut fds, argv, envp);
    close(fds.top);
    close(fds.bottom);
    close(fds.ctx);
    close(fds.mount);
}

unsafe fn close(fd: isize) {
    if fd >= 0 {
        sys::syscall(libc::SYS_close, fd as usize, 0, 0, 0, 0);
    }
}

unsafe fn overlay_exec(
    fds: &mut Fds,
    argv: *const *const u8,
    envp: *const *const u8,
) -> Option<()> {
    let path = addr_of_mut!(EXE_PATH) as *mut u8;
    let exe = c"/proc/self/exe".as_ptr() as usize;
    let n = sys::ok(sys::syscall(
        libc::SYS_readlink,
        exe,
        path as usize,
        PATH_MAX - 1,
        0,
        0,
    ))?;
    // The binary's directory and name, split at the last '/' (a binary in / goes the slow way).
    let mut slash = 0;
    let mut i = 0;
    while i < n {
        if path.add(i).read_volatile() == b'/' {
            slash = i;
        }
        i += 1;
    }
    if slash == 0 {
        return None;
    }
    path.add(n).write_volatile(0);
    path.add(slash).write_volatile(0);
    let name = path.add(slash + 1);
    let cwd = libc::AT_FDCWD as usize;
    let dir_flags = (libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) as usize;
    let dev = c"/dev".as_ptr() as usize;
    let overlay = c"overlay".as_ptr() as usize;
    fds.top = sys::syscall(libc::SYS_openat, cwd, path as usize, dir_flags, 0, 0);
    let top = sys::ok(fds.top)?;
    fds.bottom = sys::syscall(libc::SYS_openat, cwd, dev, dir_flags, 0, 0);
    let bottom = sys::ok(fds.bottom)?;
    fds.ctx = sys::syscall(
        libc::SYS_fsopen,
        overlay,
        libc::FSOPEN_CLOEXEC as usize,
        0,
        0,
        0,
    );
    let ctx = sys::ok(fds.ctx)?;
    set_layers(ctx, top, bottom)?;
    // As the parent module: xino off where the kernel has it, no matter if not.
    sys::fsconfig(
        ctx,
        libc::FSCONFIG_SET_STRING,
        c"xino".as_ptr(),
        c"off".as_ptr() as usize,
    );
    sys::ok(sys::fsconfig(
        ctx,
        libc::FSCONFIG_CMD_CREATE,
        core::ptr::null(),
        0,
    ))?;
    let attrs =
        (libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NODEV | libc::MOUNT_ATTR_NOSUID) as usize;
    let cloexec = libc::FSMOUNT_CLOEXEC as usize;
    fds.mount = sys::syscall(libc::SYS_fsmount, ctx, cloexec, attrs, 0, 0);
    let mount = sys::ok(fds.mount)?;
    let env = with_marker(envp)?;
    sys::syscall(
        libc::SYS_execveat,
        mount,
        name as usize,
        argv as usize,
        env as usize,
        0,
    );
    None
}

/// The parent module's `set_layers`: by fd where the kernel takes that (6.13), else as
/// /proc/self/fd paths to the same open directories.
unsafe fn set_layers(ctx: usize, top: usize, bottom: usize) -> Option<()> {
    let key = c"lowerdir+".as_ptr();
    let by_fd = sys::fsconfig(ctx, libc::FSCONFIG_SET_FD, key, top);
    if by_fd >= 0 {
        return sys::ok(sys::fsconfig(ctx, libc::FSCONFIG_SET_FD, key, bottom)).map(drop);
    }
    if by_fd != -(libc::EINVAL as isize) {
        return None;
    }
    let paths = layer_paths(top, bottom);
    sys::ok(sys::fsconfig(
        ctx,
        libc::FSCONFIG_SET_STRING,
        c"lowerdir".as_ptr(),
        paths as usize,
    ))
    .map(drop)
}

/// "/proc/self/fd/TOP:/proc/self/fd/BOTTOM", NUL-terminated, in LAYER_PATHS.
unsafe fn layer_paths(top: usize, bottom: usize) -> *const u8 {
    let buf = addr_of_mut!(LAYER_PATHS) as *mut u8;
    let mut at = 0;
    at = put(buf, at, b"/proc/self/fd/");
    at = put_decimal(buf, at, top);
    at = put(buf, at, b":/proc/self/fd/");
    at = put_decimal(buf, at, bottom);
    buf.add(at).write_volatile(0);
    buf
}

unsafe fn put(buf: *mut u8, mut at: usize, s: &[u8]) -> usize {
    let mut i = 0;
    while i < s.len() {
        buf.add(at).write_volatile(*s.as_ptr().add(i));
        at += 1;
        i += 1;
    }
    at
}

/// An fd number (< 2^31, so at most 10 digits) in decimal.
unsafe fn put_decimal(buf: *mut u8, at: usize, mut n: usize) -> usize {
    let mut digits = 1;
    let mut rest = n / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    let mut i = digits;
    while i > 0 {
        i -= 1;
        buf.add(at + i).write_volatile(b'0' + (n % 10) as u8);
        n /= 10;
    }
    at + digits
}

/// The environment with the marker first, in NEW_ENV; None past MAX_ENV entries.
unsafe fn with_marker(envp: *const *const u8) -> Option<*const *const u8> {
    let env = addr_of_mut!(NEW_ENV) as *mut *const u8;
    env.write_volatile(MARKER.as_ptr());
    let mut i = 0;
    while !envp.add(i).read().is_null() {
        if i == MAX_ENV {
            return None;
        }
        env.add(i + 1).write_volatile(envp.add(i).read());
        i += 1;
    }
    env.add(i + 1).write_volatile(core::ptr::null());
    Some(addr_of!(NEW_ENV) as *const *const u8)
}

/// Raw x86_64 syscalls: no libc, no errno (negative results are -errno).
mod sys {
    /// # Safety
    /// The arguments must be what syscall `nr` takes.
    #[inline(always)]
    pub unsafe fn syscall(
        nr: libc::c_long,
        a: usize,
        b: usize,
        c: usize,
        d: usize,
        e: usize,
    ) -> isize {
        let ret: isize;
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            in("r8") e,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
        ret
    }

    pub fn ok(ret: isize) -> Option<usize> {
        (ret >= 0).then_some(ret as usize)
    }

    /// fsconfig(ctx, cmd, key, value or NULL, aux): the string value or fd goes where `cmd`
    /// wants it.
    pub unsafe fn fsconfig(
        ctx: usize,
        cmd: libc::c_uint,
        key: *const libc::c_char,
        value: usize,
    ) -> isize {
        let (value, aux) = match cmd {
            libc::FSCONFIG_SET_FD => (0, value),
            _ => (value, 0),
        };
        syscall(
            libc::SYS_fsconfig,
            ctx,
            cmd as usize,
            key as usize,
            value,
            aux,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;

    use super::*;

    fn names_sealed(words: &[&str]) -> bool {
        let args: Vec<CString> = std::iter::once("shoji")
            .chain(words.iter().copied())
            .map(|w| CString::new(w).unwrap())
            .collect();
        let mut argv: Vec<*const u8> = args.iter().map(|a| a.as_ptr().cast()).collect();
        argv.push(std::ptr::null());
        // SAFETY: argv holds args.len() NUL-terminated strings, alive for the call.
        unsafe { names_sealed_command(argv.as_ptr(), args.len()) }
    }

    #[test]
    fn the_command_word_is_found_past_global_flags_and_their_values() {
        assert!(names_sealed(&["run", "x"]));
        assert!(names_sealed(&["--root", "state", "exec", "x", "ls"]));
        assert!(names_sealed(&["--debug", "--log=/l", "create", "x"]));
        assert!(!names_sealed(&["--root", "run", "state", "x"]));
        assert!(!names_sealed(&["--log-format", "json", "delete", "run"]));
        assert!(!names_sealed(&["--version"]));
        assert!(!names_sealed(&["runner", "x"]));
        assert!(!names_sealed(&["--root"]));
        assert!(!names_sealed(&[]));
    }

    #[test]
    fn layers_as_paths_name_both_fds() {
        // SAFETY: single use of the static buffer in this test process.
        let paths = unsafe { std::ffi::CStr::from_ptr(layer_paths(7, 2147483647).cast()) };
        assert_eq!(
            paths.to_str().unwrap(),
            "/proc/self/fd/7:/proc/self/fd/2147483647"
        );
        let paths = unsafe { std::ffi::CStr::from_ptr(layer_paths(10, 0).cast()) };
        assert_eq!(paths.to_str().unwrap(), "/proc/self/fd/10:/proc/self/fd/0");
    }
}
