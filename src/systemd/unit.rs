//! Pure resolution of a systemd-format `cgroupsPath` (`slice:prefix:name`) into a unit name,
//! its parent slice and the cgroup path systemd will give it. Nothing here talks to systemd.
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::cgroups::{CgroupLocation, CgroupMode, DriverKind};

/// The slice a unit goes into when `cgroupsPath` leaves the slice empty (as runc does).
pub const DEFAULT_SLICE: &str = "system.slice";
/// The prefix of the unit derived from the container id when `cgroupsPath` is empty.
pub const DEFAULT_PREFIX: &str = "shoji";
/// systemd's UNIT_NAME_MAX minus the terminating NUL.
const UNIT_NAME_MAX: usize = 255;

/// A parsed `slice:prefix:name`: the unit to create and the slice it is started in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitPath {
    /// `prefix-name.scope`, or `name` when it ends in `.slice`.
    pub unit: String,
    /// The parent slice, e.g. `kubepods-besteffort-pod012abc.slice` (`-.slice` is the root).
    pub slice: String,
    /// The cgroup path below each hierarchy's root, e.g. `/system.slice/shoji-c1.scope`.
    pub path: PathBuf,
}

impl UnitPath {
    /// A name ending in `.slice` makes a slice unit (parented with Wants=) instead of a scope.
    pub fn is_slice(&self) -> bool {
        self.unit.ends_with(".slice")
    }
}

/// Where the systemd driver puts a container: the state file's [`CgroupLocation`].
pub fn location(cgroups_path: Option<&str>, id: &str, mode: CgroupMode) -> Result<CgroupLocation> {
    let parsed = parse_cgroups_path(cgroups_path, id)?;
    Ok(CgroupLocation {
        driver: DriverKind::Systemd,
        mode,
        path: parsed.path,
        unit: Some(parsed.unit),
        slice: Some(parsed.slice),
        hierarchy_paths: Default::default(),
    })
}

/// Parse `slice:prefix:name`; an empty or absent value means `system.slice:shoji:<id>`.
pub fn parse_cgroups_path(cgroups_path: Option<&str>, id: &str) -> Result<UnitPath> {
    let value = cgroups_path.unwrap_or("");
    if value.is_empty() {
        return unit_path(DEFAULT_SLICE, DEFAULT_PREFIX, id, value);
    }
    let fields: Vec<&str> = value.split(':').collect();
    if fields.len() != 3 {
        if value.contains('/') || fields.len() == 1 {
            bail!(
                "cgroupsPath {value:?} is a cgroupfs path, but --systemd-cgroup expects \
                 \"slice:prefix:name\" (drop --systemd-cgroup to use it as a path)"
            );
        }
        bail!(
            "expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, \
             got {value:?} instead"
        );
    }
    unit_path(fields[0], fields[1], fields[2], value)
}

/// Build the unit, its slice and its cgroup path from the three validated fields.
fn unit_path(slice: &str, prefix: &str, name: &str, value: &str) -> Result<UnitPath> {
    if name.is_empty() {
        bail!("cgroupsPath {value:?}: the name field (slice:prefix:name) is empty");
    }
    check_unit_chars(prefix, "prefix", value)?;
    check_unit_chars(name, "name", value)?;
    if name.ends_with(".slice") {
        return slice_unit_path(slice, name, value);
    }
    let slice = if slice.is_empty() {
        DEFAULT_SLICE
    } else {
        slice
    };
    let parent = expand_slice(slice).map_err(|e| e.context(format!("cgroupsPath {value:?}")))?;
    let unit = format!("{prefix}-{name}.scope");
    check_unit_len(&unit, value)?;
    Ok(UnitPath {
        path: PathBuf::from(parent).join(&unit),
        unit,
        slice: slice.to_string(),
    })
}

/// A slice unit lives where its own name puts it, so its parent must be the slice field (or
/// the field may be left empty); runc instead joins the two and can report a wrong path.
fn slice_unit_path(slice: &str, name: &str, value: &str) -> Result<UnitPath> {
    check_unit_len(name, value)?;
    let own = expand_slice(name).map_err(|e| e.context(format!("cgroupsPath {value:?}")))?;
    let parent = parent_slice_name(name);
    if !slice.is_empty() && slice != parent {
        bail!("cgroupsPath {value:?}: slice {name:?} is a child of {parent:?}, not of {slice:?}");
    }
    Ok(UnitPath {
        unit: name.to_string(),
        slice: parent,
        path: PathBuf::from(own),
    })
}

/// systemd refuses longer unit names; a slice made from `name` is held to it too.
fn check_unit_len(unit: &str, value: &str) -> Result<()> {
    if unit.len() > UNIT_NAME_MAX {
        bail!("cgroupsPath {value:?}: unit name {unit:?} is longer than {UNIT_NAME_MAX} bytes");
    }
    Ok(())
}

/// `a-b-c.slice` → `a-b.slice`; `a.slice` → `-.slice` (the root slice).
fn parent_slice_name(slice: &str) -> String {
    let stem = slice.trim_end_matches(".slice");
    match stem.rfind('-') {
        Some(i) => format!("{}.slice", &stem[..i]),
        None => "-.slice".to_string(),
    }
}

