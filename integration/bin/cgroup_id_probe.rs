//! shoji-cgroup-id-probe: a test helper (host and VM tiers) that records what
//! `bpf_get_current_cgroup_id()` returns inside a cgroup, so tests can compare it with the
//! `cgroupId` that `shoji state` reports.
//!
//! `shoji-cgroup-id-probe CGROUP_DIR CMD [ARGS...]` loads a BPF_PROG_TYPE_CGROUP_DEVICE program
//! (assembled here from raw instructions: no clang on these machines) that stores the helper's
//! result in slot 0 of an array map and allows every access (programs attached with
//! BPF_F_ALLOW_MULTI must all allow, so the container's own device filter still decides), attaches
//! it to CGROUP_DIR, runs CMD (say, `shoji exec ID cat /dev/null`: any device opened by a
//! process in the cgroup runs the program), detaches it and prints the recorded id. Exit 1 when
//! CMD fails or nothing was recorded.
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, ExitCode};

const BPF_MAP_CREATE: libc::c_int = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_int = 1;
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_DETACH: libc::c_int = 9;
const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 1 << 1;
const HELPER_MAP_UPDATE_ELEM: i32 = 2;
const HELPER_GET_CURRENT_CGROUP_ID: i32 = 80;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The program: id = get_current_cgroup_id(); map[0] = id; return 1 (allow).
fn program(map_fd: i32) -> Vec<Insn> {
    const R0: u8 = 0;
    const FP: u8 = 10;
    vec![
        insn(0x85, 0, 0, 0, HELPER_GET_CURRENT_CGROUP_ID), // call
        insn(0x7b, FP, R0, -8, 0),                         // *(u64 *)(fp - 8) = r0
        insn(0x62, FP, 0, -12, 0),                         // *(u32 *)(fp - 12) = 0
        insn(0x18, 1, 1, 0, map_fd),                       // r1 = map (BPF_PSEUDO_MAP_FD)
        insn(0, 0, 0, 0, 0),                               // (second half of the ld_imm64)
        insn(0xbf, 2, FP, 0, 0),                           // r2 = fp
        insn(0x07, 2, 0, 0, -12),                          // r2 -= 12: &key
        insn(0xbf, 3, FP, 0, 0),                           // r3 = fp
        insn(0x07, 3, 0, 0, -8),                           // r3 -= 8: &value
        insn(0xb7, 4, 0, 0, 0),                            // r4 = BPF_ANY
        insn(0x85, 0, 0, 0, HELPER_MAP_UPDATE_ELEM),       // call
        insn(0xb7, R0, 0, 0, 1),                           // r0 = 1
        insn(0x95, 0, 0, 0, 0),                            // exit
    ]
}

#[repr(C)]
#[derive(Default)]
struct MapCreate {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
}

#[repr(C)]
#[derive(Default)]
struct MapLookup {
    map_fd: u32,
    pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
}

#[repr(C)]
#[derive(Default)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> io::Result<i32> {
    // SAFETY: `attr` is an exclusively borrowed `#[repr(C)]` prefix of `union bpf_attr` for
    // `cmd`, passed with its exact size; pointers inside it point to buffers of the caller
    // that outlive the call.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size_of::<T>()) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as i32)
    }
}

fn owned(fd: i32) -> OwnedFd {
    // SAFETY: a descriptor bpf(2) just returned to this process, owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn load(map: &OwnedFd) -> Result<OwnedFd, String> {
    let insns = program(map.as_raw_fd());
    let license: &CStr = c"Apache-2.0";
    let mut log = vec![0u8; 16 * 1024];
    let mut attr = ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
    };
    bpf(BPF_PROG_LOAD, &mut attr).map(owned).map_err(|e| {
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        format!(
            "loading the probe: {e}: {}",
            String::from_utf8_lossy(&log[..end])
        )
    })
}

fn attach_cmd(cmd: libc::c_int, cgroup: &File, prog: &OwnedFd, flags: u32) -> io::Result<i32> {
    let mut attr = ProgAttach {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: flags,
    };
    bpf(cmd, &mut attr)
}

fn recorded(map: &OwnedFd) -> io::Result<u64> {
    let key = 0u32;
    let mut value = 0u64;
    let mut attr = MapLookup {
        map_fd: map.as_raw_fd() as u32,
        key: &key as *const u32 as u64,
        value: &mut value as *mut u64 as u64,
        ..Default::default()
    };
    bpf(BPF_MAP_LOOKUP_ELEM, &mut attr)?;
    Ok(value)
}

fn probe(cgroup_dir: &str, cmd: &[String]) -> Result<u64, String> {
    let mut create = MapCreate {
        map_type: BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: 8,
        max_entries: 1,
    };
    let map = owned(bpf(BPF_MAP_CREATE, &mut create).map_err(|e| format!("map: {e}"))?);
    let prog = load(&map)?;
    let cgroup = File::open(cgroup_dir).map_err(|e| format!("opening {cgroup_dir:?}: {e}"))?;
    attach_cmd(BPF_PROG_ATTACH, &cgroup, &prog, BPF_F_ALLOW_MULTI)
        .map_err(|e| format!("attaching to {cgroup_dir:?}: {e}"))?;
    let status = Command::new(&cmd[0]).args(&cmd[1..]).status();
    let detached = attach_cmd(BPF_PROG_DETACH, &cgroup, &prog, 0);
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => return Err(format!("{cmd:?} failed: {s}")),
        Err(e) => return Err(format!("running {cmd:?}: {e}")),
    }
    detached.map_err(|e| format!("detaching from {cgroup_dir:?}: {e}"))?;
    match recorded(&map).map_err(|e| format!("reading the map: {e}"))? {
        0 => Err("the program never ran: no device was opened in the cgroup".into()),
        id => Ok(id),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: shoji-cgroup-id-probe CGROUP_DIR CMD [ARGS...]");
        return ExitCode::from(2);
    }
    match probe(&args[0], &args[1..]) {
        Ok(id) => {
            println!("{id}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("shoji-cgroup-id-probe: {e}");
            ExitCode::FAILURE
        }
    }
}
