//! The compiled programs run on a small classic-BPF interpreter with the kernel's checks
//! (every jump in range, a RET at the end), so the semantics are tested without installing
//! anything; the host tier proves the same programs with real syscalls.
use oci_spec::runtime::LinuxSeccomp;
use seccompiler::sock_filter;

use super::arch::{AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT};
use super::profile::{self, ret};

const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;
const EPERM: u32 = ret::ERRNO | 1;
const ENOSYS: u32 = ret::ERRNO | 38;

fn compile(profile: serde_json::Value) -> Vec<sock_filter> {
    let s: LinuxSeccomp = serde_json::from_value(profile).unwrap();
    let policy = profile::build(&s).unwrap();
    let prog = super::assemble::assemble(&policy).unwrap();
    check(&prog);
    prog
}

/// The kernel's structural checks (bpf_check_classic): jumps land inside, the last is a RET.
fn check(prog: &[sock_filter]) {
    assert!(prog.len() <= 4096, "{} instructions", prog.len());
    assert_eq!(
        prog.last().unwrap().code,
        0x06,
        "last instruction must be RET"
    );
    for (pc, i) in prog.iter().enumerate() {
        let targets: Vec<usize> = match i.code {
            0x05 => vec![pc + 1 + i.k as usize],
            0x15 | 0x25 | 0x35 | 0x45 => {
                vec![pc + 1 + i.jt as usize, pc + 1 + i.jf as usize]
            }
            _ => vec![],
        };
        for t in targets {
            assert!(t < prog.len(), "jump at {pc} to {t} leaves the program");
        }
    }
}

/// Run the program on `seccomp_data { nr, arch, ip: 0, args }`.
fn run(prog: &[sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let mut data = Vec::with_capacity(64);
    data.extend(nr.to_le_bytes());
    data.extend(arch.to_le_bytes());
    data.extend(0u64.to_le_bytes());
    for a in args {
        data.extend(a.to_le_bytes());
    }
    let (mut acc, mut pc) = (0u32, 0usize);
    loop {
        let i = &prog[pc];
        let cond = |c: bool| pc + 1 + if c { i.jt } else { i.jf } as usize;
        pc = match i.code {
            0x20 => {
                let k = i.k as usize;
                acc = u32::from_le_bytes(data[k..k + 4].try_into().unwrap());
                pc + 1
            }
            0x54 => {
                acc &= i.k;
                pc + 1
            }
            0x05 => pc + 1 + i.k as usize,
            0x15 => cond(acc == i.k),
            0x25 => cond(acc > i.k),
            0x35 => cond(acc >= i.k),
            0x45 => cond(acc & i.k != 0),
            0x06 => return i.k,
            other => panic!("opcode {other:#x} at {pc}"),
        };
    }
}

fn x64(prog: &[sock_filter], nr: u32) -> u32 {
    run(prog, AUDIT_ARCH_X86_64, nr, [0; 6])
}

fn docker_like(archs: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": archs,
        "syscalls": [
            {"names": ["getpid", "read", "no_such_syscall", "socketcall"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 2114060288u64, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
        ]
    })
}

#[test]
fn each_architecture_by_its_own_numbers() {
    let p = compile(docker_like(&[
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32",
    ]));
    assert_eq!(x64(&p, 39), ret::ALLOW); // getpid
    assert_eq!(x64(&p, 272), EPERM); // unshare: the default
    assert_eq!(run(&p, AUDIT_ARCH_I386, 20, [0; 6]), ret::ALLOW); // i386 getpid
    assert_eq!(run(&p, AUDIT_ARCH_I386, 39, [0; 6]), EPERM); // i386 mkdir is 39
    assert_eq!(run(&p, AUDIT_ARCH_I386, 102, [0; 6]), ret::ALLOW); // socketcall
    assert_eq!(x64(&p, 39 | X32_SYSCALL_BIT), ret::ALLOW); // x32 getpid
    assert_eq!(x64(&p, 272 | X32_SYSCALL_BIT), EPERM); // x32 unshare
    assert_eq!(run(&p, AUDIT_ARCH_AARCH64, 39, [0; 6]), ret::KILL_THREAD);
}

#[test]
fn x32_never_reaches_x86_64_rules_when_unlisted() {
    let p = compile(docker_like(&["SCMP_ARCH_X86_64"]));
    assert_eq!(x64(&p, 39), ret::ALLOW);
    assert_eq!(x64(&p, 39 | X32_SYSCALL_BIT), ret::KILL_THREAD);
    assert_eq!(run(&p, AUDIT_ARCH_I386, 20, [0; 6]), ret::KILL_THREAD);
}

#[test]
fn newer_than_the_profile_is_enosys() {
    let p = compile(docker_like(&[
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32",
    ]));
    assert_eq!(x64(&p, 435), ENOSYS); // clone3: named with errnoRet 38
    assert_eq!(x64(&p, 436), ENOSYS); // close_range: above everything named
    assert_eq!(x64(&p, 434), EPERM); // pidfd_open: below, not named → default
    assert_eq!(run(&p, AUDIT_ARCH_I386, 436, [0; 6]), ENOSYS);
    assert_eq!(x64(&p, 436 | X32_SYSCALL_BIT), ENOSYS);
    // With an allowing default nothing is turned into ENOSYS.
    let mut allow = docker_like(&[]);
    allow["defaultAction"] = "SCMP_ACT_ALLOW".into();
    let p = compile(allow);
    assert_eq!(x64(&p, 436), ret::ALLOW);
    assert_eq!(x64(&p, 83), EPERM); // mkdir
}

#[test]
fn argument_rules_fall_back_to_the_default() {
    let p = compile(docker_like(&[]));
    let personality = |arg0| run(&p, AUDIT_ARCH_X86_64, 135, [arg0, 0, 0, 0, 0, 0]);
    assert_eq!(personality(8), ret::ALLOW);
    assert_eq!(personality(9), EPERM);
    assert_eq!(personality(8 | 1 << 32), EPERM, "64-bit compare");
    let clone = |flags| run(&p, AUDIT_ARCH_X86_64, 56, [flags, 0, 0, 0, 0, 0]);
    assert_eq!(clone(0x11), ret::ALLOW); // SIGCHLD | …: no namespace flags
    assert_eq!(clone(0x1000_0000), EPERM); // CLONE_NEWUSER
}

fn one_rule(op: &str, value: u64, value_two: u64) -> Vec<sock_filter> {
    compile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7,
            "args": [{"index": 1, "value": value, "valueTwo": value_two, "op": op}]}]
    }))
}

