//! `shoji ps`: the container's processes — a JSON array of pids, or ps(1)'s output (with the
//! caller's ps options) filtered to the container's pids.
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::GlobalArgs;
use crate::cgroups;
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct PsArgs {
    /// Select one of: table or json
    #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// The container id
    pub id: String,
    /// Options passed to ps(1) (default: -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

pub fn run(g: &GlobalArgs, a: PsArgs) -> Result<i32> {
    let store = Store::new(&g.root)?;
    let (record, _) = store.peek(&a.id)?;
    let pids: Vec<i32> = cgroups::driver(&record.cgroup)?
        .cgroup()
        .pids()?
        .iter()
        .map(|p| p.as_raw())
        .collect();
    if a.format == "json" {
        println!("{}", serde_json::to_string(&pids)?);
        return Ok(0);
    }
    let args = if a.ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        a.ps_args.clone()
    };
    let out = Command::new("ps")
        .args(&args)
        .output()
        .context("running ps")?;
    if !out.status.success() {
        bail!(
            "ps {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    print!("{}", filter(&String::from_utf8_lossy(&out.stdout), &pids)?);
    Ok(0)
}

/// Keep the header and the lines whose PID column is one of `pids`.
fn filter(ps_output: &str, pids: &[i32]) -> Result<String> {
    let mut lines = ps_output.lines();
    let header = lines.next().context("ps printed nothing")?;
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .context("couldn't find PID field in ps output")?;
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_container_pids() {
        let ps = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:01 init\nroot 42 1 0 10:00 ? 00:00:00 sh\n";
        assert_eq!(
            filter(ps, &[42]).unwrap(),
            "UID PID PPID C STIME TTY TIME CMD\nroot 42 1 0 10:00 ? 00:00:00 sh\n"
        );
        assert!(filter("USER CMD\n", &[1]).is_err());
    }
}
