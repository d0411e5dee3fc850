//! Mount option strings → mount(2) flags, propagation changes, recursive attributes and the
//! filesystem data string. Pure: no syscalls. The option names and meanings follow runc's
//! (which follow mount(8)); `KNOWN` is what the `features` command prints.
use anyhow::{bail, Result};
use nix::mount::MsFlags;

/// `nosymfollow` (Linux 5.10) is missing from nix 0.29's `MsFlags`.
const MS_NOSYMFOLLOW: MsFlags = MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW);

/// (name, clears the flag?, flag)
const FLAGS: &[(&str, bool, MsFlags)] = &[
    ("async", true, MsFlags::MS_SYNCHRONOUS),
    ("atime", true, MsFlags::MS_NOATIME),
    ("bind", false, MsFlags::MS_BIND),
    ("defaults", false, MsFlags::empty()),
    ("dev", true, MsFlags::MS_NODEV),
    ("diratime", true, MsFlags::MS_NODIRATIME),
    ("dirsync", false, MsFlags::MS_DIRSYNC),
    ("exec", true, MsFlags::MS_NOEXEC),
    ("iversion", false, MsFlags::MS_I_VERSION),
    ("lazytime", false, MsFlags::MS_LAZYTIME),
    ("loud", true, MsFlags::MS_SILENT),
    ("mand", false, MsFlags::MS_MANDLOCK),
    ("noatime", false, MsFlags::MS_NOATIME),
    ("nodev", false, MsFlags::MS_NODEV),
    ("nodiratime", false, MsFlags::MS_NODIRATIME),
    ("noexec", false, MsFlags::MS_NOEXEC),
    ("noiversion", true, MsFlags::MS_I_VERSION),
    ("nolazytime", true, MsFlags::MS_LAZYTIME),
    ("nomand", true, MsFlags::MS_MANDLOCK),
    ("norelatime", true, MsFlags::MS_RELATIME),
    ("nostrictatime", true, MsFlags::MS_STRICTATIME),
    ("nosuid", false, MsFlags::MS_NOSUID),
    ("nosymfollow", false, MS_NOSYMFOLLOW),
    ("rbind", false, MsFlags::MS_BIND.union(MsFlags::MS_REC)),
    ("relatime", false, MsFlags::MS_RELATIME),
    ("remount", false, MsFlags::MS_REMOUNT),
    ("ro", false, MsFlags::MS_RDONLY),
    ("rw", true, MsFlags::MS_RDONLY),
    ("silent", false, MsFlags::MS_SILENT),
    ("strictatime", false, MsFlags::MS_STRICTATIME),
    ("suid", true, MsFlags::MS_NOSUID),
    ("symfollow", true, MS_NOSYMFOLLOW),
    ("sync", false, MsFlags::MS_SYNCHRONOUS),
];

const PROPAGATION: &[(&str, MsFlags)] = &[
    ("private", MsFlags::MS_PRIVATE),
    ("rprivate", MsFlags::MS_PRIVATE.union(MsFlags::MS_REC)),
    ("rshared", MsFlags::MS_SHARED.union(MsFlags::MS_REC)),
    ("rslave", MsFlags::MS_SLAVE.union(MsFlags::MS_REC)),
    ("runbindable", MsFlags::MS_UNBINDABLE.union(MsFlags::MS_REC)),
    ("shared", MsFlags::MS_SHARED),
    ("slave", MsFlags::MS_SLAVE),
    ("unbindable", MsFlags::MS_UNBINDABLE),
];

// MOUNT_ATTR_* from <linux/mount.h>; libc 0.2 does not export them on every target.
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const MOUNT_ATTR_ATIME_MASK: u64 = 0x70;
pub const MOUNT_ATTR_RELATIME: u64 = 0x0;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x0020_0000;

