//! A [`Policy`] → one classic-BPF program for all architectures, in libseccomp's shape: check
//! the architecture first, then dispatch on the syscall number.
//!
//! Why not seccompiler's `SeccompFilter`: it has one match action per filter and one
//! architecture, and stacking several filters changes the semantics (the kernel runs every
//! filter and keeps the most severe answer, so an ALLOW rule could never override an ERRNO
//! default). seccompiler still compiles every argument check: each conditional rule is its
//! `SeccompRule` program, followed by our RET of the rule's action, the layout its own filter
//! uses. Around those we lay out (all BPF jumps go forward):
//!
//! ```text
//! arch == X86_64? → x86_64   arch == I386? → i386   else RET bad-arch
//! x86_64: nr & X32 bit? → x32 (or bad-arch)   [nr > highest? RET ENOSYS]   binary search on nr
//! x32, i386: [nr > highest? RET ENOSYS]   binary search on nr
//! per-syscall blocks: rule, RET action, rule, RET action, …, RET otherwise/default
//! shared RET per action
//! ```
use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{LinuxSeccompArg, LinuxSeccompOperator as Op};
use seccompiler::{sock_filter, BpfProgram, SeccompCmpArgLen, SeccompCmpOp};
use seccompiler::{SeccompCondition, SeccompRule};

use super::arch::{Arch, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT};
use super::profile::{ret, ArchPolicy, Policy, SyscallPolicy, BAD_ARCH};

const LD_W_ABS: u16 = 0x20;
const JMP_JA: u16 = 0x05;
const JMP_JEQ_K: u16 = 0x15;
const JMP_JGT_K: u16 = 0x25;
const JMP_JGE_K: u16 = 0x35;
const RET_K: u16 = 0x06;
/// `struct seccomp_data` offsets.
const NR: u32 = 0;
const ARCH: u32 = 4;
/// BPF_MAXINSNS: the kernel refuses longer programs.
const MAX_LEN: usize = 4096;
/// Up to this many numbers are compared one by one rather than split further.
const LEAF: usize = 4;

pub fn assemble(p: &Policy) -> Result<BpfProgram> {
    let mut a = Asm::default();
    let by_arch: BTreeMap<Arch, &ArchPolicy> = p.archs.iter().map(|ap| (ap.arch, ap)).collect();
    let (x64, x86) = (a.label(), a.label());
    a.stmt(LD_W_ABS, ARCH);
    a.jump_if(JMP_JEQ_K, AUDIT_ARCH_X86_64, x64);
    if by_arch.contains_key(&Arch::X86) {
        a.jump_if(JMP_JEQ_K, AUDIT_ARCH_I386, x86);
    }
    a.stmt(RET_K, BAD_ARCH);
    a.place(x64);
    a.stmt(LD_W_ABS, NR);
    // An x32 call carries AUDIT_ARCH_X86_64 too: it must never reach the x86_64 rules.
    let x32 = match by_arch.get(&Arch::X32) {
        Some(_) => a.label(),
        None => a.ret_label(BAD_ARCH),
    };
    a.jump_if(JMP_JGE_K, X32_SYSCALL_BIT, x32);
    let mut blocks = Vec::new();
    for (arch, label) in [
        (Arch::X86_64, None),
        (Arch::X32, Some(x32)),
        (Arch::X86, Some(x86)),
    ] {
        let Some(ap) = by_arch.get(&arch) else {
            continue;
        };
        if let Some(l) = label {
            a.place(l);
        }
        if arch == Arch::X86 {
            a.stmt(LD_W_ABS, NR);
        }
        dispatch(&mut a, ap, p.default, &mut blocks);
    }
    for (label, arch, policy) in blocks {
        a.place(label);
        syscall_block(&mut a, arch, policy, p.default)?;
    }
    let prog = a.finish();
    if prog.len() > MAX_LEN {
        bail!(
            "linux.seccomp: the profile compiles to {} BPF instructions, more than the kernel's {MAX_LEN}",
            prog.len()
        );
    }
    Ok(prog)
}

type Block<'p> = (Label, Arch, &'p SyscallPolicy);

/// The ENOSYS check, then a binary search on the number (the accumulator holds it); each
/// number leads to its shared RET when it has no arguments to check, else to its block.
fn dispatch<'p>(a: &mut Asm, ap: &'p ArchPolicy, default: u32, blocks: &mut Vec<Block<'p>>) {
    if let Some(highest) = ap.enosys_above {
        let enosys = a.ret_label(ret::ERRNO | libc::ENOSYS as u32);
        a.jump_if(JMP_JGT_K, highest, enosys);
    }
    let targets: Vec<(u32, Label)> = ap
        .syscalls
        .iter()
        .map(
            |(&nr, policy)| match (policy.conditional.is_empty(), policy.otherwise) {
                (true, Some(act)) => (nr, a.ret_label(act)),
                _ => {
                    let l = a.label();
                    blocks.push((l, ap.arch, policy));
                    (nr, l)
                }
            },
        )
        .collect();
    let fallback = a.ret_label(default);
    search(a, &targets, fallback);
}

