//! seccomp: `linux.seccomp` compiled to one BPF program, installed in the container's
//! processes, with the notify listener handed to the profile's agent.
//!
//! Inputs: the spec's `LinuxSeccomp`. Outputs: a [`Program`], compiled in the runtime parent
//! before anything exists (a bad profile leaves nothing behind), installed by the container's
//! init and exec processes (`install`, in the child, after the runtime's last privileged step
//! and as close to execve as the kernel allows), and the listener fd sent to the agent at
//! `listenerPath` by the parent (`notify`). Invariants: one program for every architecture
//! (never stacked filters: the kernel would keep the most severe answer of all of them and
//! break libseccomp's rule semantics); a syscall of an architecture the profile does not list
//! gets libseccomp's bad-arch action; an x32 call never meets the x86_64 rules.
use std::path::PathBuf;

use anyhow::Result;
use oci_spec::runtime::LinuxSeccomp;
use seccompiler::BpfProgram;

pub mod arch;
mod assemble;
pub mod install;
pub mod notify;
pub mod profile;
#[cfg(test)]
mod tests;

pub use install::install;

/// A compiled profile, ready to install.
#[derive(Debug)]
pub struct Program {
    pub(crate) filter: BpfProgram,
    /// `SECCOMP_FILTER_FLAG_*` for seccomp(2).
    pub(crate) flags: u32,
    /// Where the notify listener goes, when a rule notifies.
    pub listener: Option<Listener>,
}

#[derive(Debug, Clone)]
pub struct Listener {
    pub path: PathBuf,
    pub metadata: String,
}

/// Compile `linux.seccomp`; errors name the field at fault. The flags asked for are checked
/// against this kernel, and the listener path against the filesystem, here, before the
/// container exists.
pub fn compile(s: &LinuxSeccomp) -> Result<Program> {
    let policy = profile::build(s)?;
    install::check_flags(policy.flags)?;
    let filter = assemble::assemble(&policy)?;
    let listener = match policy.flags & profile::flag::NEW_LISTENER {
        0 => None,
        _ => Some(notify::listener(s)?),
    };
    Ok(Program {
        filter,
        flags: policy.flags,
        listener,
    })
}

/// The compiled `linux.seccomp` of a spec, if it has one.
pub fn for_spec(spec: &oci_spec::runtime::Spec) -> Result<Option<Program>> {
    let profile = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    profile.map(compile).transpose()
}

/// The state an agent is sent with a listener: runc's, whose status is "creating" while the
/// init is being set up.
pub fn agent_state(mut state: serde_json::Value, creating: bool) -> serde_json::Value {
    if creating {
        state["status"] = "creating".into();
    }
    state
}

/// The `seccomp` object of `features`, in runc's shape and field order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    enabled: bool,
    actions: Vec<&'static str>,
    operators: Vec<&'static str>,
    archs: Vec<&'static str>,
    known_flags: Vec<&'static str>,
    /// The known flags this kernel has.
    supported_flags: Vec<&'static str>,
}

pub fn features() -> Features {
    Features {
        enabled: true,
        actions: profile::KNOWN_ACTIONS.to_vec(),
        operators: profile::KNOWN_OPERATORS.to_vec(),
        archs: arch::KNOWN.to_vec(),
        known_flags: install::KNOWN_FLAGS.map(|(name, _)| name).to_vec(),
        supported_flags: install::supported_flags(),
    }
}
