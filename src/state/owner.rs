//! The owner's name in the record (runc's `owner` in `state` and `list`), looked up in
//! /etc/passwd directly. Not through glibc's getpwuid: the binary is linked statically (see
//! .cargo/config.toml), and NSS in a static binary dlopens the shared libc at run time, which
//! cost 2.5 ms per `create`. runc built without cgo reads the same file the same way.

/// The name of `uid`, or "" when /etc/passwd does not list it (as before: the field is only
/// informative).
pub fn name_of(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| lookup(&passwd, uid).map(str::to_owned))
        .unwrap_or_default()
}

/// The first entry of `passwd` (name:password:uid:...) whose uid field is `uid`.
fn lookup(passwd: &str, uid: u32) -> Option<&str> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let uid_field = fields.nth(1)?;
        (!name.is_empty() && uid_field.parse::<u32>().ok()? == uid).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::lookup;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # a comment line\n\
        broken\n\
        :x:5:5::/:/bin/sh\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        dup:x:1:1::/:/bin/sh\n";

    #[test]
    fn finds_the_first_entry_with_the_uid() {
        assert_eq!(lookup(PASSWD, 0), Some("root"));
        assert_eq!(lookup(PASSWD, 1), Some("daemon"));
    }

    #[test]
    fn unlisted_uids_comments_and_nameless_entries_give_nothing() {
        assert_eq!(lookup(PASSWD, 1000), None);
        assert_eq!(lookup(PASSWD, 5), None);
    }
}