fn search(a: &mut Asm, targets: &[(u32, Label)], fallback: Label) {
    if targets.len() <= LEAF {
        for &(nr, l) in targets {
            a.jump_if(JMP_JEQ_K, nr, l);
        }
        a.goto(fallback);
        return;
    }
    let (low, high) = targets.split_at(targets.len() / 2);
    let upper = a.label();
    a.jump_if(JMP_JGE_K, high[0].0, upper);
    search(a, low, fallback);
    a.place(upper);
    search(a, high, fallback);
}

/// Conditional rules in order, each seccompiler's program then RET of its action; then the
/// syscall's unconditional action or the default.
fn syscall_block(a: &mut Asm, arch: Arch, p: &SyscallPolicy, default: u32) -> Result<()> {
    for (args, act) in &p.conditional {
        let conditions = args
            .iter()
            .map(|arg| condition(arg, arch))
            .collect::<Result<Vec<_>>>()?;
        let rule = SeccompRule::new(conditions).context("seccomp rule")?;
        for insn in BpfProgram::from(rule) {
            a.raw(insn);
        }
        a.stmt(RET_K, *act);
    }
    a.stmt(RET_K, p.otherwise.unwrap_or(default));
    Ok(())
}

/// One argument check; on 32-bit ABIs only the low word is compared, as libseccomp does.
fn condition(arg: &LinuxSeccompArg, arch: Arch) -> Result<SeccompCondition> {
    let len = match arch.wide_args() {
        true => SeccompCmpArgLen::Qword,
        false => SeccompCmpArgLen::Dword,
    };
    let (op, value) = match arg.op() {
        Op::ScmpCmpNe => (SeccompCmpOp::Ne, arg.value()),
        Op::ScmpCmpLt => (SeccompCmpOp::Lt, arg.value()),
        Op::ScmpCmpLe => (SeccompCmpOp::Le, arg.value()),
        Op::ScmpCmpEq => (SeccompCmpOp::Eq, arg.value()),
        Op::ScmpCmpGe => (SeccompCmpOp::Ge, arg.value()),
        Op::ScmpCmpGt => (SeccompCmpOp::Gt, arg.value()),
        // The spec's value is the mask and valueTwo the datum, as in libseccomp.
        Op::ScmpCmpMaskedEq => (
            SeccompCmpOp::MaskedEq(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    SeccompCondition::new(arg.index() as u8, len, op, value).context("seccomp argument check")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Label(usize);

enum Item {
    Insn(sock_filter),
    Goto(Label),
    Place(Label),
}

/// A tiny assembler: instructions, forward gotos to labels, and one shared RET per action
/// placed after everything else (so every target, and every jump seccompiler's rules make
/// past their own RET, stays inside the program).
#[derive(Default)]
struct Asm {
    items: Vec<Item>,
    labels: usize,
    rets: BTreeMap<u32, Label>,
}

impl Asm {
    fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    fn ret_label(&mut self, action: u32) -> Label {
        if let Some(&l) = self.rets.get(&action) {
            return l;
        }
        let l = self.label();
        self.rets.insert(action, l);
        l
    }

    fn place(&mut self, l: Label) {
        self.items.push(Item::Place(l));
    }

    fn raw(&mut self, insn: sock_filter) {
        self.items.push(Item::Insn(insn));
    }

    fn stmt(&mut self, code: u16, k: u32) {
        self.raw(sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        });
    }

    fn goto(&mut self, l: Label) {
        self.items.push(Item::Goto(l));
    }

    /// `if A <code> k goto l`: the test skips the goto when false, so the distance to `l`
    /// is never bounded by the 8-bit conditional offsets.
    fn jump_if(&mut self, code: u16, k: u32, l: Label) {
        self.raw(sock_filter {
            code,
            jt: 0,
            jf: 1,
            k,
        });
        self.goto(l);
    }

    fn finish(mut self) -> BpfProgram {
        for (action, l) in std::mem::take(&mut self.rets) {
            self.place(l);
            self.stmt(RET_K, action);
        }
        let mut at = vec![usize::MAX; self.labels];
        let mut pc = 0;
        for item in &self.items {
            match item {
                Item::Place(l) => at[l.0] = pc,
                _ => pc += 1,
            }
        }
        let mut prog = Vec::with_capacity(pc);
        for item in self.items {
            match item {
                Item::Insn(i) => prog.push(i),
                Item::Goto(l) => {
                    let k = at[l.0] - (prog.len() + 1); // forward only: underflow is a bug
                    prog.push(sock_filter {
                        code: JMP_JA,
                        jt: 0,
                        jf: 0,
                        k: k as u32,
                    });
                }
                Item::Place(_) => {}
            }
        }
        prog
    }
}
