//! spec: the bundle's config.json, loaded once and validated once.
//!
//! Inputs: a bundle directory. Output: a [`ValidatedSpec`] — the only way to get one is
//! [`validate`], so code downstream can rely on its invariants: ociVersion is 1.x, the rootfs is
//! a directory, the process has args, an absolute cwd, ids in range and `KEY=VALUE` env, namespace
//! settings do not conflict, every sysctl is namespaced (sysctl.rs), and nothing that confines
//! the container (LSM labels, masked paths) would be dropped (`linux.seccomp` is compiled, or
//! refused, by security::seccomp when create starts).
//! Runs in the runtime parent.
mod load;
pub mod sysctl;
mod template;
mod validate;

pub use load::load_bundle;
pub use template::default_spec;
pub use validate::{check_process, validate, ValidatedSpec};
