//! CRI-O's driver from /etc/crio/crio.conf and the drop-ins in /etc/crio/crio.conf.d (applied
//! in name order, a later file winning): `cgroup_manager` under `[crio.runtime]` (default
//! systemd) is one setting for every runtime; each `[crio.runtime.runtimes.NAME]` gives its
//! `runtime_path`.
use std::collections::BTreeMap;

use super::{
    line_at, line_fix, parse_toml, toml_get, unreadable, Driver, ManagerConfig, RuntimeDriver,
    Setting,
};
use crate::check::{Finding, HostRoot};

const CONFIG: &str = "/etc/crio/crio.conf";
const DROP_INS: &str = "/etc/crio/crio.conf.d";
const BINARIES: [&str; 2] = ["/usr/bin/crio", "/usr/local/bin/crio"];
const UNDER: &str = "under [crio.runtime]";

pub fn inspect(root: &HostRoot, out: &mut Vec<Finding>) -> Option<ManagerConfig> {
    let mut files = Vec::new();
    for file in std::iter::once(CONFIG.to_string()).chain(root.dir_entries(DROP_INS, ".conf")) {
        match root.read_if_exists(&file) {
            Ok(Some(text)) => files.push((file, text)),
            Ok(None) => {}
            Err(e) => out.push(unreadable(&file, e)),
        }
    }
    if files.is_empty() && !root.any_exists(&BINARIES) {
        return None;
    }
    match resolve(&files) {
        Ok(runtimes) => Some(ManagerConfig {
            manager: "cri-o",
            runtimes,
        }),
        Err(f) => {
            out.push(f);
            None
        }
    }
}

/// CRI-O's runtimes and their (shared) driver from its files in the order applied (pure).
pub fn resolve(files: &[(String, String)]) -> Result<Vec<RuntimeDriver>, Finding> {
    let mut manager: Option<(String, String, Option<usize>)> = None;
    let mut default_runtime = None;
    let mut paths: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (file, text) in files {
        let doc = parse_toml(text).map_err(|e| unreadable(file, e))?;
        if let Some(v) = toml_get(&doc, &["crio", "runtime", "cgroup_manager"]) {
            let value = v.as_str().unwrap_or_default().to_string();
            manager = Some((file.clone(), value, line_at(text, v.span())));
        }
        if let Some(v) =
            toml_get(&doc, &["crio", "runtime", "default_runtime"]).and_then(|v| v.as_str())
        {
            default_runtime = Some(v.to_string());
        }
        let runtimes =
            toml_get(&doc, &["crio", "runtime", "runtimes"]).and_then(|t| t.as_table_like());
        for (name, table) in runtimes.into_iter().flat_map(|t| t.iter()) {
            let path = table
                .get("runtime_path")
                .and_then(|v| v.as_str())
                .map(String::from);
            let entry = paths.entry(name.to_string()).or_default();
            *entry = path.or(entry.take());
        }
    }
    let (file, value, line) = manager.unwrap_or((CONFIG.to_string(), "systemd".into(), None));
    let driver = Driver::parse(&value).ok_or_else(|| {
        unreadable(
            &file,
            format!("cgroup_manager {value:?} is neither cgroupfs nor systemd"),
        )
    })?;
    let setting = Setting {
        driver,
        to_systemd: line_fix(&file, line, "cgroup_manager = \"systemd\"", UNDER),
        to_cgroupfs: line_fix(&file, line, "cgroup_manager = \"cgroupfs\"", UNDER),
        file,
        line,
    };
    let default = default_runtime.unwrap_or_default();
    if !paths.contains_key(&default) {
        paths.insert(default.clone(), None);
    }
    let mut runtimes: Vec<RuntimeDriver> = paths
        .into_iter()
        .map(|(name, binary)| RuntimeDriver {
            is_default: name == default,
            name,
            binary,
            setting: setting.clone(),
        })
        .collect();
    runtimes.sort_by_key(|r| !r.is_default);
    Ok(runtimes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn drivers_defaults_and_drop_in_order() {
        let main = "[crio.runtime]\ndefault_runtime = \"runc\"\ncgroup_manager = \"systemd\"\n\
                    [crio.runtime.runtimes.runc]\nruntime_path = \"/usr/sbin/runc\"\n";
        type Files<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Files, Driver, &str, Option<usize>)] = &[
            (&[], Driver::Systemd, CONFIG, None),
            (&[(CONFIG, main)], Driver::Systemd, CONFIG, Some(3)),
            (
                &[
                    (CONFIG, main),
                    (
                        "/etc/crio/crio.conf.d/10-cgroupfs.conf",
                        "[crio.runtime]\ncgroup_manager = \"cgroupfs\"\n",
                    ),
                ],
                Driver::Cgroupfs,
                "/etc/crio/crio.conf.d/10-cgroupfs.conf",
                Some(2),
            ),
        ];
        for (list, driver, file, line) in cases {
            let runtimes = resolve(&files(list)).unwrap();
            let s = &runtimes[0].setting;
            assert_eq!(
                (s.driver, s.file.as_str(), s.line),
                (*driver, *file, *line),
                "{list:?}"
            );
        }
        let runtimes = resolve(&files(&[(CONFIG, main)])).unwrap();
        assert_eq!(runtimes.len(), 1);
        assert_eq!(runtimes[0].binary.as_deref(), Some("/usr/sbin/runc"));
        assert!(runtimes[0].is_default);
    }

    #[test]
    fn bad_values_are_unchecked() {
        let err = resolve(&files(&[(
            CONFIG,
            "[crio.runtime]\ncgroup_manager = \"both\"\n",
        )]))
        .unwrap_err();
        assert!(err.message.contains("\"both\""), "{}", err.message);
        assert!(resolve(&files(&[(CONFIG, "[crio.runtime\n")])).is_err());
    }
}
