//! Tests of the device filter: the rule → program compilation run through a small interpreter
//! of the opcodes it emits (table tests of verdicts), one exact listing, and real programs
//! attached on this host (children of /sys/fs/cgroup/unified enforce them) as root.
use std::path::PathBuf;
use std::process::Command;

use super::*;

fn rule(
    allow: bool,
    typ: &str,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    let mut r = LinuxDeviceCgroup::default();
    r.set_allow(allow);
    r.set_typ(match typ {
        "a" => Some(LinuxDeviceType::A),
        "b" => Some(LinuxDeviceType::B),
        "c" => Some(LinuxDeviceType::C),
        "p" => Some(LinuxDeviceType::P),
        _ => None,
    });
    r.set_major(major);
    r.set_minor(minor);
    r.set_access(Some(access.to_string()));
    r
}

/// Runs `prog` on the request (type, major, minor, access bits) like the kernel would.
fn run(prog: &[Insn], typ: u32, major: u32, minor: u32, access: u32) -> bool {
    let ctx = [(access << 16) | typ, major, minor];
    let mut reg = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let i = prog[pc];
        let (dst, src) = ((i.regs & 0x0f) as usize, (i.regs >> 4) as usize);
        let imm32 = i.imm as u32;
        pc += 1;
        match i.code {
            0x61 => {
                assert_eq!(src, 1, "loads only from the context");
                reg[dst] = ctx[i.off as usize / 4] as u64;
            }
            0x57 => reg[dst] &= i.imm as i64 as u64,
            0x77 => reg[dst] >>= i.imm,
            0xbf => reg[dst] = reg[src],
            0xb7 => reg[dst] = i.imm as i64 as u64,
            0x56 if reg[dst] as u32 != imm32 => pc += i.off as usize,
            0x16 if reg[dst] as u32 == imm32 => pc += i.off as usize,
            0x56 | 0x16 => {}
            0x95 => return reg[0] == 1,
            other => panic!("unexpected opcode {other:#x}"),
        }
    }
}

/// (type, major, minor, access bits) of an access the kernel asks about.
type Request = (u32, u32, u32, u32);

const R: u32 = ACC_READ;
const W: u32 = ACC_WRITE;
const M: u32 = ACC_MKNOD;

