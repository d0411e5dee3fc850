//! Pure translation of the container's device cgroup rules (the spec's rules followed by the
//! default devices, as the files get them) into systemd's DevicePolicy= and DeviceAllow=.
//! systemd re-applies these on every `daemon-reload`, so they must allow exactly what the files
//! allow. The rules are replayed as runc's device emulator does (and the v1 kernel): a type-`a`
//! rule resets to allow-all or deny-all; an allow or deny of one class adds or removes exactly
//! that class's permissions. systemd only knows allow lists: a final deny list (allow all but
//! some) gets a strict empty list, and the cgroup files written after it carry the real rules,
//! as runc does.
//!
//! systemd's spelling (runc's): `c 1:3` is the path `/dev/char/1:3`; `c 136:*` is the device
//! group named after major 136 in /proc/devices (`char-pts`), as systemd matches groups by
//! name, not number; `c *:*` is `char-*`. `c *:3` has no spelling and is left out with a
//! warning (the files still allow it, so a daemon-reload denies it, as with runc).
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::properties::{Property, Value};

/// The driver names of /proc/devices by type and major, e.g. ('c', 136) → "pts".
#[derive(Debug, Default, Clone)]
pub struct DeviceGroups(Vec<(char, i64, String)>);

impl DeviceGroups {
    /// Parse /proc/devices: a "Character devices:" and a "Block devices:" section of
    /// `MAJOR NAME` lines.
    pub fn parse(text: &str) -> Self {
        let mut kind = None;
        let mut groups = Vec::new();
        for line in text.lines() {
            match line.trim() {
                "Character devices:" => kind = Some('c'),
                "Block devices:" => kind = Some('b'),
                entry => {
                    let mut fields = entry.split_whitespace();
                    let major = fields.next().and_then(|m| m.parse().ok());
                    if let (Some(k), Some(major), Some(name)) = (kind, major, fields.next()) {
                        groups.push((k, major, name.to_string()));
                    }
                }
            }
        }
        DeviceGroups(groups)
    }

    /// /proc/devices of this host; empty (every `n:*` rule then warned about) if unreadable.
    pub fn of_host() -> Self {
        Self::parse(&std::fs::read_to_string("/proc/devices").unwrap_or_default())
    }

    fn name(&self, kind: char, major: i64) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, m, _)| *k == kind && *m == major)
            .map(|(_, _, n)| n.as_str())
    }
}

/// DevicePolicy and DeviceAllow for the rules, and a warning per rule systemd cannot express.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DeviceProperties {
    pub properties: Vec<Property>,
    pub warnings: Vec<String>,
}

/// One allowed class: type (`b`/`c`), major and minor (None = any), permissions (of `rwm`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    kind: char,
    major: Option<i64>,
    minor: Option<i64>,
    access: String,
}

/// The replayed rules: the default for a device no exception names, and the exceptions
/// (denied classes when the default is allow, allowed ones otherwise).
struct Policy {
    default_allow: bool,
    exceptions: Vec<Allowed>,
}

/// The properties for `rules` (the complete list, defaults included); the empty DeviceAllow
/// first clears what an existing unit had (SetUnitProperties appends to the list otherwise).
pub fn properties(rules: &[LinuxDeviceCgroup], groups: &DeviceGroups) -> DeviceProperties {
    let allow = |entries: Vec<(String, String)>| Property {
        name: "DeviceAllow",
        value: Value::PathStrs(entries),
    };
    let policy = |p: &str| Property {
        name: "DevicePolicy",
        value: Value::Str(p.into()),
    };
    let mut out = DeviceProperties::default();
    let replayed = replay(rules);
    match (replayed.default_allow, replayed.exceptions) {
        (true, denied) if denied.is_empty() => {
            out.properties = vec![allow(Vec::new()), policy("auto")];
        }
        (true, _) => {
            out.warnings.push(
                "systemd does not support deny-list device rules: the unit gets a strict empty \
                 DeviceAllow= and the cgroup files the rules"
                    .into(),
            );
            out.properties = vec![allow(Vec::new()), policy("strict"), allow(Vec::new())];
        }
        (false, list) => {
            let mut entries = Vec::new();
            for a in &list {
                match entry(a, groups) {
                    Ok(e) => entries.push(e),
                    Err(w) => out.warnings.push(w),
                }
            }
            out.properties = vec![allow(Vec::new()), policy("strict"), allow(entries)];
        }
    }
    out
}

