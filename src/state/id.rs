//! Container id validation: the id names a directory under --root, so it must be one path
//! component of safe characters (runc's rule: `^[\w+-\.]+$`, and not `.` or `..`).
use anyhow::{bail, Result};

/// Linux NAME_MAX: the id is a directory name.
const MAX_LEN: usize = 255;

pub fn validate_id(id: &str) -> Result<()> {
    if id.is_empty() {
        bail!("invalid container id: id cannot be empty");
    }
    if id == "." || id == ".." {
        bail!("invalid container id {id:?}: it cannot be . or ..");
    }
    if id.len() > MAX_LEN {
        bail!("invalid container id: longer than {MAX_LEN} bytes");
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.');
    if let Some(bad) = id.chars().find(|c| !ok(*c)) {
        bail!("invalid container id {id:?}: character {bad:?} is not allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in ["a", "abc-1", "x_y.z+1", "345def", &"a".repeat(255)] {
            assert!(validate_id(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "/",
            "a/b",
            "../x",
            "a b",
            "ä",
            &"a".repeat(256),
        ] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }
}
