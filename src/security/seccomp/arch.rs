//! The architectures a profile can name on an x86_64 host, and each one's syscall table.
//!
//! seccompiler keeps its syscall table private and has none for i386 or x32, so the tables are
//! ours: the kernel's numbers as data files beside this one (name, number per line).
use std::collections::HashMap;

use oci_spec::runtime::Arch as SpecArch;

/// `AUDIT_ARCH_*`: what the kernel puts in `seccomp_data.arch`.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// x32 syscalls arrive as AUDIT_ARCH_X86_64 with this bit set in the number.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arch {
    X86_64,
    X86,
    X32,
}

/// The spec's names of the architectures a filter can be built for here, as `features` lists
/// them, sorted as runc
/// sorts them (runc lists those libseccomp knows; these are the ones compiled here).
pub const KNOWN: [&str; 3] = ["SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"];

const X86_64_TABLE: &str = include_str!("tables/x86_64.tbl");
const I386_TABLE: &str = include_str!("tables/i386.tbl");
const X32_TABLE: &str = include_str!("tables/x32.tbl");

impl Arch {
    /// The architecture a spec entry names on this host; None for one that cannot run here
    /// (an aarch64 entry in a multi-arch profile), which is skipped as libseccomp would never
    /// see such a syscall on x86_64.
    pub fn from_spec(a: SpecArch) -> Option<Arch> {
        match a {
            SpecArch::ScmpArchNative | SpecArch::ScmpArchX86_64 => Some(Arch::X86_64),
            SpecArch::ScmpArchX86 => Some(Arch::X86),
            SpecArch::ScmpArchX32 => Some(Arch::X32),
            _ => None,
        }
    }

    /// This architecture's syscall numbers by name, as `seccomp_data.nr` carries them (x32's
    /// with its bit set). Built once per compile: a profile names hundreds of syscalls.
    pub fn table(self) -> HashMap<&'static str, u32> {
        let (text, bit) = match self {
            Arch::X86_64 => (X86_64_TABLE, 0),
            Arch::X86 => (I386_TABLE, 0),
            Arch::X32 => (X32_TABLE, X32_SYSCALL_BIT),
        };
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (name, nr) = l.split_once(' ')?;
                Some((name, nr.parse::<u32>().ok()? | bit))
            })
            .collect()
    }

    /// Arguments are compared as 64-bit values only where the ABI's registers are 64-bit
    /// for user pointers and longs, as libseccomp does (x32 and i386 are 32-bit ABIs).
    pub fn wide_args(self) -> bool {
        self == Arch::X86_64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_per_abi() {
        let (x64, x86, x32) = (Arch::X86_64.table(), Arch::X86.table(), Arch::X32.table());
        assert_eq!(x64.get("getpid"), Some(&39));
        assert_eq!(x86.get("getpid"), Some(&20));
        assert_eq!(x32.get("getpid"), Some(&(39 | X32_SYSCALL_BIT)));
        assert_eq!(x32.get("execve"), Some(&(520 | X32_SYSCALL_BIT)));
        assert_eq!(x64.get("socketcall"), None);
        assert_eq!(x86.get("socketcall"), Some(&102));
        assert_eq!(x64.get("mseal"), Some(&462));
        assert_eq!(x64.get("no_such_call"), None);
    }
}
