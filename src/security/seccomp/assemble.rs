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
//! x86_64, x32, i386: a binary search over ranges of numbers with one answer each (the
//!   default, a syscall's action, ENOSYS above the highest named; for x86_64 from the x32 bit
//!   up: the x32 rules or bad-arch), ending in a RET or a goto to a syscall's block
//! per-syscall blocks: rule, RET action, rule, RET action, …, RET otherwise/default
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
const JMP_JGE_K: u16 = 0x35;
const RET_K: u16 = 0x06;
/// `struct seccomp_data` offsets.
const NR: u32 = 0;
const ARCH: u32 = 4;
/// BPF_MAXINSNS: the kernel refuses longer programs.
const MAX_LEN: usize = 4096;

pub fn assemble(p: &Policy) -> Result<BpfProgram> {
    let mut a = Asm::default();
    let by_arch: BTreeMap<Arch, &ArchPolicy> = p.archs.iter().map(|ap| (ap.arch, ap)).collect();
    let (x32, x86) = (a.label(), a.label());
    a.stmt(LD_W_ABS, ARCH);
    let x64 = a.label();
    a.jump_if(JMP_JEQ_K, AUDIT_ARCH_X86_64, x64);
    if by_arch.contains_key(&Arch::X86) {
        a.jump_if(JMP_JEQ_K, AUDIT_ARCH_I386, x86);
    }
    a.stmt(RET_K, BAD_ARCH);
    // An x32 call carries AUDIT_ARCH_X86_64 too: its numbers, from the x32 bit up, lead to
    // the x32 rules or to the bad-arch action, never to x86_64's.
    let x32_leaf = match by_arch.contains_key(&Arch::X32) {
        true => Leaf::Goto(x32),
        false => Leaf::Ret(BAD_ARCH),
    };
    let mut blocks = Vec::new();
    for (arch, label) in [(Arch::X86_64, x64), (Arch::X32, x32), (Arch::X86, x86)] {
        let Some(ap) = by_arch.get(&arch) else {
            continue;
        };
        a.place(label);
        if arch != Arch::X32 {
            a.stmt(LD_W_ABS, NR); // x32 arrives from x86_64's search with the number loaded
        }
        let tail = (arch == Arch::X86_64).then_some((X32_SYSCALL_BIT, x32_leaf));
        let iv = intervals(&mut a, ap, p.default, tail, &mut blocks);
        search(&mut a, &iv);
    }
    for (label, arch, policy) in &blocks {
        a.place(*label);
        syscall_block(&mut a, *arch, policy, p.default)?;
    }
    if !blocks.is_empty() {
        // Never reached: seccompiler's rules hold a dead jump to two past their RET.
        a.stmt(RET_K, BAD_ARCH);
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

/// What a range of numbers leads to: a RET, or a block of argument checks (or the x32 rules).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Leaf {
    Ret(u32),
    Goto(Label),
}

/// The number line cut into ranges of one answer each, by where each range starts: the
/// default between named syscalls, ENOSYS above the highest one, the x32 leaf from its bit.
/// Neighbours with the same answer merge, so docker's ~350 allowed syscalls make ~100 ranges.
fn intervals<'p>(
    a: &mut Asm,
    ap: &'p ArchPolicy,
    default: u32,
    tail: Option<(u32, Leaf)>,
    blocks: &mut Vec<Block<'p>>,
) -> Vec<(u32, Leaf)> {
    let mut iv = vec![(0, Leaf::Ret(default))];
    for (&nr, policy) in &ap.syscalls {
        let leaf = match (policy.conditional.is_empty(), policy.otherwise) {
            (true, Some(act)) => Leaf::Ret(act),
            _ => {
                let l = a.label();
                blocks.push((l, ap.arch, policy));
                Leaf::Goto(l)
            }
        };
        cut(&mut iv, nr, leaf);
        cut(&mut iv, nr + 1, Leaf::Ret(default));
    }
    if let Some(highest) = ap.enosys_above {
        cut(
            &mut iv,
            highest + 1,
            Leaf::Ret(ret::ERRNO | libc::ENOSYS as u32),
        );
    }
    if let Some((start, leaf)) = tail {
        cut(&mut iv, start, leaf);
    }
    iv
}

/// Start a range at `start` (≥ the last start): it replaces a range starting there, and
/// merges into the one before when the answer is the same.
fn cut(iv: &mut Vec<(u32, Leaf)>, start: u32, leaf: Leaf) {
    if iv.last().is_some_and(|&(s, _)| s == start) {
        iv.pop();
    }
    if iv.last().is_none_or(|&(_, l)| l != leaf) {
        iv.push((start, leaf));
    }
}

/// Instructions `search` emits for these ranges.
fn search_len(iv: &[(u32, Leaf)]) -> usize {
    if iv.len() == 1 {
        return 1;
    }
    let (low, high) = iv.split_at(iv.len() / 2);
    let l = search_len(low);
    l + search_len(high) + if l <= u8::MAX as usize { 1 } else { 2 }
}

/// A binary search on the number in the accumulator: `nr >= start of the upper half?`, each
/// range ending in its RET or a goto. The test jumps straight over the lower half when it is
/// short enough for the 8-bit offset, else through a goto.
fn search(a: &mut Asm, iv: &[(u32, Leaf)]) {
    if let [(_, leaf)] = iv {
        match *leaf {
            Leaf::Ret(action) => a.stmt(RET_K, action),
            Leaf::Goto(l) => a.goto(l),
        }
        return;
    }
    let (low, high) = iv.split_at(iv.len() / 2);
    let skip = search_len(low);
    match u8::try_from(skip) {
        Ok(jt) => a.raw(sock_filter {
            code: JMP_JGE_K,
            jt,
            jf: 0,
            k: high[0].0,
        }),
        Err(_) => {
            let upper = a.label();
            a.jump_if(JMP_JGE_K, high[0].0, upper);
            search(a, low);
            a.place(upper);
            return search(a, high);
        }
    }
    search(a, low);
    search(a, high);
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

/// A tiny assembler: instructions and forward gotos to labels.
#[derive(Default)]
struct Asm {
    items: Vec<Item>,
    labels: usize,
}

impl Asm {
    fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
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

    fn finish(self) -> BpfProgram {
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
