//! `shoji events`: runc's event stream — `{"type":"stats","id":…,"data":{…}}` every
//! `--interval`, `{"type":"oom","id":…}` when the kernel OOM-kills in the container — or with
//! `--stats` a single stats event.
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::json;

use super::GlobalArgs;
use crate::cgroups;
use crate::state::{Status, Store};

/// How often the OOM counter is read between stats events.
const OOM_POLL: Duration = Duration::from_millis(100);

#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    /// Set the stats collection interval
    #[arg(long, default_value = "5s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Display the container's stats then exit
    #[arg(long)]
    pub stats: bool,
    /// The container id
    pub id: String,
}

/// Go-style durations as runc takes them: `5s`, `500ms`, `1m`.
fn parse_interval(s: &str) -> std::result::Result<Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("invalid duration {s:?}")),
    };
    if secs <= 0.0 {
        return Err("duration interval must be greater than 0".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn run(g: &GlobalArgs, a: EventsArgs) -> Result<i32> {
    let store = Store::new(&g.root)?;
    let (record, view) = store.peek(&a.id)?;
    if record.status(&view.fifo_path()) == Status::Stopped {
        bail!("container with id {} is not running", a.id);
    }
    let driver = cgroups::driver(&record.cgroup)?;
    let cg = driver.cgroup();
    let stats_event = || -> Result<serde_json::Value> {
        Ok(json!({"type": "stats", "id": a.id, "data": cg.stats()?}))
    };
    let mut out = std::io::stdout();
    if a.stats {
        writeln!(out, "{}", stats_event()?)?;
        return Ok(0);
    }
    let mut ooms = cg.oom_kill_count().unwrap_or(0);
    let mut next_stats = Instant::now();
    while record.status(&view.fifo_path()) != Status::Stopped {
        let now_ooms = cg.oom_kill_count().unwrap_or(ooms);
        if now_ooms > ooms {
            writeln!(out, "{}", json!({"type": "oom", "id": a.id}))?;
            ooms = now_ooms;
        }
        if Instant::now() >= next_stats {
            writeln!(out, "{}", stats_event()?)?;
            out.flush()?;
            next_stats += a.interval;
        }
        std::thread::sleep(OOM_POLL.min(a.interval));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_interval("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_interval("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_interval("0s").is_err() && parse_interval("x").is_err());
    }
}