/// Recursive variants applied with mount_setattr(AT_RECURSIVE): (name, clears?, attribute).
const RECURSIVE: &[(&str, bool, u64)] = &[
    ("ratime", true, MOUNT_ATTR_NOATIME),
    ("rdev", true, MOUNT_ATTR_NODEV),
    ("rdiratime", true, MOUNT_ATTR_NODIRATIME),
    ("rexec", true, MOUNT_ATTR_NOEXEC),
    ("rnoatime", false, MOUNT_ATTR_NOATIME),
    ("rnodev", false, MOUNT_ATTR_NODEV),
    ("rnodiratime", false, MOUNT_ATTR_NODIRATIME),
    ("rnoexec", false, MOUNT_ATTR_NOEXEC),
    ("rnorelatime", true, MOUNT_ATTR_RELATIME),
    ("rnostrictatime", true, MOUNT_ATTR_STRICTATIME),
    ("rnosuid", false, MOUNT_ATTR_NOSUID),
    ("rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW),
    ("rrelatime", false, MOUNT_ATTR_RELATIME),
    ("rro", false, MOUNT_ATTR_RDONLY),
    ("rrw", true, MOUNT_ATTR_RDONLY),
    ("rstrictatime", false, MOUNT_ATTR_STRICTATIME),
    ("rsuid", true, MOUNT_ATTR_NOSUID),
    ("rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW),
];

/// Extensions handled by shoji itself rather than the kernel.
const EXTENSIONS: &[&str] = &["tmpcopyup"];

/// Every option name shoji understands, sorted (the `features` command's `mountOptions`).
pub const KNOWN: &[&str] = &[
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "iversion",
    "lazytime",
    "loud",
    "mand",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "noiversion",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "ratime",
    "rbind",
    "rdev",
    "rdiratime",
    "relatime",
    "remount",
    "rexec",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnostrictatime",
    "rnosuid",
    "rnosymfollow",
    "ro",
    "rprivate",
    "rrelatime",
    "rro",
    "rrw",
    "rshared",
    "rslave",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
    "runbindable",
    "rw",
    "shared",
    "silent",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "tmpcopyup",
    "unbindable",
];

/// mount_setattr(2) attributes to set and clear recursively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecursiveAttr {
    pub set: u64,
    pub clear: u64,
}

/// One mount's options, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for mount(2), including MS_BIND / MS_REC for bind mounts.
    pub flags: MsFlags,
    /// Flags the options explicitly turned off (`rw`, `suid`, ...): a bind remount honours them.
    pub cleared: MsFlags,
    /// Propagation changes, applied one by one after the mount, in the order given.
    pub propagation: Vec<MsFlags>,
    /// Recursive attributes (`rro`, `rnosuid`, ...), if any option asked for one.
    pub recursive: Option<RecursiveAttr>,
    /// `tmpcopyup`: copy the directory's previous contents into the new tmpfs.
    pub tmpcopyup: bool,
    /// Everything else, comma-joined, for the filesystem (`size=64m`, `newinstance`, ...).
    pub data: String,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            flags: MsFlags::empty(),
            cleared: MsFlags::empty(),
            propagation: Vec::new(),
            recursive: None,
            tmpcopyup: false,
            data: String::new(),
        }
    }
}

impl MountOptions {
    pub fn is_bind(&self) -> bool {
        self.flags.contains(MsFlags::MS_BIND)
    }
}

/// Decode `options`. For a bind mount a bare word shoji does not know is an error naming it;
/// for other types unknown options form the data string, which the kernel judges.
pub fn parse(options: &[String], mount_type: &str) -> Result<MountOptions> {
    let mut m = MountOptions::default();
    let mut data: Vec<&str> = Vec::new();
    for opt in options {
        let o = opt.as_str();
        if let Some(&(_, clear, flag)) = FLAGS.iter().find(|f| f.0 == o) {
            if clear {
                m.flags.remove(flag);
                m.cleared.insert(flag);
            } else {
                m.flags.insert(flag);
                m.cleared.remove(flag);
            }
        } else if let Some(&(_, flag)) = PROPAGATION.iter().find(|p| p.0 == o) {
            m.propagation.push(flag);
        } else if let Some(&(_, clear, attr)) = RECURSIVE.iter().find(|r| r.0 == o) {
            recursive(
                m.recursive.get_or_insert_with(Default::default),
                clear,
                attr,
            );
        } else if EXTENSIONS.contains(&o) {
            m.tmpcopyup = true;
        } else {
            data.push(o);
        }
    }
    if mount_type == "bind" {
        m.flags.insert(MsFlags::MS_BIND);
    }
    // A bind mount takes no filesystem data, so a bare word shoji does not know is a typo, and
    // an error naming it beats silently ignoring it. `key=value` options are left alone: the
    // kernel ignores them for a bind, and clients (runtime-tools among them) do pass them.
    if m.is_bind() {
        if let Some(unknown) = data.iter().find(|o| !o.contains('=')) {
            bail!("unknown mount option {unknown:?}");
        }
    }
    m.data = data.join(",");
    Ok(m)
}

