//! security: what the container process may do.
//!
//! capabilities.rs — `process.capabilities`, `process.noNewPrivileges` — runs in the container
//! child, in the order the kernel requires: bounding set first (needs CAP_SETPCAP, so while
//! still root), keep-caps across the uid switch, then the other sets, ambient last.
//! lsm.rs refuses the LSM labels shoji does not apply; it runs in the runtime parent, before
//! anything exists. seccomp/ compiles `linux.seccomp` in the parent and installs it in the
//! container's processes (see its module doc).
pub mod capabilities;
pub mod lsm;
pub mod seccomp;