/// Replay the rules in order, from deny-all: where the files start too (v1 writes `a` to
/// devices.deny first, the v2 filter denies what no rule allows), and runc's emulator.
fn replay(rules: &[LinuxDeviceCgroup]) -> Policy {
    let mut policy = Policy {
        default_allow: false,
        exceptions: Vec::new(),
    };
    for rule in rules {
        let kind = match rule.typ().unwrap_or_default() {
            LinuxDeviceType::B => 'b',
            LinuxDeviceType::C | LinuxDeviceType::U => 'c',
            // Whatever its numbers and access, an `a` rule resets the list (the kernel's v1
            // devices.allow/deny semantics, which runc's emulator and the v2 filter follow).
            LinuxDeviceType::A => {
                policy.default_allow = rule.allow();
                policy.exceptions.clear();
                continue;
            }
            // FIFOs are not device-cgroup subjects.
            LinuxDeviceType::P => continue,
        };
        let asked = rule.access().as_deref().filter(|a| !a.is_empty());
        let asked = asked.unwrap_or("rwm");
        let class = Allowed {
            kind,
            major: rule.major().filter(|m| *m >= 0),
            minor: rule.minor().filter(|m| *m >= 0),
            access: "rwm".chars().filter(|c| asked.contains(*c)).collect(),
        };
        // An allow in an allow-list, or a deny in a deny-list, adds an exception; the
        // opposite takes permissions from the exactly matching exception only.
        if rule.allow() != policy.default_allow {
            policy.add(class);
        } else {
            policy.remove(&class);
        }
    }
    policy
}

impl Policy {
    fn add(&mut self, class: Allowed) {
        match self.exceptions.iter_mut().find(|e| e.same_class(&class)) {
            Some(e) => {
                let merged = "rwm"
                    .chars()
                    .filter(|c| e.access.contains(*c) || class.access.contains(*c));
                e.access = merged.collect();
            }
            None => self.exceptions.push(class),
        }
    }

    fn remove(&mut self, class: &Allowed) {
        for e in self.exceptions.iter_mut().filter(|e| e.same_class(class)) {
            e.access.retain(|c| !class.access.contains(c));
        }
        self.exceptions.retain(|e| !e.access.is_empty());
    }
}

impl Allowed {
    fn same_class(&self, other: &Allowed) -> bool {
        (self.kind, self.major, self.minor) == (other.kind, other.major, other.minor)
    }
}