fn recursive(r: &mut RecursiveAttr, clear: bool, attr: u64) {
    let is_atime = attr & MOUNT_ATTR_ATIME_MASK == attr;
    if clear {
        r.clear |= attr;
        r.set &= !attr;
    } else {
        r.set |= attr;
        r.clear &= !attr;
    }
    // The atime values are an enum inside MOUNT_ATTR__ATIME: mount_setattr(2) requires the
    // whole mask in attr_clr to set one of them.
    if is_atime {
        r.clear |= MOUNT_ATTR_ATIME_MASK;
    }
}

/// `flags` as mount(8) option names (`ro,nosuid,relatime`), for error messages.
pub fn flag_names(flags: MsFlags) -> String {
    let named = FLAGS.iter().filter(|(name, clear, flag)| {
        !clear && !flag.is_empty() && flags.contains(*flag) && *name != "rbind"
    });
    named.map(|f| f.0).collect::<Vec<_>>().join(",")
}

/// `linux.rootfsPropagation` (or the default when absent) → the flags for `/`.
pub fn parse_root_propagation(value: Option<&str>) -> Result<MsFlags> {
    match value {
        None | Some("") => Ok(MsFlags::MS_SLAVE | MsFlags::MS_REC),
        Some(v) => match PROPAGATION.iter().find(|p| p.0 == v) {
            Some(&(_, flags)) => Ok(flags),
            // Escaped: a newline in the value must not split the error.
            None => bail!(
                "rootfsPropagation={} is not supported",
                crate::quote::one_line(v)
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_table() {
        use MsFlags as F;
        let none = F::empty();
        #[rustfmt::skip]
        let cases: &[(&[&str], &str, MsFlags, MsFlags, &str)] = &[
            (&["nosuid", "noexec", "nodev"], "proc", F::MS_NOSUID | F::MS_NOEXEC | F::MS_NODEV, none, ""),
            (&["ro", "nosuid"], "sysfs", F::MS_RDONLY | F::MS_NOSUID, none, ""),
            (&["ro", "rw"], "tmpfs", none, F::MS_RDONLY, ""),
            (&["rw", "ro"], "tmpfs", F::MS_RDONLY, none, ""),
            (&["rbind", "ro"], "none", F::MS_BIND | F::MS_REC | F::MS_RDONLY, none, ""),
            (&["ro"], "bind", F::MS_BIND | F::MS_RDONLY, none, ""),
            (&["defaults"], "tmpfs", none, none, ""),
            (&["nosuid", "size=65536k", "mode=755"], "tmpfs", F::MS_NOSUID, none, "size=65536k,mode=755"),
            (&["newinstance", "ptmxmode=0666", "mode=0620", "gid=5"], "devpts", none, none,
             "newinstance,ptmxmode=0666,mode=0620,gid=5"),
            (&["nosymfollow"], "tmpfs", MS_NOSYMFOLLOW, none, ""),
            (&["suid", "dev", "exec"], "bind", F::MS_BIND, F::MS_NOSUID | F::MS_NODEV | F::MS_NOEXEC, ""),
            (&["strictatime", "relatime"], "tmpfs", F::MS_STRICTATIME | F::MS_RELATIME, none, ""),
            (&["remount", "bind", "ro"], "none", F::MS_REMOUNT | F::MS_BIND | F::MS_RDONLY, none, ""),
        ];
        for (list, typ, flags, cleared, data) in cases {
            let m = parse(&opts(list), typ).unwrap();
            assert_eq!(m.flags, *flags, "{list:?}");
            assert_eq!(m.cleared, *cleared, "{list:?}");
            assert_eq!(m.data, *data, "{list:?}");
        }
    }

    #[test]
    fn propagation_kept_in_order() {
        let m = parse(
            &opts(&["rbind", "rprivate", "shared", "unbindable"]),
            "bind",
        )
        .unwrap();
        assert_eq!(
            m.propagation,
            vec![
                MsFlags::MS_PRIVATE | MsFlags::MS_REC,
                MsFlags::MS_SHARED,
                MsFlags::MS_UNBINDABLE
            ]
        );
        assert!(m.is_bind());
    }

    #[test]
    fn recursive_attributes() {
        let cases: &[(&[&str], u64, u64)] = &[
            (&["rro"], MOUNT_ATTR_RDONLY, 0),
            (&["rro", "rrw"], 0, MOUNT_ATTR_RDONLY),
            (
                &["rnosuid", "rnodev", "rnoexec"],
                MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                0,
            ),
            (&["rnoatime"], MOUNT_ATTR_NOATIME, MOUNT_ATTR_ATIME_MASK),
            (&["rrelatime"], MOUNT_ATTR_RELATIME, MOUNT_ATTR_ATIME_MASK),
            (
                &["rnosymfollow", "rsuid"],
                MOUNT_ATTR_NOSYMFOLLOW,
                MOUNT_ATTR_NOSUID,
            ),
        ];
        for (list, set, clear) in cases {
            let m = parse(&opts(list), "bind").unwrap();
            assert_eq!(
                m.recursive,
                Some(RecursiveAttr {
                    set: *set,
                    clear: *clear
                }),
                "{list:?}"
            );
        }
        assert_eq!(parse(&opts(&["ro"]), "bind").unwrap().recursive, None);
    }

    #[test]
    fn unknown_bind_option_is_named() {
        let err = parse(&opts(&["rbind", "nosiud"]), "none").unwrap_err();
        assert_eq!(err.to_string(), "unknown mount option \"nosiud\"");
        assert!(parse(&opts(&["idmap"]), "bind").is_err());
        // runtime-tools' `mounts` test gives binds tmpfs data options: accepted, not passed on.
        let m = parse(&opts(&["nosuid", "mode=755", "size=1k", "bind"]), "").unwrap();
        assert_eq!(m.flags, MsFlags::MS_NOSUID | MsFlags::MS_BIND);
    }

    #[test]
    fn flags_named_for_errors() {
        let flags = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_RELATIME;
        assert_eq!(flag_names(flags), "nosuid,relatime,ro");
        assert_eq!(flag_names(MsFlags::MS_BIND | MsFlags::MS_REC), "bind");
    }

    #[test]
    fn tmpcopyup_is_an_extension() {
        let m = parse(&opts(&["tmpcopyup", "size=1m"]), "tmpfs").unwrap();
        assert!(m.tmpcopyup);
        assert_eq!(m.data, "size=1m");
    }

    #[test]
    fn root_propagation() {
        let slave_rec = MsFlags::MS_SLAVE | MsFlags::MS_REC;
        assert_eq!(parse_root_propagation(None).unwrap(), slave_rec);
        assert_eq!(parse_root_propagation(Some("")).unwrap(), slave_rec);
        assert_eq!(
            parse_root_propagation(Some("shared")).unwrap(),
            MsFlags::MS_SHARED
        );
        assert_eq!(
            parse_root_propagation(Some("rprivate")).unwrap(),
            MsFlags::MS_PRIVATE | MsFlags::MS_REC
        );
        let err = parse_root_propagation(Some("bogus")).unwrap_err();
        assert_eq!(err.to_string(), "rootfsPropagation=bogus is not supported");
        // Found by the property test: a newline in the value split the error in two lines.
        let err = parse_root_propagation(Some("a\nb")).unwrap_err();
        assert_eq!(err.to_string(), "rootfsPropagation=a\\nb is not supported");
    }

    #[test]
    fn known_is_sorted_union_of_tables() {
        let mut all: Vec<&str> = FLAGS.iter().map(|f| f.0).collect();
        all.extend(PROPAGATION.iter().map(|p| p.0));
        all.extend(RECURSIVE.iter().map(|r| r.0));
        all.extend(EXTENSIONS);
        all.sort_unstable();
        assert_eq!(all, KNOWN);
    }
}
