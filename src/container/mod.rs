//! container: the lifecycle, one file per command, each a short step list.
//!
//! Inputs: option structs from `cli::` and the state store. Outputs: changes to the world
//! (processes, cgroups, the state dir) and an exit code. Runs in the runtime parent.
//! Invariants: `create` is the only reader of config.json; every later command starts from the
//! state record and rebuilds the cgroup driver from the location saved there; a failed command
//! leaves nothing behind (each stage's guard undoes it).
pub mod console_relay;
pub mod create;
pub mod delete;
pub mod exec;
mod guard;
pub mod kill;
mod own_processes;
pub mod pause;
pub mod signal;
pub mod start;
pub mod update;
pub mod wait;