#[test]
fn verdicts_follow_the_last_matching_rule() {
    let deny_all = rule(false, "a", None, None, "rwm");
    let allow_all = rule(true, "a", None, None, "rwm");
    let null_rwm = rule(true, "c", Some(1), Some(3), "rwm");
    let null_deny_r = rule(false, "c", Some(1), Some(3), "r");
    let any_char_m = rule(true, "c", None, None, "m");
    let sda_r = rule(true, "b", Some(8), Some(0), "r");
    let pts = rule(true, "c", Some(136), None, "rwm");
    // (rules, (type, major, minor, access), allowed)
    let table: Vec<(Vec<LinuxDeviceCgroup>, Request, bool)> = vec![
        (vec![], (DEV_CHAR, 1, 3, R), false),
        (vec![allow_all.clone()], (DEV_BLOCK, 8, 0, R | W | M), true),
        (
            vec![deny_all.clone(), null_rwm.clone()],
            (DEV_CHAR, 1, 3, R | W),
            true,
        ),
        (
            vec![deny_all.clone(), null_rwm.clone()],
            (DEV_CHAR, 1, 5, R),
            false,
        ),
        (
            vec![deny_all.clone(), null_rwm.clone()],
            (DEV_BLOCK, 1, 3, R),
            false,
        ),
        (
            vec![null_rwm.clone(), deny_all.clone()],
            (DEV_CHAR, 1, 3, R),
            false,
        ),
        (
            vec![allow_all.clone(), null_deny_r.clone()],
            (DEV_CHAR, 1, 3, R),
            false,
        ),
        (
            vec![allow_all.clone(), null_deny_r.clone()],
            (DEV_CHAR, 1, 3, W),
            true,
        ),
        (
            vec![allow_all.clone(), null_deny_r.clone()],
            (DEV_CHAR, 1, 3, R | W),
            false,
        ),
        (
            vec![allow_all.clone(), null_deny_r.clone()],
            (DEV_CHAR, 1, 5, R),
            true,
        ),
        (
            vec![allow_all.clone(), null_deny_r.clone(), null_rwm.clone()],
            (DEV_CHAR, 1, 3, R),
            true,
        ),
        (
            vec![deny_all.clone(), any_char_m.clone()],
            (DEV_CHAR, 10, 200, M),
            true,
        ),
        (
            vec![deny_all.clone(), any_char_m.clone()],
            (DEV_CHAR, 10, 200, R),
            false,
        ),
        (
            vec![deny_all.clone(), sda_r.clone()],
            (DEV_BLOCK, 8, 0, R),
            true,
        ),
        (
            vec![deny_all.clone(), sda_r.clone()],
            (DEV_BLOCK, 8, 0, R | W),
            false,
        ),
        (vec![deny_all.clone(), sda_r], (DEV_BLOCK, 8, 1, R), false),
        (
            vec![deny_all.clone(), pts.clone()],
            (DEV_CHAR, 136, 42, R | W),
            true,
        ),
        (vec![deny_all, pts], (DEV_CHAR, 137, 0, R), false),
        (vec![null_rwm, allow_all], (DEV_BLOCK, 254, 0, W), true),
    ];
    for (rules, (t, major, minor, acc), want) in table {
        let prog = compile(&rules).unwrap();
        assert_eq!(
            run(&prog, t, major, minor, acc),
            want,
            "rules {rules:?} request {t} {major}:{minor} {acc:#b}"
        );
    }
}

#[test]
fn a_catch_all_discards_the_rules_before_it() {
    let rules = [
        rule(true, "c", Some(1), Some(3), "rwm"),
        rule(false, "a", None, None, "rwm"),
    ];
    assert_eq!(effective(&rules).unwrap(), (false, vec![]));
    let rules = [
        rule(false, "", None, None, ""),
        rule(true, "c", Some(1), Some(3), "rw"),
    ];
    let (default_allow, kept) = effective(&rules).unwrap();
    assert!(!default_allow);
    assert_eq!(
        kept,
        vec![Rule {
            allow: true,
            typ: Some(DEV_CHAR),
            major: Some(1),
            minor: Some(3),
            access: R | W
        }]
    );
}

#[test]
fn one_rule_compiles_to_this_listing() {
    let prog = compile(&[rule(true, "c", Some(1), Some(3), "r")]).unwrap();
    let codes: Vec<(u8, u8, i16, i32)> = prog
        .iter()
        .map(|i| (i.code, i.regs, i.off, i.imm))
        .collect();
    assert_eq!(
        codes,
        vec![
            (0x61, 0x12, 0, 0),      // r2 = ctx->access_type
            (0x57, 0x02, 0, 0xffff), // r2 &= 0xffff: the device type
            (0x61, 0x13, 0, 0),      // r3 = ctx->access_type
            (0x77, 0x03, 0, 16),     // r3 >>= 16: the access bits
            (0x61, 0x14, 4, 0),      // r4 = ctx->major
            (0x61, 0x15, 8, 0),      // r5 = ctx->minor
            (0x56, 0x02, 7, 2),      // type != char: skip the rule
            (0xbf, 0x31, 0, 0),      // r1 = access
            (0x57, 0x01, 0, 5),      // r1 &= ~r (write | mknod)
            (0x56, 0x01, 4, 0),      // asks more than r: skip
            (0x56, 0x04, 3, 1),      // major != 1: skip
            (0x56, 0x05, 2, 3),      // minor != 3: skip
            (0xb7, 0x00, 0, 1),      // allow
            (0x95, 0x00, 0, 0),
            (0xb7, 0x00, 0, 0), // default: deny
            (0x95, 0x00, 0, 0),
        ]
    );
}

