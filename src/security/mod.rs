//! security: what the container process may do — capabilities and seccomp (LSMs later).
//!
//! Inputs: `process.capabilities`, `process.noNewPrivileges`. Runs in the container child, in
//! the order the kernel requires: bounding set first (needs CAP_SETPCAP, so while still root),
//! keep-caps across the uid switch, then the other sets, ambient last.
pub mod capabilities;
pub mod seccomp;
