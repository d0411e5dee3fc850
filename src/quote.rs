//! Quoting in error messages. A config can carry megabytes in one string (an env entry, a
//! cwd, an annotation) and any byte in it; an error must stay one readable line that a client
//! (containerd reads the log's `msg`) can show. So a quoted value is escaped and cut to
//! [`QUOTE_MAX`] bytes, and the final message is made one line and bounded in main.

/// The most bytes of one offending value an error quotes.
pub const QUOTE_MAX: usize = 256;
/// The most bytes of a whole error line.
pub const LINE_MAX: usize = 4096;

/// `value` as a Rust string literal (escaped: one line), cut after [`QUOTE_MAX`] bytes with an
/// ellipsis and the full length.
pub fn quoted(value: &str) -> String {
    if value.len() <= QUOTE_MAX {
        return format!("{value:?}");
    }
    let cut = (0..=QUOTE_MAX)
        .rev()
        .find(|&i| value.is_char_boundary(i))
        .unwrap_or(0);
    format!("{:?}… ({} bytes)", &value[..cut], value.len())
}

/// `msg` on one line: control characters escaped, at most [`LINE_MAX`] bytes.
pub fn one_line(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(LINE_MAX + 8));
    for c in msg.chars() {
        if out.len() >= LINE_MAX {
            out.push_str("… (truncated)");
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_debug_quoted() {
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn long_values_are_cut_on_a_char_boundary() {
        let long = "é".repeat(1000);
        let q = quoted(&long);
        assert!(q.len() < QUOTE_MAX + 40, "{}", q.len());
        assert!(q.ends_with("… (2000 bytes)"), "{q}");
    }

    #[test]
    fn messages_become_one_bounded_line() {
        let msg = format!("bad\nvalue\r{}", "x".repeat(10 * LINE_MAX));
        let line = one_line(&msg);
        assert!(!line.contains('\n') && !line.contains('\r'));
        assert!(line.len() <= LINE_MAX + 20);
        assert!(line.starts_with("bad\\nvalue\\r"));
    }
}
