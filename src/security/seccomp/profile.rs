//! `linux.seccomp` → a [`Policy`]: per architecture, what each syscall number does. Pure: no
//! kernel is asked anything here.
//!
//! The semantics are libseccomp's as runc drives it, because profiles are written for them:
//! names a table lacks are skipped; a rule whose action is the default is dropped; for one
//! syscall, a rule without arguments wins over every rule with arguments, and the first such
//! rule over later ones (libseccomp's db keeps the first unconditional entry and clears the
//! argument chains); rules with arguments are tried in profile order, the first whose
//! conditions all hold deciding (libseccomp merges them into a tree whose order for
//! overlapping rules with different actions is its own; the profiles clients send have none).
use std::collections::BTreeMap;

use anyhow::{bail, Result};
use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompAction as Action, LinuxSeccompArg, LinuxSeccompFilterFlag as Flag,
    LinuxSeccompOperator as Op, LinuxSyscall,
};

use super::arch::Arch;

/// `SECCOMP_RET_*` values the filter returns.
pub mod ret {
    pub const KILL_PROCESS: u32 = 0x8000_0000;
    pub const KILL_THREAD: u32 = 0x0000_0000;
    pub const TRAP: u32 = 0x0003_0000;
    pub const ERRNO: u32 = 0x0005_0000;
    pub const USER_NOTIF: u32 = 0x7fc0_0000;
    pub const TRACE: u32 = 0x7ff0_0000;
    pub const LOG: u32 = 0x7ffc_0000;
    pub const ALLOW: u32 = 0x7fff_0000;
}

/// `SECCOMP_FILTER_FLAG_*`.
pub mod flag {
    pub const LOG: u32 = 1 << 1;
    pub const SPEC_ALLOW: u32 = 1 << 2;
    pub const NEW_LISTENER: u32 = 1 << 3;
    pub const WAIT_KILLABLE_RECV: u32 = 1 << 5;
}

/// The spec's actions and operators, as `features` lists them (runc's sorted order).
pub const KNOWN_ACTIONS: [&str; 9] = [
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_TRAP",
];
pub const KNOWN_OPERATORS: [&str; 7] = [
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_LE",
    "SCMP_CMP_LT",
    "SCMP_CMP_MASKED_EQ",
    "SCMP_CMP_NE",
];

/// libseccomp's default action for a syscall of an architecture the filter does not list.
pub const BAD_ARCH: u32 = ret::KILL_THREAD;
/// The runtime hands the notify listener to its parent with sendmsg after the filter is in
/// place: a notified sendmsg would wait for an agent that never gets the listener (runc
/// refuses `write` for the same reason).
const HANDOVER_SYSCALL: &str = "sendmsg";

#[derive(Debug, Default)]
pub struct Policy {
    pub default: u32,
    /// x86_64 first: it is the native architecture, always present, as libseccomp adds it.
    pub archs: Vec<ArchPolicy>,
    /// `SECCOMP_FILTER_FLAG_*` asked for, NEW_LISTENER included when a rule notifies.
    pub flags: u32,
}

#[derive(Debug)]
pub struct ArchPolicy {
    pub arch: Arch,
    pub syscalls: BTreeMap<u32, SyscallPolicy>,
    /// runc's ENOSYS rule: numbers above the highest one the profile names get ENOSYS rather
    /// than the default, so programs fall back from syscalls newer than the profile.
    pub enosys_above: Option<u32>,
}

#[derive(Debug, Default, PartialEq)]
pub struct SyscallPolicy {
    /// Tried in profile order: all conditions of a rule must hold. Empty when `otherwise`
    /// comes from a rule without arguments.
    pub conditional: Vec<(Vec<LinuxSeccompArg>, u32)>,
    /// The action when no conditional rule matches; None for the default.
    pub otherwise: Option<u32>,
}

