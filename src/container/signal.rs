//! Signals by name (`KILL`, `SIGKILL`) or number (`9`), as `kill` accepts them.
use std::str::FromStr;

use anyhow::{bail, Result};
use nix::sys::signal::Signal;

pub fn parse_signal(s: &str) -> Result<Signal> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| anyhow::anyhow!("unknown signal {s:?}"));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    match Signal::from_str(&name) {
        Ok(sig) => Ok(sig),
        Err(_) => bail!("unknown signal {s:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse_signal("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("sigterm").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("SIGUSR1").unwrap(), Signal::SIGUSR1);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("999").is_err());
    }
}