#[test]
fn every_operator_on_64_bit_values() {
    let big = 0x1_0000_0005u64;
    type Case<'a> = (&'a str, u64, u64, &'a [(u64, bool)]);
    let cases: [Case; 7] = [
        (
            "SCMP_CMP_EQ",
            big,
            0,
            &[(big, true), (5, false), (big + 1, false)],
        ),
        ("SCMP_CMP_NE", big, 0, &[(big, false), (5, true), (0, true)]),
        (
            "SCMP_CMP_LT",
            big,
            0,
            &[(5, true), (big - 1, true), (big, false), (u64::MAX, false)],
        ),
        (
            "SCMP_CMP_LE",
            big,
            0,
            &[(big, true), (0xffff_ffff, true), (big + 1, false)],
        ),
        (
            "SCMP_CMP_GE",
            big,
            0,
            &[(big, true), (u64::MAX, true), (6, false), (big - 1, false)],
        ),
        (
            "SCMP_CMP_GT",
            big,
            0,
            &[(big + 1, true), (2 << 32, true), (big, false), (6, false)],
        ),
        (
            "SCMP_CMP_MASKED_EQ",
            0xff << 32 | 0xf0,
            0x12 << 32 | 0x30,
            &[
                (0x12 << 32 | 0x3f, true),
                (0x13 << 32 | 0x30, false),
                (0x12 << 32 | 0x20, false),
            ],
        ),
    ];
    for (op, value, two, args) in cases {
        let p = one_rule(op, value, two);
        for &(arg, hit) in args {
            let got = run(&p, AUDIT_ARCH_X86_64, 39, [0, arg, 0, 0, 0, 0]);
            let want = if hit { ret::ERRNO | 7 } else { ret::ALLOW };
            assert_eq!(got, want, "{op} {value:#x} on {arg:#x}");
        }
    }
}

#[test]
fn i386_compares_the_low_word() {
    let p = one_rule("SCMP_CMP_EQ", 0x1_0000_0005, 0);
    assert_eq!(
        run(&p, AUDIT_ARCH_I386, 20, [0, 5, 0, 0, 0, 0]),
        ret::ERRNO | 7
    );
    assert_eq!(
        run(&p, AUDIT_ARCH_X86_64, 39, [0, 5, 0, 0, 0, 0]),
        ret::ALLOW
    );
}

#[test]
fn masked_eq_with_bits_outside_the_mask_never_matches() {
    let p = one_rule("SCMP_CMP_MASKED_EQ", 0x0f, 0x31);
    assert_eq!(
        run(&p, AUDIT_ARCH_X86_64, 39, [0, 0x31, 0, 0, 0, 0]),
        ret::ALLOW
    );
    assert_eq!(
        run(&p, AUDIT_ARCH_X86_64, 39, [0, 0x01, 0, 0, 0, 0]),
        ret::ALLOW
    );
}

