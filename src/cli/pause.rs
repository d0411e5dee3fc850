//! `shoji pause` and `shoji resume`
use anyhow::Result;

use super::GlobalArgs;
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct IdArg {
    /// The container id
    pub id: String,
}

pub fn pause(g: &GlobalArgs, a: IdArg) -> Result<i32> {
    crate::container::pause::pause(&Store::new(&g.root)?, &a.id)?;
    Ok(0)
}

pub fn resume(g: &GlobalArgs, a: IdArg) -> Result<i32> {
    crate::container::pause::resume(&Store::new(&g.root)?, &a.id)?;
    Ok(0)
}
