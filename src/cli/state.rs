//! `shoji state`: the runtime-spec state plus runc's extra fields, indented as runc prints it.
use anyhow::Result;

use super::GlobalArgs;
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct StateArgs {
    /// The container id
    pub id: String,
}

pub fn run(g: &GlobalArgs, a: StateArgs) -> Result<i32> {
    let store = Store::new(&g.root)?;
    let (record, dir) = store.peek(&a.id)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&record.view(&dir.fifo_path()))?
    );
    Ok(0)
}