#[test]
fn a_plain_rule_wins_over_argument_rules_and_the_first_plain_rule_wins() {
    let p = compile(serde_json::json!({
        "defaultAction": "SCMP_ACT_KILL_PROCESS",
        "syscalls": [
            {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_GE"}]},
            {"names": ["getpid", "setns"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_GE"}]},
            {"names": ["getppid"], "action": "SCMP_ACT_TRAP",
             "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_GE"}]},
            {"names": ["setns"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["gettid"], "action": "SCMP_ACT_LOG"},
            {"names": ["getuid"], "action": "SCMP_ACT_KILL_PROCESS"},
        ]
    }));
    assert_eq!(
        run(&p, AUDIT_ARCH_X86_64, 39, [3, 0, 0, 0, 0, 0]),
        ret::ALLOW
    );
    assert_eq!(x64(&p, 308), ret::ALLOW); // setns: podman's profile allows it, then denies it
    let getppid = |a| run(&p, AUDIT_ARCH_X86_64, 110, [a, 0, 0, 0, 0, 0]);
    assert_eq!(getppid(0), ret::KILL_PROCESS);
    assert_eq!(getppid(1), ret::ERRNO | 5);
    assert_eq!(getppid(2), ret::ERRNO | 5);
    assert_eq!(x64(&p, 186), ret::LOG);
    assert_eq!(x64(&p, 102), ret::KILL_PROCESS);
    assert_eq!(x64(&p, 111), ret::KILL_PROCESS);
}

/// Every syscall of every table, half with argument checks: still under the kernel's limit,
/// every number answered by its own rule.
#[test]
fn a_rule_for_every_syscall_fits() {
    let tables = [
        super::arch::Arch::X86_64.table(),
        super::arch::Arch::X86.table(),
    ];
    let mut names: Vec<&str> = tables.iter().flat_map(|t| t.keys().copied()).collect();
    names.sort();
    names.dedup();
    let p = compile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]
    }));
    for (name, nr) in &tables[0] {
        assert_eq!(x64(&p, *nr), ret::ALLOW, "{name}");
    }
    for (name, nr) in &tables[1] {
        assert_eq!(run(&p, AUDIT_ARCH_I386, *nr, [0; 6]), ret::ALLOW, "{name}");
    }
}

#[test]
fn refusals_name_the_field() {
    let bad = |v: serde_json::Value| {
        let s: LinuxSeccomp = serde_json::from_value(v).unwrap();
        format!("{:#}", profile::build(&s).unwrap_err())
    };
    let e = bad(serde_json::json!({"defaultAction": "SCMP_ACT_NOTIFY"}));
    assert!(e.contains("linux.seccomp.defaultAction"), "{e}");
    let e = bad(serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}));
    assert!(e.contains("linux.seccomp.syscalls[0].names"), "{e}");
    let e = bad(serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}));
    assert!(e.contains("syscalls[0].args[0].index"), "{e}");
    let e = bad(serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["sendmsg"], "action": "SCMP_ACT_NOTIFY"}]}));
    assert!(e.contains("sendmsg"), "{e}");
}

/// What `features` lists is what compiles: every action in a rule, every operator, every
/// architecture.
#[test]
fn features_lists_what_compiles() {
    let rules: Vec<serde_json::Value> = profile::KNOWN_ACTIONS
        .iter()
        .zip(profile::KNOWN_OPERATORS.iter().cycle())
        .enumerate()
        .map(|(i, (action, op))| {
            serde_json::json!({"names": ["getpid"], "action": action,
                "args": [{"index": 0, "value": i, "op": op}]})
        })
        .collect();
    let p = compile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": super::arch::KNOWN,
        "syscalls": rules,
    }));
    assert_eq!(run(&p, AUDIT_ARCH_I386, 20, [0; 6]), ret::ALLOW);
    assert_eq!(
        run(&p, AUDIT_ARCH_X86_64, 39 | X32_SYSCALL_BIT, [0; 6]),
        ret::ALLOW
    );
    let features = serde_json::to_value(super::features()).unwrap();
    assert_eq!(features["enabled"], true);
    let known = &features["knownFlags"];
    for f in features["supportedFlags"].as_array().unwrap() {
        assert!(known.as_array().unwrap().contains(f), "{f}");
    }
}

/// docker's captured profile, every number of every ABI (0..600, and x32's from its bit):
/// the program answers what the policy says, and stays small (the kernel runs it on every
/// syscall and evaluates it once per number when the filter goes in).
#[test]
fn docker_profile_every_number_as_the_policy_says() {
    let text = include_str!("../../../integration/fixtures/seccomp/docker.json");
    let s: LinuxSeccomp = serde_json::from_str(text).unwrap();
    let policy = profile::build(&s).unwrap();
    let prog = super::assemble::assemble(&policy).unwrap();
    check(&prog);
    assert!(prog.len() < 1200, "{} instructions", prog.len());
    for ap in &policy.archs {
        let (audit, base) = match ap.arch {
            super::arch::Arch::X86_64 => (AUDIT_ARCH_X86_64, 0),
            super::arch::Arch::X32 => (AUDIT_ARCH_X86_64, X32_SYSCALL_BIT),
            super::arch::Arch::X86 => (AUDIT_ARCH_I386, 0),
        };
        for nr in base..base + 600 {
            let want = match ap.syscalls.get(&nr) {
                Some(p) if p.conditional.is_empty() => p.otherwise.unwrap(),
                Some(_) => continue, // argument checks: tested above
                None if ap.enosys_above.is_some_and(|h| nr > h) => ENOSYS,
                None => policy.default,
            };
            assert_eq!(run(&prog, audit, nr, [0; 6]), want, "{:?} {nr}", ap.arch);
        }
    }
}
