//! Device access rules: the spec's `linux.resources.devices` followed by the devices every
//! container may use (runc's list: mknod of any device, /dev/null, zero, full, random, urandom,
//! tty, console, ptmx and the pty slaves, /dev/net/tun), and their v1 `devices.allow`/`deny`
//! form. v2 hands the same list to [`super::devices_bpf`].
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::files::Write;

/// (type, major, minor, access) of each default rule; `None` is the `*` wildcard.
const DEFAULT_ALLOWED: &[(LinuxDeviceType, Option<i64>, Option<i64>, &str)] = &[
    (LinuxDeviceType::C, None, None, "m"),
    (LinuxDeviceType::B, None, None, "m"),
    (LinuxDeviceType::C, Some(1), Some(3), "rwm"),
    (LinuxDeviceType::C, Some(1), Some(8), "rwm"),
    (LinuxDeviceType::C, Some(1), Some(7), "rwm"),
    (LinuxDeviceType::C, Some(5), Some(0), "rwm"),
    (LinuxDeviceType::C, Some(1), Some(5), "rwm"),
    (LinuxDeviceType::C, Some(1), Some(9), "rwm"),
    (LinuxDeviceType::C, Some(136), None, "rwm"),
    (LinuxDeviceType::C, Some(5), Some(2), "rwm"),
    (LinuxDeviceType::C, Some(10), Some(200), "rwm"),
];

/// The full rule list: the spec's rules (access normalised, exact repeats dropped), then the
/// defaults. A device the spec adds through
/// `linux.devices` is not allowed automatically (as runc). runc drops a default whose path
/// `linux.devices` redefines; keeping it only allows that standard device number, so the
/// driver needs nothing but the resources.
pub fn effective_rules(spec_rules: &[LinuxDeviceCgroup]) -> Vec<LinuxDeviceCgroup> {
    let defaults = DEFAULT_ALLOWED.iter().map(|&(typ, major, minor, access)| {
        let mut rule = LinuxDeviceCgroup::default();
        rule.set_allow(true);
        rule.set_typ(Some(typ));
        rule.set_major(major);
        rule.set_minor(minor);
        rule.set_access(Some(access.to_string()));
        rule
    });
    let mut rules: Vec<LinuxDeviceCgroup> = Vec::new();
    for rule in spec_rules.iter().filter_map(normalised) {
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    rules.extend(defaults);
    rules
}

/// A rule with its access as runc keeps it: only the letters r, w and m, each once, in that
/// order (runc's rule emulator drops any other letter, so `rwa` is `rw`; the kernel refuses
/// the raw string with EINVAL). An absent or empty access is all three. A rule left with no
/// access grants or denies nothing and is dropped.
fn normalised(rule: &LinuxDeviceCgroup) -> Option<LinuxDeviceCgroup> {
    let asked = rule.access().as_deref().filter(|a| !a.is_empty());
    let access: String = match asked {
        None => "rwm".to_owned(),
        Some(a) => "rwm".chars().filter(|&c| a.contains(c)).collect(),
    };
    if access.is_empty() {
        return None;
    }
    let mut rule = rule.clone();
    rule.set_access(Some(access));
    Some(rule)
}

/// `c 1:3 rwm`, the kernel's v1 rule syntax; an absent type is `a`, absent numbers are `*`.
pub fn v1_rule(rule: &LinuxDeviceCgroup) -> String {
    let num = |n: Option<i64>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
    let access = rule
        .access()
        .as_deref()
        .filter(|a| !a.is_empty())
        .unwrap_or("rwm");
    let typ = rule
        .typ()
        .unwrap_or(LinuxDeviceType::A)
        .as_str()
        .to_string();
    format!("{typ} {}:{} {access}", num(rule.major()), num(rule.minor()))
}

/// v1 writes: deny everything first so the cgroup starts as an allow-list whatever its parent
/// allowed, then each rule in order to devices.allow or devices.deny (the state runc's
/// emulator computes for a fresh cgroup).
pub fn v1_writes(rules: &[LinuxDeviceCgroup]) -> Vec<Write> {
    let mut writes = vec![Write::new("devices", "devices.deny", "a")];
    for rule in rules {
        let file = if rule.allow() {
            "devices.allow"
        } else {
            "devices.deny"
        };
        writes.push(Write::new("devices", file, v1_rule(rule)));
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        allow: bool,
        typ: Option<LinuxDeviceType>,
        major: Option<i64>,
        access: &str,
    ) -> LinuxDeviceCgroup {
        let mut r = LinuxDeviceCgroup::default();
        r.set_allow(allow);
        r.set_typ(typ);
        r.set_major(major);
        r.set_minor(major.map(|_| 7));
        r.set_access(Some(access.to_string()));
        r
    }

    #[test]
    fn access_is_normalised_as_runc_keeps_it() {
        let c = Some(LinuxDeviceType::C);
        let spec = [
            rule(true, c, Some(1), "rwa"),
            rule(true, c, Some(1), "wr"),
            rule(true, c, Some(2), "mmrr"),
            rule(false, c, Some(3), "a"),
            rule(true, c, Some(4), ""),
        ];
        let got: Vec<String> = effective_rules(&spec)[..3].iter().map(v1_rule).collect();
        assert_eq!(got, ["c 1:7 rw", "c 2:7 rm", "c 4:7 rwm"]);
    }

    #[test]
    fn deny_all_then_spec_rules_then_defaults() {
        let spec = [
            rule(false, None, None, "rwm"),
            rule(true, Some(LinuxDeviceType::B), Some(8), "r"),
        ];
        let writes = v1_writes(&effective_rules(&spec));
        let lines: Vec<(String, String)> = writes
            .iter()
            .map(|w| (w.files[0].clone(), w.value.clone()))
            .collect();
        assert_eq!(lines[0], ("devices.deny".into(), "a".into()));
        assert_eq!(lines[1], ("devices.deny".into(), "a *:* rwm".into()));
        assert_eq!(lines[2], ("devices.allow".into(), "b 8:7 r".into()));
        assert!(lines.contains(&("devices.allow".into(), "c 1:3 rwm".into())));
        assert!(lines.contains(&("devices.allow".into(), "c 136:* rwm".into())));
        assert!(lines.contains(&("devices.allow".into(), "c *:* m".into())));
        assert_eq!(lines.len(), 3 + DEFAULT_ALLOWED.len());
    }
}
