//! Device access on cgroup v2, which has no devices controller: the rule list is compiled to
//! a BPF_PROG_TYPE_CGROUP_DEVICE program, loaded with bpf(2) and attached to the container's
//! cgroup directory. Runs in the runtime parent (create and update).
//!
//! Semantics (runc's): rules are read in order and the last one matching a request decides;
//! with no match the default is deny, unless an "allow everything" rule (type `a`, any major,
//! any minor, `rwm`) came last among the catch-alls. A catch-all allow or deny discards the
//! rules before it. An allow rule matches when it grants every access requested; a deny rule
//! matches when it forbids any of them. The caller passes the complete list (the spec's rules
//! and the default devices), see `super::devices::effective_rules`.
//!
//! On update the new program replaces the old one atomically (BPF_F_REPLACE) when exactly one
//! is attached; otherwise the new one is attached first and the old ones detached after, so the
//! cgroup is never unfiltered. As runc, the container's cgroup is treated as ours: programs
//! others attached to it directly are replaced too.
use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

#[path = "bpf/insn.rs"]
mod insn;
#[path = "bpf/syscall.rs"]
mod syscall;

use insn::{Insn, R0, R1};
use syscall::{BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, BPF_PROG_TYPE_CGROUP_DEVICE};

/// Compiles `rules` and attaches the program to `cgroup_dir`, replacing any earlier one.
pub fn apply(cgroup_dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<()> {
    let program = compile(rules)?;
    let prog = syscall::load(BPF_PROG_TYPE_CGROUP_DEVICE, &program, "shoji_devices")?;
    let dir = File::open(cgroup_dir).with_context(|| format!("opening {cgroup_dir:?}"))?;
    let cgroup = dir.as_fd();
    let attach_to = |replace| {
        syscall::attach(
            cgroup,
            prog.as_fd(),
            BPF_CGROUP_DEVICE,
            BPF_F_ALLOW_MULTI,
            replace,
        )
    };
    match syscall::query(cgroup, BPF_CGROUP_DEVICE)?.as_slice() {
        [old] => attach_to(Some(syscall::prog_fd_by_id(*old)?.as_fd()))?,
        olds => {
            attach_to(None)?;
            for id in olds {
                let old = syscall::prog_fd_by_id(*id)?;
                syscall::detach(cgroup, old.as_fd(), BPF_CGROUP_DEVICE)?;
            }
        }
    }
    Ok(())
}

// Access bits and device types as the kernel passes them in `struct bpf_cgroup_dev_ctx`.
const ACC_MKNOD: u32 = 1;
const ACC_READ: u32 = 2;
const ACC_WRITE: u32 = 4;
const ACC_ALL: u32 = ACC_MKNOD | ACC_READ | ACC_WRITE;
const DEV_BLOCK: u32 = 1;
const DEV_CHAR: u32 = 2;

// Registers holding the request once the prologue has read the context.
const R_TYPE: u8 = 2;
const R_ACCESS: u8 = 3;
const R_MAJOR: u8 = 4;
const R_MINOR: u8 = 5;

/// A spec rule in the kernel's terms; `None` matches anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    allow: bool,
    typ: Option<u32>,
    major: Option<u32>,
    minor: Option<u32>,
    access: u32,
}

impl Rule {
    fn from_spec(rule: &LinuxDeviceCgroup) -> Result<Rule> {
        let typ = match rule.typ().unwrap_or(LinuxDeviceType::A) {
            LinuxDeviceType::A => None,
            LinuxDeviceType::B => Some(DEV_BLOCK),
            LinuxDeviceType::C | LinuxDeviceType::U => Some(DEV_CHAR),
            LinuxDeviceType::P => bail!("invalid cgroup device type \"p\": fifos are not devices"),
        };
        Ok(Rule {
            allow: rule.allow(),
            typ,
            major: device_number("major", rule.major())?,
            minor: device_number("minor", rule.minor())?,
            access: access_bits(rule.access().as_deref())?,
        })
    }

    fn matches_everything(&self) -> bool {
        self.typ.is_none() && self.major.is_none() && self.minor.is_none() && self.access == ACC_ALL
    }
}

