//! `shoji start`
use anyhow::Result;

use super::GlobalArgs;
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct StartArgs {
    /// The container id
    pub id: String,
}

pub fn run(g: &GlobalArgs, a: StartArgs) -> Result<i32> {
    crate::container::start::start(&Store::new(&g.root)?, &a.id)?;
    Ok(0)
}
