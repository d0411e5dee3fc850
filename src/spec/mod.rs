//! spec: the bundle's config.json, loaded once and validated once.
//!
//! Inputs: a bundle directory. Output: a [`ValidatedSpec`] — the only way to get one is
//! [`validate`], so code downstream can rely on its invariants: ociVersion is 1.x, the rootfs is
//! a directory, the process has args and an absolute cwd, namespace settings do not conflict.
//! Runs in the runtime parent.
mod load;
mod template;
mod validate;

pub use load::load_bundle;
pub use template::default_spec;
pub use validate::{validate, ValidatedSpec};
