//! `shoji check`: diagnose this node's cgroup layout, its managers' cgroup drivers and damage
//! already done; read-only. Exit 0 clean, 1 errors found, 2 something could not be checked.
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;

use crate::check::{self, render, HostRoot};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Output format: text (for people) or json (for tools; schema in README)
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Read every file (mount table, cgroup trees, configs) under this directory instead of /
    #[arg(long, default_value = "/")]
    pub root_dir: PathBuf,
}

pub fn run(a: CheckArgs) -> Result<i32> {
    let report = check::run(&HostRoot::new(&a.root_dir));
    let root = a.root_dir.display().to_string();
    if a.format == "json" {
        println!("{}", render::json(&report, &root));
    } else {
        print!(
            "{}",
            render::text(&report, &root, std::io::stdout().is_terminal())
        );
    }
    Ok(report.exit_code())
}
