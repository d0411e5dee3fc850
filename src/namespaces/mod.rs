//! namespaces: which namespaces a container gets new and which it joins by path.
//!
//! Inputs: `linux.namespaces` (already checked for duplicates and conflicts by spec::validate).
//! Output: a [`NamespacePlan`]. The plan is made in the runtime parent; `enter` and `unshare_new`
//! run in the container's first child (before the init is forked, so a new pid or time
//! namespace applies to the init). Invariants: the user namespace is joined or created first,
//! so every other namespace is owned by it; all join paths are opened before the first setns,
//! because joining a mount namespace changes what later paths resolve to.
use std::path::PathBuf;

use nix::sched::CloneFlags;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

mod enter;
mod idmap;

pub use enter::{join_all, unshare_new, write_time_offsets};
pub use idmap::write_id_maps;

/// The namespace kinds shoji supports, by their runtime-spec names (for `features`).
pub const KNOWN: &[&str] = &[
    "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
];

#[derive(Debug, Clone)]
pub struct NamespacePlan {
    /// Namespaces to join, in the order they must be entered (user first).
    pub join: Vec<(LinuxNamespaceType, PathBuf)>,
    /// New namespaces other than user, unshared together after the user namespace exists.
    pub new: CloneFlags,
    /// A new user namespace: the parent writes its id maps before the child continues.
    pub new_user: bool,
}

impl Default for NamespacePlan {
    fn default() -> Self {
        NamespacePlan {
            join: Vec::new(),
            new: CloneFlags::empty(),
            new_user: false,
        }
    }
}

impl NamespacePlan {
    pub fn has_new(&self, t: LinuxNamespaceType) -> bool {
        if t == LinuxNamespaceType::User {
            return self.new_user;
        }
        self.new.contains(clone_flag(t))
    }
    /// The container is in a user namespace of its own (new or joined).
    pub fn in_user_ns(&self) -> bool {
        self.new_user
            || self
                .join
                .iter()
                .any(|(t, _)| *t == LinuxNamespaceType::User)
    }
}

pub fn clone_flag(t: LinuxNamespaceType) -> CloneFlags {
    match t {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

/// Join-by-path order: user first (it owns the rest), mount last (it changes path lookup).
fn join_rank(t: LinuxNamespaceType) -> u8 {
    match t {
        LinuxNamespaceType::User => 0,
        LinuxNamespaceType::Mount => 9,
        _ => 5,
    }
}

pub fn plan(spec: &Spec) -> NamespacePlan {
    let namespaces = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    let mut plan = NamespacePlan::default();
    for ns in namespaces {
        match ns.path() {
            Some(path) => plan.join.push((ns.typ(), path.clone())),
            None if ns.typ() == LinuxNamespaceType::User => plan.new_user = true,
            None => plan.new |= clone_flag(ns.typ()),
        }
    }
    plan.join.sort_by_key(|(t, _)| join_rank(*t));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ns: serde_json::Value) -> Spec {
        serde_json::from_value(
            serde_json::json!({"ociVersion": "1.0.2", "linux": {"namespaces": ns}}),
        )
        .unwrap()
    }

    #[test]
    fn plans_new_and_joined() {
        let p = plan(&spec(serde_json::json!([
            {"type": "mount", "path": "/proc/1/ns/mnt"}, {"type": "pid"},
            {"type": "network", "path": "/run/netns/x"}, {"type": "user", "path": "/proc/1/ns/user"},
            {"type": "time"}
        ])));
        let order: Vec<_> = p.join.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            order,
            [
                LinuxNamespaceType::User,
                LinuxNamespaceType::Network,
                LinuxNamespaceType::Mount
            ]
        );
        assert!(p.has_new(LinuxNamespaceType::Pid));
        assert!(p.has_new(LinuxNamespaceType::Time));
        assert!(!p.has_new(LinuxNamespaceType::Mount));
        assert!(!p.new_user && p.in_user_ns());
    }

    #[test]
    fn new_user_is_separate_from_the_rest() {
        let p = plan(&spec(
            serde_json::json!([{"type": "user"}, {"type": "mount"}]),
        ));
        assert!(p.new_user);
        assert_eq!(p.new, CloneFlags::CLONE_NEWNS);
    }
}
