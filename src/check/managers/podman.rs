//! podman's driver from containers.conf: `cgroup_manager` under `[engine]` in
//! /usr/share/containers/containers.conf, then /etc/containers/containers.conf, then the
//! drop-ins in /etc/containers/containers.conf.d (a later file winning). Without it podman
//! picks systemd when the host was booted by systemd (/run/systemd/system exists), else
//! cgroupfs. `runtime` under `[engine]` names the OCI runtime.
use super::{
    line_at, line_fix, parse_toml, toml_get, unreadable, Driver, ManagerConfig, RuntimeDriver,
    Setting,
};
use crate::check::{Finding, HostRoot};

const FILES: [&str; 2] = [
    "/usr/share/containers/containers.conf",
    "/etc/containers/containers.conf",
];
const DROP_INS: &str = "/etc/containers/containers.conf.d";
const BINARIES: [&str; 2] = ["/usr/bin/podman", "/usr/local/bin/podman"];
const UNDER: &str = "under [engine]";

pub fn inspect(
    root: &HostRoot,
    systemd_default: bool,
    out: &mut Vec<Finding>,
) -> Option<ManagerConfig> {
    let names = FILES
        .iter()
        .map(|f| f.to_string())
        .chain(root.dir_entries(DROP_INS, ".conf"));
    let mut files = Vec::new();
    for file in names {
        match root.read_if_exists(&file) {
            Ok(Some(text)) => files.push((file, text)),
            Ok(None) => {}
            Err(e) => out.push(unreadable(&file, e)),
        }
    }
    if !root.any_exists(&BINARIES) {
        // containers.conf is shared by buildah and skopeo: without podman it drives nothing.
        return None;
    }
    match resolve(&files, systemd_default) {
        Ok(runtime) => Some(ManagerConfig {
            manager: "podman",
            runtimes: vec![runtime],
        }),
        Err(f) => {
            out.push(f);
            None
        }
    }
}

/// podman's runtime and driver from its files in the order applied (pure).
pub fn resolve(
    files: &[(String, String)],
    systemd_default: bool,
) -> Result<RuntimeDriver, Finding> {
    let mut chosen: Option<(String, String, Option<usize>)> = None;
    let mut runtime = None;
    for (file, text) in files {
        let doc = parse_toml(text).map_err(|e| unreadable(file, e))?;
        if let Some(v) = toml_get(&doc, &["engine", "cgroup_manager"]) {
            chosen = Some((
                file.clone(),
                v.as_str().unwrap_or_default().to_string(),
                line_at(text, v.span()),
            ));
        }
        if let Some(v) = toml_get(&doc, &["engine", "runtime"]).and_then(|v| v.as_str()) {
            runtime = Some(v.to_string());
        }
    }
    let default = if systemd_default {
        Driver::Systemd
    } else {
        Driver::Cgroupfs
    };
    let (file, driver, line) = match chosen {
        Some((file, value, line)) => {
            let d = Driver::parse(&value).ok_or_else(|| {
                unreadable(
                    &file,
                    format!("cgroup_manager {value:?} is neither cgroupfs nor systemd"),
                )
            })?;
            (file, d, line)
        }
        None => (FILES[1].to_string(), default, None),
    };
    let setting = Setting {
        driver,
        to_systemd: line_fix(&file, line, "cgroup_manager = \"systemd\"", UNDER),
        to_cgroupfs: line_fix(&file, line, "cgroup_manager = \"cgroupfs\"", UNDER),
        file,
        line,
    };
    let name = runtime.unwrap_or_default();
    Ok(RuntimeDriver {
        name,
        binary: None,
        setting,
        is_default: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_from_the_last_file_or_the_default() {
        let share = (
            "/usr/share/containers/containers.conf".to_string(),
            "[engine]\ncgroup_manager = \"systemd\"\n".to_string(),
        );
        let etc = (
            "/etc/containers/containers.conf".to_string(),
            "[engine]\nruntime = \"crun\"\ncgroup_manager = \"cgroupfs\"\n".to_string(),
        );
        type Files = Vec<(String, String)>;
        let cases: Vec<(Files, bool, Driver, Option<usize>)> = vec![
            (vec![], true, Driver::Systemd, None),
            (vec![], false, Driver::Cgroupfs, None),
            (vec![share.clone()], false, Driver::Systemd, Some(2)),
            (vec![share, etc.clone()], true, Driver::Cgroupfs, Some(3)),
        ];
        for (files, default, driver, line) in cases {
            let r = resolve(&files, default).unwrap();
            assert_eq!(
                (r.setting.driver, r.setting.line),
                (driver, line),
                "{files:?}"
            );
        }
        let r = resolve(&[etc], true).unwrap();
        assert_eq!(r.name, "crun");
        assert_eq!(
            r.setting.to_systemd,
            "/etc/containers/containers.conf:3: cgroup_manager = \"systemd\""
        );
    }

    #[test]
    fn bad_values_are_unchecked() {
        let files = [(
            "/etc/containers/containers.conf".to_string(),
            "[engine]\ncgroup_manager = 1\n".to_string(),
        )];
        assert!(resolve(&files, true).is_err());
    }
}
