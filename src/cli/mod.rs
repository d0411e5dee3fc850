//! cli: runc's command line, parsed by clap into typed arguments, then handed to `container::`.
//!
//! Inputs: argv. Outputs: an exit code (or an error that main renders once). Runs in the runtime
//! parent. Invariants: nothing below this module sees clap types except the thin per-command
//! files here, which translate them into the container layer's own option structs.
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::logging::LogFormat;

mod create;
mod delete;
mod events;
mod exec;
pub mod features;
mod kill;
mod list;
mod pause;
mod ps;
mod run;
mod spec;
mod start;
mod state;
mod update;

/// Global flags, named and defaulted as runc's.
#[derive(clap::Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Root directory for storage of container state (this should be located in tmpfs)
    #[arg(long, global = true, default_value = "/run/shoji")]
    pub root: PathBuf,
    /// Set the log file to write shoji logs to (default is stderr)
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Set the log format ('text' (default), or 'json')
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Enable debug logging
    #[arg(long, global = true)]
    pub debug: bool,
    /// Enable systemd cgroup support: cgroupsPath is then "slice:prefix:name"
    #[arg(long, global = true)]
    pub systemd_cgroup: bool,
    /// Accepted for runc compatibility; shoji detects rootless operation itself
    #[arg(id = "global_rootless", long = "rootless", hide = true)]
    pub rootless: Option<String>,
    /// Accepted for runc compatibility (criu path); checkpointing is not supported
    #[arg(long, global = true, hide = true)]
    pub criu: Option<String>,
}

#[derive(Parser, Debug)]
#[command(
    name = "shoji",
    version,
    about = "shoji: a runc-compatible OCI container runtime"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a container
    Create(create::CreateArgs),
    /// Execute the user-defined process in a created container
    Start(start::StartArgs),
    /// Create and run a container
    Run(run::RunArgs),
    /// Execute new process inside the container
    Exec(exec::ExecArgs),
    /// Output the state of a container
    State(state::StateArgs),
    /// Kill sends the specified signal (default: SIGTERM) to the container's init process
    Kill(kill::KillArgs),
    /// Delete any resources held by the container
    Delete(delete::DeleteArgs),
    /// Lists containers started by shoji with the given root
    #[command(alias = "ls")]
    List(list::ListArgs),
    /// Create a new specification file
    Spec(spec::SpecArgs),
    /// Display the processes running inside a container
    Ps(ps::PsArgs),
    /// Display container events such as OOM notifications, cpu, memory, and IO usage statistics
    Events(events::EventsArgs),
    /// Suspend all processes inside the container
    Pause(pause::IdArg),
    /// Resume all processes that have been previously paused
    Resume(pause::IdArg),
    /// Update container resource constraints
    Update(update::UpdateArgs),
    /// Show the enabled features
    Features,
}

/// Run one command; the returned code is the process exit status.
pub fn dispatch(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    // The commands whose forks enter a container run from a copy of the binary no container
    // can write (this may re-execute the process; see exe_seal).
    if matches!(
        cli.command,
        Command::Create(_) | Command::Run(_) | Command::Exec(_)
    ) {
        crate::exe_seal::ensure_sealed()?;
    }
    match cli.command {
        Command::Create(a) => create::run(g, a),
        Command::Start(a) => start::run(g, a),
        Command::Run(a) => run::run(g, a),
        Command::Exec(a) => exec::run(g, a),
        Command::State(a) => state::run(g, a),
        Command::Kill(a) => kill::run(g, a),
        Command::Delete(a) => delete::run(g, a),
        Command::List(a) => list::run(g, a),
        Command::Spec(a) => spec::run(a),
        Command::Ps(a) => ps::run(g, a),
        Command::Events(a) => events::run(g, a),
        Command::Pause(a) => pause::pause(g, a),
        Command::Resume(a) => pause::resume(g, a),
        Command::Update(a) => update::run(g, a),
        Command::Features => features::run(),
    }
}
