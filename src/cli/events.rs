//! `shoji events`: runc's event stream — `{"type":"stats","id":…,"data":{…}}` every
//! `--interval`, `{"type":"oom","id":…}` when the kernel OOM-kills in the container — or with
//! `--stats` a single stats event.
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::GlobalArgs;
use crate::cgroups::{self, events::Event};
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

/// Go durations as runc's flag takes them: `5s`, `500ms`, `1m30s`, `1.5h`.
fn parse_interval(s: &str) -> std::result::Result<Duration, String> {
    let bad = || format!("invalid duration {s:?}");
    let mut rest = s;
    let mut secs = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        let unit_len = rest[num_end..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len() - num_end);
        let unit = &rest[num_end..num_end + unit_len];
        secs += n * match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[num_end + unit_len..];
    }
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
    // The Event struct, not a json! map: a map sorts its keys, and scripts match runc's
    // order, {"type":…,"id":…,"data":…}.
    let event = |kind: &str, data| Event {
        kind: kind.to_owned(),
        id: a.id.clone(),
        data,
    };
    let stats_event =
        || -> Result<String> { Ok(serde_json::to_string(&event("stats", Some(cg.stats()?)))?) };
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
            writeln!(out, "{}", serde_json::to_string(&event("oom", None))?)?;
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
        assert_eq!(parse_interval("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_interval("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_interval("0s").is_err() && parse_interval("x").is_err());
        assert!(parse_interval("5").is_err() && parse_interval("5d").is_err());
    }
}
