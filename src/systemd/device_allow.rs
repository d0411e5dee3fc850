//! Pure translation of the spec's ordered device cgroup rules into systemd's DevicePolicy= and
//! DeviceAllow=. systemd only knows allow lists, so the rules are replayed into the set of
//! devices finally allowed. A final deny list (allow all but some) cannot be said to systemd:
//! it gets a strict empty list (fail closed) and the cgroup files written after it carry the
//! real rules, as runc does.
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::properties::{Property, Value};

/// One allowed device class: type (`b`/`c`), major and minor (None = any), permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    kind: char,
    major: Option<i64>,
    minor: Option<i64>,
    access: String,
}

/// The replayed rules: allow everything (with a possible deny list), or exactly `allowed`.
enum Policy {
    AllowAll { denies: bool },
    Only(Vec<Allowed>),
}

/// DevicePolicy and DeviceAllow for the rules; the empty DeviceAllow first clears what an
/// existing unit had (SetUnitProperties appends to the list otherwise).
pub fn properties(rules: &[LinuxDeviceCgroup]) -> Vec<Property> {
    let clear = Property {
        name: "DeviceAllow",
        value: Value::PathStrs(Vec::new()),
    };
    let strict = |entries: Vec<(String, String)>| {
        vec![
            clear.clone(),
            Property {
                name: "DevicePolicy",
                value: Value::Str("strict".into()),
            },
            Property {
                name: "DeviceAllow",
                value: Value::PathStrs(entries),
            },
        ]
    };
    match replay(rules) {
        Policy::AllowAll { denies: false } => vec![
            clear.clone(),
            Property {
                name: "DevicePolicy",
                value: Value::Str("auto".into()),
            },
        ],
        Policy::AllowAll { denies: true } => strict(Vec::new()),
        Policy::Only(allowed) => strict(allowed.iter().flat_map(entries).collect()),
    }
}

/// Replay the rules in order over the kernel's starting point for a new cgroup (allow all).
fn replay(rules: &[LinuxDeviceCgroup]) -> Policy {
    let mut policy = Policy::AllowAll { denies: false };
    for rule in rules {
        let kind = match rule.typ().unwrap_or_default() {
            LinuxDeviceType::B => 'b',
            LinuxDeviceType::C | LinuxDeviceType::U => 'c',
            LinuxDeviceType::A => 'a',
            // FIFOs are not device-cgroup subjects.
            LinuxDeviceType::P => continue,
        };
        let access = rule.access().clone().unwrap_or_else(|| "rwm".into());
        let (major, minor) = (
            rule.major().filter(|m| *m >= 0),
            rule.minor().filter(|m| *m >= 0),
        );
        let everything = kind == 'a' && major.is_none() && minor.is_none();
        if everything && access_covers(&access, "rwm") {
            policy = if rule.allow() {
                Policy::AllowAll { denies: false }
            } else {
                Policy::Only(Vec::new())
            };
            continue;
        }
        let this = Allowed {
            kind,
            major,
            minor,
            access,
        };
        match (&mut policy, rule.allow()) {
            (Policy::AllowAll { .. }, true) => {}
            (Policy::AllowAll { denies }, false) => *denies = true,
            (Policy::Only(list), true) => list.push(this),
            (Policy::Only(list), false) => revoke(list, &this),
        }
    }
    policy
}

/// A deny on top of an allow list takes its permissions away from the entries it covers.
fn revoke(list: &mut Vec<Allowed>, deny: &Allowed) {
    for a in list.iter_mut() {
        let covers = (deny.kind == 'a' || deny.kind == a.kind)
            && (deny.major.is_none() || deny.major == a.major)
            && (deny.minor.is_none() || deny.minor == a.minor);
        if covers {
            a.access.retain(|c| !deny.access.contains(c));
        }
    }
    list.retain(|a| !a.access.is_empty());
}

fn access_covers(access: &str, wanted: &str) -> bool {
    wanted.chars().all(|c| access.contains(c))
}

/// systemd's spelling of one allowed class; `*:n` rules have none and reach the files only.
fn entries(a: &Allowed) -> Vec<(String, String)> {
    let perms: String = "rwm".chars().filter(|c| a.access.contains(*c)).collect();
    let group = |k: char| if k == 'b' { "block-" } else { "char-" };
    let path = match (a.kind, a.major, a.minor) {
        ('a', None, None) => {
            return ['b', 'c']
                .iter()
                .map(|k| (format!("{}*", group(*k)), perms.clone()))
                .collect()
        }
        ('a', _, _) | (_, None, Some(_)) => return Vec::new(),
        (k, None, None) => format!("{}*", group(k)),
        (k, Some(major), None) => format!("{}{major}", group(k)),
        (k, Some(major), Some(minor)) => {
            let dir = if k == 'b' { "block" } else { "char" };
            format!("/dev/{dir}/{major}:{minor}")
        }
    };
    vec![(path, perms)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(json: &str) -> Vec<LinuxDeviceCgroup> {
        serde_json::from_str(json).unwrap()
    }

    fn policy_and_allow(props: &[Property]) -> (String, Vec<(String, String)>) {
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
        (policy.clone(), allow.clone())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// (rules as JSON, DevicePolicy, DeviceAllow)
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

    #[test]
    fn replays_rules_into_an_allow_list() {
        let cases: [Case; 6] = [
            // The runc default: deny all, then the usual devices.
            (
                r#"[{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 136, "access": "rw"},
                    {"allow": true, "type": "b", "access": "m"}]"#,
                "strict",
                &[
                    ("/dev/char/1:3", "rwm"),
                    ("char-136", "rw"),
                    ("block-*", "m"),
                ],
            ),
            ("[]", "auto", &[]),
            (r#"[{"allow": true, "access": "rwm"}]"#, "auto", &[]),
            // A deny list systemd cannot express: fail closed, the files hold the truth.
            (
                r#"[{"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]"#,
                "strict",
                &[],
            ),
            // A later deny takes permissions away; an emptied entry disappears.
            (
                r#"[{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rw"},
                    {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"},
                    {"allow": false, "type": "c", "major": 1, "access": "rw"}]"#,
                "strict",
                &[("/dev/char/1:3", "m")],
            ),
            // `*:n` has no systemd spelling; `a *:* r` becomes both groups.
            (
                r#"[{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "minor": 3, "access": "rwm"},
                    {"allow": true, "type": "a", "access": "r"}]"#,
                "strict",
                &[("block-*", "r"), ("char-*", "r")],
            ),
        ];
        for (json, policy, allow) in cases {
            let (got_policy, got_allow) = policy_and_allow(&properties(&rules(json)));
            assert_eq!(got_policy, policy, "{json}");
            assert_eq!(got_allow, pairs(allow), "{json}");
        }
    }
}