pub fn build(s: &LinuxSeccomp) -> Result<Policy> {
    let default = action(s.default_action(), s.default_errno_ret());
    if default == ret::USER_NOTIF {
        bail!("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
    }
    let syscalls = s.syscalls().clone().unwrap_or_default();
    for (i, call) in syscalls.iter().enumerate() {
        check_rule(i, call)?;
    }
    let mut archs = vec![Arch::X86_64];
    for a in s.architectures().iter().flatten() {
        match Arch::from_spec(*a) {
            Some(arch) if !archs.contains(&arch) => archs.push(arch),
            Some(_) => {}
            None => tracing::debug!("seccomp: skipping architecture {a}, not one of this host"),
        }
    }
    let notify = syscalls.iter().any(|c| c.action() == Action::ScmpActNotify);
    let archs = archs
        .into_iter()
        .map(|arch| arch_policy(arch, &syscalls, default))
        .collect();
    Ok(Policy {
        default,
        archs,
        flags: flags(s.flags().as_deref().unwrap_or_default(), notify),
    })
}

/// The `SECCOMP_RET_*` of an action; errnoRet counts for ERRNO and TRACE only, EPERM when
/// absent, as runc.
pub fn action(a: Action, errno_ret: Option<u32>) -> u32 {
    let data = errno_ret.unwrap_or(libc::EPERM as u32) & 0xffff;
    match a {
        Action::ScmpActKill | Action::ScmpActKillThread => ret::KILL_THREAD,
        Action::ScmpActKillProcess => ret::KILL_PROCESS,
        Action::ScmpActTrap => ret::TRAP,
        Action::ScmpActErrno => ret::ERRNO | data,
        Action::ScmpActNotify => ret::USER_NOTIF,
        Action::ScmpActTrace => ret::TRACE | data,
        Action::ScmpActLog => ret::LOG,
        Action::ScmpActAllow => ret::ALLOW,
    }
}

fn check_rule(i: usize, call: &LinuxSyscall) -> Result<()> {
    if call.names().is_empty() {
        bail!("linux.seccomp.syscalls[{i}].names: at least one syscall name must be given");
    }
    for (j, arg) in call.args().iter().flatten().enumerate() {
        if arg.index() > 5 {
            bail!(
                "linux.seccomp.syscalls[{i}].args[{j}].index: {} is not a syscall argument (0-5)",
                arg.index()
            );
        }
    }
    if call.action() == Action::ScmpActNotify && call.names().iter().any(|n| n == HANDOVER_SYSCALL)
    {
        bail!(
            "linux.seccomp.syscalls[{i}]: SCMP_ACT_NOTIFY cannot be used for {HANDOVER_SYSCALL} \
             (the runtime hands the listener over with it)"
        );
    }
    Ok(())
}

fn arch_policy(arch: Arch, syscalls: &[LinuxSyscall], default: u32) -> ArchPolicy {
    let table = arch.table();
    let mut by_nr: BTreeMap<u32, SyscallPolicy> = BTreeMap::new();
    let mut highest = None;
    for call in syscalls {
        let act = action(call.action(), call.errno_ret());
        let args = call.args().clone().unwrap_or_default();
        for name in call.names() {
            let Some(&nr) = table.get(name.as_str()) else {
                tracing::debug!("seccomp: {arch:?} has no syscall {name:?}; rule skipped");
                continue;
            };
            highest = highest.max(Some(nr));
            if act == default {
                continue; // libseccomp refuses such rules; runc drops them
            }
            let entry = by_nr.entry(nr).or_default();
            if args.is_empty() {
                entry.otherwise.get_or_insert(act);
            } else if can_match(&args, arch) {
                entry.conditional.push((args.clone(), act));
            }
        }
    }
    for p in by_nr.values_mut().filter(|p| p.otherwise.is_some()) {
        p.conditional.clear();
    }
    by_nr.retain(|_, p| p.otherwise.is_some() || !p.conditional.is_empty());
    let denies = !matches!(default, ret::ALLOW | ret::LOG);
    ArchPolicy {
        arch,
        syscalls: by_nr,
        enosys_above: highest.filter(|_| denies),
    }
}

/// libseccomp compares `(arg & mask) == datum` without masking the datum, so a datum with
/// bits outside the mask never matches; such a rule is left out rather than compiled to a
/// condition that would (seccompiler masks both sides).
fn can_match(args: &[LinuxSeccompArg], arch: Arch) -> bool {
    let width = if arch.wide_args() {
        u64::MAX
    } else {
        0xffff_ffff
    };
    args.iter().all(|a| {
        a.op() != Op::ScmpCmpMaskedEq || a.value_two().unwrap_or(0) & !a.value() & width == 0
    })
}

/// TSYNC is accepted and has nothing to do (the init is single-threaded), as in runc;
/// WAIT_KILLABLE_RECV only means something with a listener, which the kernel enforces.
fn flags(list: &[Flag], notify: bool) -> u32 {
    let mut bits = if notify { flag::NEW_LISTENER } else { 0 };
    for f in list {
        bits |= match f {
            Flag::SeccompFilterFlagLog => flag::LOG,
            Flag::SeccompFilterFlagSpecAllow => flag::SPEC_ALLOW,
            Flag::SeccompFilterFlagWaitKillableRecv if notify => flag::WAIT_KILLABLE_RECV,
            Flag::SeccompFilterFlagWaitKillableRecv | Flag::SeccompFilterFlagTsync => 0,
        };
    }
    bits
}