#[test]
fn bad_rules_are_refused_naming_the_value() {
    let err = |r: LinuxDeviceCgroup| format!("{:#}", compile(&[r]).unwrap_err());
    assert!(err(rule(true, "c", Some(1), Some(3), "rx")).contains("invalid device access \"rx\""));
    assert!(err(rule(true, "c", Some(-2), Some(3), "r")).contains("invalid device major number -2"));
    assert!(
        err(rule(true, "c", Some(1), Some(1 << 33), "r")).contains("invalid device minor number")
    );
    assert!(err(rule(true, "p", None, None, "r")).contains("invalid cgroup device type \"p\""));
}

/// A child of this host's cgroup2 mount (which enforces device programs), removed on drop.
struct TestCgroup(PathBuf);

impl TestCgroup {
    fn new(tag: &str) -> TestCgroup {
        let unified = Path::new("/sys/fs/cgroup/unified");
        assert!(
            unified.join("cgroup.procs").exists(),
            "these tests need root and the cgroup2 mount at {unified:?}"
        );
        let dir = unified.join(format!("shoji-bpf-test-{}-{tag}", std::process::id()));
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("creating {dir:?}: {e}"));
        TestCgroup(dir)
    }

    /// Runs `sh -c script` inside the cgroup; Ok(stdout) or Err(stderr).
    fn sh(&self, script: &str) -> Result<String, String> {
        let procs = self.0.join("cgroup.procs");
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("echo $$ > {procs:?} && {script}"))
            .output()
            .expect("running /bin/sh");
        match out.status.success() {
            true => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
            false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        }
    }

    fn attached(&self) -> Vec<u32> {
        let dir = File::open(&self.0).unwrap();
        syscall::query(dir.as_fd(), BPF_CGROUP_DEVICE).unwrap()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // The shells have exited, so the cgroup is empty; its programs go with it.
        if let Err(e) = std::fs::remove_dir(&self.0) {
            eprintln!("removing {:?}: {e}", self.0);
        }
    }
}

fn assert_denied(result: Result<String, String>, what: &str) {
    match result {
        Err(stderr) => assert!(
            stderr.contains("Operation not permitted"),
            "{what}: {stderr}"
        ),
        Ok(_) => panic!("{what} was allowed"),
    }
}

#[test]
fn real_filter_denies_reading_dev_null_and_allows_the_rest() {
    let cg = TestCgroup::new("deny-null-read");
    let rules = [
        rule(true, "a", None, None, "rwm"),
        rule(false, "c", Some(1), Some(3), "r"),
    ];
    apply(&cg.0, &rules).unwrap();
    assert_denied(cg.sh("cat /dev/null"), "reading /dev/null");
    assert_eq!(cg.sh("head -c 3 /dev/zero | wc -c"), Ok("3\n".to_string()));
    assert_eq!(
        cg.sh("echo x > /dev/null && echo written"),
        Ok("written\n".to_string())
    );
    assert_eq!(cg.attached().len(), 1);
}

#[test]
fn real_update_replaces_the_program_in_place() {
    let cg = TestCgroup::new("replace");
    apply(
        &cg.0,
        &[
            rule(false, "a", None, None, "rwm"),
            rule(true, "c", Some(1), Some(5), "r"),
        ],
    )
    .unwrap();
    let first = cg.attached();
    assert_denied(
        cg.sh("cat /dev/null"),
        "reading /dev/null under the first program",
    );
    assert_eq!(cg.sh("head -c 1 /dev/zero | wc -c"), Ok("1\n".to_string()));
    apply(&cg.0, &[rule(true, "a", None, None, "rwm")]).unwrap();
    let second = cg.attached();
    assert_eq!(
        second.len(),
        1,
        "exactly one program after the update: {second:?}"
    );
    assert_ne!(first, second, "the program was replaced");
    assert_eq!(
        cg.sh("cat /dev/null && echo read"),
        Ok("read\n".to_string())
    );
}
