//! Test support shared by every integration tier (host, systemd, vm). Include it from a tier's
//! main.rs with `#[path = "../support/mod.rs"] mod support;`.
//!
//! Inputs: the runtime binary (`$SHOJI_RUNTIME`, else the shoji cargo built) and the host's
//! /bin/busybox. Outputs: bundles, runtime invocations and guards, all under /tmp/shoji-it.
//! Runs in the test process, as root. Invariants: every bundle, `--root` and container a test
//! makes is removed when its guard drops, and the container guard asserts that delete left no
//! state dir, process or cgroup directory behind.
#![allow(dead_code, unused_imports)] // each tier uses a different subset of the helpers

pub mod bundle;
pub mod cgroup_parents;
pub mod console;
pub mod container;
pub mod crash;
pub mod cwd_escape;
pub mod leftovers;
pub mod procfs;
pub mod runtime;
pub mod scratch;
pub mod shared_cgroup;
pub mod spec;

pub use bundle::Bundle;
pub use cgroup_parents::CgroupParents;
pub use container::{create_must_fail, create_must_fail_with, run_container, sh, Container};
pub use leftovers::assert_no_leftovers;
pub use runtime::{Output, Runtime};
pub use scratch::{unique_name, Scratch};
pub use serde_json::{json, Value};
