//! `shoji --version`, `-v` and `shoji version`: runc's shape, because dockerd and scripts parse
//! it (dockerd takes the name and version from the line containing "version" and the commit
//! from the line starting "commit:"; `docker info` shows N/A otherwise). The `spec:` line is
//! the newest runtime-spec version shoji implements. runc adds a libseccomp line; shoji builds
//! its filters without libseccomp, so it has none.
use anyhow::Result;

use super::features::oci_version_max;

/// What follows the program name; clap prints `shoji ` before it for `--version` and `-v`.
pub const TEXT: &str = concat!(
    "version ",
    env!("CARGO_PKG_VERSION"),
    "\ncommit: ",
    env!("SHOJI_COMMIT"),
    "\nspec: ",
    oci_version_max!()
);

/// The `version` command.
pub fn run() -> Result<i32> {
    println!("shoji {TEXT}");
    Ok(0)
}