/// systemd's spelling of one allowed class, or why it has none.
fn entry(a: &Allowed, groups: &DeviceGroups) -> Result<(String, String), String> {
    let (group, dir) = if a.kind == 'b' {
        ("block", "block")
    } else {
        ("char", "char")
    };
    let path = match (a.major, a.minor) {
        (None, None) => format!("{group}-*"),
        (Some(major), Some(minor)) => format!("/dev/{dir}/{major}:{minor}"),
        (Some(major), None) => match groups.name(a.kind, major) {
            Some(name) => format!("{group}-{name}"),
            None => {
                return Err(format!(
                    "device rule {} {major}:* {}: major {major} is not in /proc/devices, so \
                     systemd cannot allow it (a daemon-reload will deny it)",
                    a.kind, a.access
                ))
            }
        },
        (None, Some(minor)) => {
            return Err(format!(
                "device rule {} *:{minor} {}: systemd has no way to allow a minor of any major \
                 (a daemon-reload will deny it)",
                a.kind, a.access
            ))
        }
    };
    Ok((path, a.access.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::devices::effective_rules;

    const PROC_DEVICES: &str = "Character devices:\n  1 mem\n  5 /dev/tty\n136 pts\n\n\
                                Block devices:\n  7 loop\n254 virtblk\n";

    fn rules(json: &str) -> Vec<LinuxDeviceCgroup> {
        serde_json::from_str(json).unwrap()
    }

    /// DevicePolicy, the final DeviceAllow list and the number of warnings.
    fn translate(rules: &[LinuxDeviceCgroup]) -> (String, Vec<(String, String)>, usize) {
        let out = properties(rules, &DeviceGroups::parse(PROC_DEVICES));
        let props = &out.properties;
        let policy = props.iter().find(|p| p.name == "DevicePolicy").unwrap();
        let Value::Str(policy) = &policy.value else {
            panic!()
        };
        // The first DeviceAllow clears; the last carries the list.
        assert_eq!(props[0].value, Value::PathStrs(Vec::new()));
        let allow = props
            .iter()
            .rev()
            .find(|p| p.name == "DeviceAllow")
            .unwrap();
        let Value::PathStrs(allow) = &allow.value else {
            panic!()
        };
        (policy.clone(), allow.clone(), out.warnings.len())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// (rules as JSON, DevicePolicy, DeviceAllow, warnings)
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], usize);

    #[test]
    fn replays_rules_as_the_kernel_does() {
        let cases: [Case; 8] = [
            // Deny all, then devices by number, by major (named from /proc/devices), any.
            (
                r#"[{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 136, "access": "rw"},
                    {"allow": true, "type": "b", "access": "m"},
                    {"allow": true, "type": "b", "major": 254, "minor": 0, "access": "r"}]"#,
                "strict",
                &[
                    ("/dev/char/1:3", "rwm"),
                    ("char-pts", "rw"),
                    ("block-*", "m"),
                    ("/dev/block/254:0", "r"),
                ],
                0,
            ),
            // Nothing allowed: the files deny everything, and so does the unit.
            ("[]", "strict", &[], 0),
            (r#"[{"allow": true, "access": "rwm"}]"#, "auto", &[], 0),
            // A deny list systemd cannot express: fail closed, the files hold the truth.
            (
                r#"[{"allow": true, "access": "rwm"},
                    {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]"#,
                "strict",
                &[],
                1,
            ),
            // A deny list emptied again is allow-all.
            (
                r#"[{"allow": true, "type": "a"},
                    {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]"#,
                "auto",
                &[],
                0,
            ),
            // A deny takes permissions from the exactly matching class only (as the v1
            // kernel: `c 1:* rw` does not touch `c 1:5`); access letters merge and order.
            (
                r#"[{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "m"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "wr"},
                    {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rw"},
                    {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"},
                    {"allow": false, "type": "c", "major": 1, "access": "rw"}]"#,
                "strict",
                &[("/dev/char/1:3", "rm"), ("/dev/char/1:5", "rw")],
                0,
            ),
            // Any `a` rule resets, whatever its numbers and access.
            (
                r#"[{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                    {"allow": false, "type": "a", "major": 5, "access": "r"},
                    {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"}]"#,
                "strict",
                &[("/dev/char/1:5", "rwm")],
                0,
            ),
            // No spelling for `*:n`, nor for a major /proc/devices does not name: warned.
            (
                r#"[{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "minor": 3, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 999, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 5, "minor": 2, "access": "rwm"}]"#,
                "strict",
                &[("/dev/char/5:2", "rwm")],
                2,
            ),
        ];
        for (json, policy, allow, warnings) in cases {
            let got = translate(&rules(json));
            assert_eq!(got, (policy.into(), pairs(allow), warnings), "{json}");
        }
    }

    /// What a container with containerd's usual "deny all", or with no rules at all, gets: the
    /// default devices, the pty slaves by their /proc/devices name, so `exec -t` survives a
    /// daemon-reload, and nothing else (the files start from deny-all too).
    #[test]
    fn default_devices_are_allowed_by_the_unit() {
        for spec in ["[]", r#"[{"allow": false, "access": "rwm"}]"#] {
            let (policy, allow, warnings) = translate(&effective_rules(&rules(spec)));
            assert_eq!((policy.as_str(), warnings), ("strict", 0), "{spec}");
            for want in [
                ("char-*", "m"),
                ("block-*", "m"),
                ("/dev/char/1:3", "rwm"),
                ("/dev/char/5:2", "rwm"),
                ("char-pts", "rwm"),
                ("/dev/char/10:200", "rwm"),
            ] {
                assert!(
                    allow.contains(&(want.0.into(), want.1.into())),
                    "{want:?} in {allow:?}"
                );
            }
            assert_eq!(allow.len(), 11, "{allow:?}");
        }
    }

    #[test]
    fn parses_proc_devices() {
        let g = DeviceGroups::parse(PROC_DEVICES);
        assert_eq!(g.name('c', 136), Some("pts"));
        assert_eq!(g.name('c', 5), Some("/dev/tty"));
        assert_eq!(g.name('b', 254), Some("virtblk"));
        assert_eq!(g.name('b', 136), None);
        assert_eq!(g.name('c', 7), None);
    }
}
