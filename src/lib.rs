//! shoji: a runc-compatible OCI container runtime. The binary (`main.rs`) is a thin shell over
//! this library so that integration tests can use the same types.
pub mod cgroups;
pub mod check;
pub mod cli;
pub mod container;
pub mod exe_seal;
pub mod hooks;
#[cfg(test)]
mod hostile_input_tests;
pub mod logging;
pub mod mountinfo;
pub mod namespaces;
pub mod process;
pub mod quote;
pub mod rootfs;
pub mod security;
pub mod spec;
pub mod state;
pub mod sys;
pub mod systemd;
pub mod terminal;
