//! `shoji kill`
use anyhow::Result;

use super::GlobalArgs;
use crate::container::signal::parse_signal;
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct KillArgs {
    /// Send the specified signal to all processes inside the container
    #[arg(short, long)]
    pub all: bool,
    /// The container id
    pub id: String,
    /// The signal, by name or number
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

pub fn run(g: &GlobalArgs, a: KillArgs) -> Result<i32> {
    let sig = parse_signal(&a.signal)?;
    crate::container::kill::kill(&Store::new(&g.root)?, &a.id, sig, a.all)?;
    Ok(0)
}
