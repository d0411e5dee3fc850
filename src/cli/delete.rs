//! `shoji delete`
use anyhow::Result;

use super::GlobalArgs;
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct DeleteArgs {
    /// Forcibly delete the container if it is still running (uses SIGKILL)
    #[arg(short, long)]
    pub force: bool,
    /// The container id
    pub id: String,
}

pub fn run(g: &GlobalArgs, a: DeleteArgs) -> Result<i32> {
    crate::container::delete::delete(&Store::new(&g.root)?, &a.id, a.force)?;
    Ok(0)
}
