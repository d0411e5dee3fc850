//! cli: runc's command line, parsed by clap into typed arguments, then handed to `container::`.
//!
//! Inputs: argv. Outputs: an exit code (or an error that main renders once). Runs in the runtime
//! parent. Invariants: nothing below this module sees clap types except the thin per-command
//! files here, which translate them into the container layer's own option structs.
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::logging::LogFormat;

mod check;
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
mod version;

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

/// A flag given twice takes its last value, as runc's (wrappers prepend `--debug --log X` to
/// a client's own `--log`); clap would refuse the repeat.
#[derive(Parser, Debug)]
#[command(
    name = "shoji",
    version = version::TEXT,
    disable_version_flag = true,
    args_override_self = true,
    about = "shoji: a runc-compatible OCI container runtime"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Print the version
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    pub version: (),
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
    /// Output the runtime version
    Version,
    /// Diagnose this node's cgroup layout, its managers' cgroup drivers and damage done
    Check(check::CheckArgs),
}

/// An error that exits with `code` rather than 1 (runc's exec fails with 255, so callers can
/// tell it from the process's own status); its text is the outermost context of the chain.
#[derive(Debug)]
pub struct Failed {
    what: &'static str,
    pub code: i32,
}

impl Failed {
    pub fn new(what: &'static str, code: i32) -> Failed {
        Failed { what, code }
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.what)
    }
}

/// The exit status for a command that failed with `err`.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    err.downcast_ref::<Failed>().map_or(1, |f| f.code)
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
        Command::Version => version::run(),
        Command::Check(a) => check::run(a),
    }
}