fn device_number(what: &str, n: Option<i64>) -> Result<Option<u32>> {
    match n {
        None | Some(-1) => Ok(None),
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| anyhow::anyhow!("invalid device {what} number {n}")),
    }
}

/// `rwm` letters to access bits; an absent or empty access means all three (as runc).
fn access_bits(access: Option<&str>) -> Result<u32> {
    let access = access.filter(|a| !a.is_empty()).unwrap_or("rwm");
    access.chars().try_fold(0, |bits, c| match c {
        'r' => Ok(bits | ACC_READ),
        'w' => Ok(bits | ACC_WRITE),
        'm' => Ok(bits | ACC_MKNOD),
        _ => bail!("invalid device access {access:?}: only r, w and m are allowed"),
    })
}

/// The verdict without a match, and the rules that can still match, in spec order.
fn effective(rules: &[LinuxDeviceCgroup]) -> Result<(bool, Vec<Rule>)> {
    let mut default_allow = false;
    let mut kept = Vec::new();
    for spec_rule in rules {
        let rule = Rule::from_spec(spec_rule)?;
        if rule.matches_everything() {
            // Everything before a catch-all is overridden by it.
            default_allow = rule.allow;
            kept.clear();
        } else {
            kept.push(rule);
        }
    }
    Ok((default_allow, kept))
}

/// The program: read the request, test the rules last-first (the first hit returns), then
/// return the default. Every rule kept by `effective` has at least one condition, so no block
/// is unconditional and the verifier sees no unreachable code.
fn compile(rules: &[LinuxDeviceCgroup]) -> Result<Vec<Insn>> {
    let (default_allow, kept) = effective(rules)?;
    let mut prog = vec![
        insn::load_u32(R_TYPE, R1, 0),
        insn::and_imm(R_TYPE, 0xffff),
        insn::load_u32(R_ACCESS, R1, 0),
        insn::rsh_imm(R_ACCESS, 16),
        insn::load_u32(R_MAJOR, R1, 4),
        insn::load_u32(R_MINOR, R1, 8),
    ];
    for rule in kept.iter().rev() {
        prog.extend(rule_block(rule));
    }
    prog.push(insn::mov_imm(R0, default_allow as i32));
    prog.push(insn::exit());
    Ok(prog)
}

/// One rule: each failed condition jumps past the block's `return verdict`.
fn rule_block(rule: &Rule) -> Vec<Insn> {
    // (instructions before the jump, jump-if-no-match with its offset left 0)
    let mut conds: Vec<(Vec<Insn>, Insn)> = Vec::new();
    if let Some(t) = rule.typ {
        conds.push((vec![], insn::jne32_imm(R_TYPE, t, 0)));
    }
    if rule.access != ACC_ALL {
        // R1 (the context pointer) is free once the prologue has read it.
        let scratch = vec![insn::mov_reg(R1, R_ACCESS)];
        if rule.allow {
            let not_granted = (!rule.access & ACC_ALL) as i32;
            conds.push((
                [scratch, vec![insn::and_imm(R1, not_granted)]].concat(),
                insn::jne32_imm(R1, 0, 0),
            ));
        } else {
            conds.push((
                [scratch, vec![insn::and_imm(R1, rule.access as i32)]].concat(),
                insn::jeq32_imm(R1, 0, 0),
            ));
        }
    }
    if let Some(major) = rule.major {
        conds.push((vec![], insn::jne32_imm(R_MAJOR, major, 0)));
    }
    if let Some(minor) = rule.minor {
        conds.push((vec![], insn::jne32_imm(R_MINOR, minor, 0)));
    }
    let mut block = Vec::new();
    let mut jumps = Vec::new();
    for (setup, jump) in conds {
        block.extend(setup);
        jumps.push(block.len());
        block.push(jump);
    }
    block.push(insn::mov_imm(R0, rule.allow as i32));
    block.push(insn::exit());
    let end = block.len();
    for at in jumps {
        block[at].off = (end - at - 1) as i16;
    }
    block
}

#[cfg(test)]
#[path = "bpf/devices_bpf_tests.rs"]
mod tests;
