//! linux.sysctl: which keys a container may set, and the /proc/sys file each one names.
//!
//! Most of /proc/sys is global to the host: `kernel.core_pattern` written from a container would
//! give anyone host root. So, as runc, only namespaced sysctls are accepted, each only when the
//! container has its own namespace of that kind: the ipc list and `fs.mqueue.*` (ipc),
//! `kernel.hostname` and `kernel.domainname` (uts), `net.*` (network). Every other key is
//! refused by `validate`, naming it, before anything exists.
//!
//! A key is dotted (`kernel.msgmax`) or, when its first separator is a slash, slashed
//! (`net/ipv4/conf/eth0.100/forwarding`: the slash form lets a component hold a dot). Both name
//! the same file; the checks look at the components, never at the raw string.
use std::os::unix::fs::MetadataExt;

use anyhow::{bail, Result};
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::quote::quoted;

/// The ipc namespace's sysctls besides `fs.mqueue.*` (ipc_sysctls.c).
const IPC_KEYS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The uts namespace's sysctls.
const UTS_KEYS: &[&str] = &["kernel.hostname", "kernel.domainname"];

/// The key's path components; refuses empty, `.` and `..` components (and, in the dotted form,
/// a slash inside one), so the /proc/sys path cannot leave the key's subtree.
fn components(key: &str) -> Result<Vec<&str>> {
    let slashed = key
        .find(['.', '/'])
        .is_some_and(|i| key.as_bytes()[i] == b'/');
    let parts: Vec<&str> = match slashed {
        true => key.split('/').collect(),
        false => key.split('.').collect(),
    };
    let bad = |p: &&str| p.is_empty() || *p == "." || *p == ".." || p.contains('/');
    if parts.len() < 2 || parts.iter().any(bad) {
        bail!("invalid sysctl key {}", quoted(key));
    }
    Ok(parts)
}

/// The namespace that makes this sysctl the container's own; None for a host-global one.
fn namespace_of(parts: &[&str]) -> Option<LinuxNamespaceType> {
    let dotted = parts.join(".");
    if IPC_KEYS.contains(&dotted.as_str())
        || parts.len() > 2 && parts.starts_with(&["fs", "mqueue"])
    {
        return Some(LinuxNamespaceType::Ipc);
    }
    if UTS_KEYS.contains(&dotted.as_str()) {
        return Some(LinuxNamespaceType::Uts);
    }
    (parts[0] == "net").then_some(LinuxNamespaceType::Network)
}

/// The file under /proc/sys that `key` names (in the container's own /proc).
pub fn proc_path(key: &str) -> Result<String> {
    Ok(format!("/proc/sys/{}", components(key)?.join("/")))
}

/// Every key of linux.sysctl is namespaced and its namespace is the container's own.
pub fn check(spec: &Spec) -> Result<()> {
    let Some(linux) = spec.linux().as_ref() else {
        return Ok(());
    };
    let Some(sysctl) = linux.sysctl().as_ref() else {
        return Ok(());
    };
    let namespaces = linux.namespaces().clone().unwrap_or_default();
    for key in sysctl.keys() {
        let Some(kind) = namespace_of(&components(key)?) else {
            bail!(
                "sysctl {} is not in a separate kernel namespace",
                quoted(key)
            );
        };
        let own = namespaces.iter().find(|n| n.typ() == kind);
        let host = match own {
            None => true,
            Some(ns) => ns.path().as_ref().is_some_and(|p| same_as_ours(p, kind)),
        };
        if host {
            let name = match kind {
                LinuxNamespaceType::Ipc => "ipc",
                LinuxNamespaceType::Uts => "uts",
                _ => "network",
            };
            bail!(
                "sysctl {} is not allowed in the hosts {name} namespace",
                quoted(key)
            );
        }
    }
    Ok(())
}

/// Whether joining `path` would leave the container in the runtime's own namespace of `kind`.
fn same_as_ours(path: &std::path::Path, kind: LinuxNamespaceType) -> bool {
    let ours = match kind {
        LinuxNamespaceType::Ipc => "/proc/self/ns/ipc",
        LinuxNamespaceType::Uts => "/proc/self/ns/uts",
        _ => "/proc/self/ns/net",
    };
    match (std::fs::metadata(path), std::fs::metadata(ours)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        // An unreadable path fails later, when the namespace is joined.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_keys() {
        let cases = [
            ("kernel.msgmax", Some(LinuxNamespaceType::Ipc)),
            ("kernel/shm_rmid_forced", Some(LinuxNamespaceType::Ipc)),
            ("fs.mqueue.msg_max", Some(LinuxNamespaceType::Ipc)),
            ("kernel.hostname", Some(LinuxNamespaceType::Uts)),
            ("net.ipv4.ip_forward", Some(LinuxNamespaceType::Network)),
            (
                "net/ipv4/conf/eth0.100/forwarding",
                Some(LinuxNamespaceType::Network),
            ),
            ("kernel.printk_ratelimit_burst", None),
            ("kernel/printk_ratelimit_burst", None),
            ("kernel.core_pattern", None),
            ("fs.mqueue", None),
            ("vm.overcommit_memory", None),
        ];
        for (key, want) in cases {
            assert_eq!(namespace_of(&components(key).unwrap()), want, "{key}");
        }
    }

    #[test]
    fn paths_stay_in_their_subtree() {
        assert_eq!(
            proc_path("kernel.msgmax").unwrap(),
            "/proc/sys/kernel/msgmax"
        );
        assert_eq!(
            proc_path("net/ipv4/conf/eth0.100/forwarding").unwrap(),
            "/proc/sys/net/ipv4/conf/eth0.100/forwarding"
        );
        for bad in [
            "net/../kernel/core_pattern",
            "net.ipv4/../../kernel/core_pattern",
            "net..ipv4",
            "net",
            "",
            "/net/ipv4",
            "net.",
        ] {
            assert!(proc_path(bad).is_err(), "{bad:?}");
        }
    }
}