/// systemd spells nesting with dashes: `a-b-c.slice` → `/a.slice/a-b.slice/a-b-c.slice`;
/// `-.slice` is the root, `/`.
pub fn expand_slice(slice: &str) -> Result<String> {
    let Some(stem) = slice.strip_suffix(".slice") else {
        bail!("invalid slice name {slice:?}: it must end in \".slice\"");
    };
    if stem == "-" {
        return Ok("/".to_string());
    }
    if stem.is_empty() || stem.split('-').any(str::is_empty) {
        bail!("invalid slice name {slice:?}: a \"-\" may only separate non-empty parts");
    }
    if let Some(c) = stem.chars().find(|c| !is_unit_char(*c)) {
        bail!("invalid slice name {slice:?}: character {c:?} is not allowed in a unit name");
    }
    let mut path = String::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        path.push('/');
        path.push_str(&prefix);
        path.push_str(part);
        path.push_str(".slice");
        prefix.push_str(part);
        prefix.push('-');
    }
    Ok(path)
}

/// Characters systemd accepts in a unit name (unit_name_is_valid), minus `@` (templates).
fn is_unit_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '\\')
}

fn check_unit_chars(field: &str, what: &str, value: &str) -> Result<()> {
    if let Some(c) = field.chars().find(|c| !is_unit_char(*c)) {
        bail!("cgroupsPath {value:?}: character {c:?} in the {what} {field:?} is not allowed in a systemd unit name");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_slices() {
        let cases = [
            ("-.slice", "/"),
            ("system.slice", "/system.slice"),
            ("a-b.slice", "/a.slice/a-b.slice"),
            (
                "kubepods-besteffort-pod012abc.slice",
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod012abc.slice",
            ),
        ];
        for (slice, want) in cases {
            assert_eq!(expand_slice(slice).unwrap(), want, "{slice}");
        }
    }

    #[test]
    fn rejects_bad_slices() {
        for slice in [
            "",
            ".slice",
            "a--b.slice",
            "-a.slice",
            "a-.slice",
            "a.scope",
            "a/b.slice",
            "a b.slice",
            "system",
        ] {
            let err = expand_slice(slice).unwrap_err().to_string();
            assert!(err.contains(&format!("{slice:?}")), "{slice}: {err}");
        }
    }

    #[test]
    fn parses_cgroups_paths() {
        let cases: [(Option<&str>, &str, &str, &str); 7] = [
            (
                Some("kubepods-besteffort-pod012abc.slice:cri-containerd:345def"),
                "cri-containerd-345def.scope",
                "kubepods-besteffort-pod012abc.slice",
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod012abc.slice/cri-containerd-345def.scope",
            ),
            (None, "shoji-c1.scope", "system.slice", "/system.slice/shoji-c1.scope"),
            (Some(""), "shoji-c1.scope", "system.slice", "/system.slice/shoji-c1.scope"),
            // An empty slice field means system.slice, as in runc.
            (Some(":docker:abc"), "docker-abc.scope", "system.slice", "/system.slice/docker-abc.scope"),
            (Some("-.slice:p:n"), "p-n.scope", "-.slice", "/p-n.scope"),
            (
                Some("kubepods.slice:p:kubepods-burstable.slice"),
                "kubepods-burstable.slice",
                "kubepods.slice",
                "/kubepods.slice/kubepods-burstable.slice",
            ),
            (Some("::machine.slice"), "machine.slice", "-.slice", "/machine.slice"),
        ];
        for (value, unit, slice, path) in cases {
            let got = parse_cgroups_path(value, "c1").unwrap();
            assert_eq!(got.unit, unit, "{value:?}");
            assert_eq!(got.slice, slice, "{value:?}");
            assert_eq!(got.path, PathBuf::from(path), "{value:?}");
            assert_eq!(got.is_slice(), unit.ends_with(".slice"));
        }
    }

    #[test]
    fn rejects_malformed_cgroups_paths() {
        let cases = [
            ("a.slice:b", "slice:prefix:name"),
            ("a.slice:b:c:d", "slice:prefix:name"),
            ("a.slic:p:n", "must end in"),
            ("a--b.slice:p:n", "may only separate"),
            ("-a.slice:p:n", "may only separate"),
            ("a.slice:p:", "name field"),
            ("a.slice:p:n/x", "not allowed"),
            ("a.slice:p q:n", "not allowed"),
            ("b.slice:p:a-c.slice", "child of \"a.slice\""),
        ];
        // Found by the property test: a slice made from the name had no length limit.
        let long_slice = format!("::{}.slice", "a".repeat(250));
        let long_scope = format!("a.slice:p:{}", "a".repeat(250));
        let long = [
            (&*long_slice, "longer than 255"),
            (&*long_scope, "longer than 255"),
        ];
        for (value, phrase) in cases.into_iter().chain(long) {
            let err = format!("{:#}", parse_cgroups_path(Some(value), "c1").unwrap_err());
            assert!(err.contains(&format!("{value:?}")), "{value}: {err}");
            assert!(err.contains(phrase), "{value}: {err}");
        }
    }

    #[test]
    fn a_cgroupfs_path_says_to_drop_the_flag() {
        for value in ["/a/b", "a/b", "/kubepods/besteffort/pod1/c1", "mycgroup"] {
            let err = parse_cgroups_path(Some(value), "c1")
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("{value:?}")), "{err}");
            assert!(err.contains("drop --systemd-cgroup"), "{err}");
        }
    }

    #[test]
    fn location_records_unit_and_slice() {
        let loc = location(Some("system.slice:runc:t1"), "t1", CgroupMode::Hybrid).unwrap();
        assert_eq!(loc.driver, DriverKind::Systemd);
        assert_eq!(loc.mode, CgroupMode::Hybrid);
        assert_eq!(loc.path, PathBuf::from("/system.slice/runc-t1.scope"));
        assert_eq!(loc.unit.as_deref(), Some("runc-t1.scope"));
        assert_eq!(loc.slice.as_deref(), Some("system.slice"));
    }
}
