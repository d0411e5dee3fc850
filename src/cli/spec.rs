//! `shoji spec`: write a default config.json into the bundle (refusing to overwrite one).
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

#[derive(clap::Args, Debug)]
pub struct SpecArgs {
    /// Path to the root of the bundle directory
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Generate a configuration for a rootless container
    #[arg(long)]
    pub rootless: bool,
}

pub fn run(a: SpecArgs) -> Result<i32> {
    let path = a.bundle.join("config.json");
    if path.exists() {
        bail!("File {} exists. Remove it first", path.display());
    }
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    let spec = crate::spec::default_spec(a.rootless, uid, gid);
    std::fs::write(&path, serde_json::to_string_pretty(&spec)? + "\n")
        .with_context(|| format!("writing {path:?}"))?;
    Ok(0)
}
