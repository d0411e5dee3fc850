//! dockerd's driver from /etc/docker/daemon.json: `"exec-opts": ["native.cgroupdriver=…"]`.
//! Without it dockerd picks systemd on a cgroup v2 host booted by systemd, else cgroupfs. Its
//! runtimes (`runtimes`, `default-runtime`) share that one driver.
use super::{line_containing, line_fix, unreadable, Driver, ManagerConfig, RuntimeDriver, Setting};
use crate::check::{Finding, HostRoot};

const CONFIG: &str = "/etc/docker/daemon.json";
const BINARIES: [&str; 3] = [
    "/usr/bin/dockerd",
    "/usr/sbin/dockerd",
    "/usr/local/bin/dockerd",
];
const OPTION: &str = "native.cgroupdriver";

pub fn inspect(
    root: &HostRoot,
    systemd_default: bool,
    out: &mut Vec<Finding>,
) -> Option<ManagerConfig> {
    let text = match root.read_if_exists(CONFIG) {
        Ok(Some(text)) => text,
        Ok(None) if root.any_exists(&BINARIES) => "{}".into(),
        Ok(None) => return None,
        Err(e) => {
            out.push(unreadable(CONFIG, e));
            return None;
        }
    };
    match parse(CONFIG, &text, systemd_default) {
        Ok(runtimes) => Some(ManagerConfig {
            manager: "docker",
            runtimes,
        }),
        Err(f) => {
            out.push(f);
            None
        }
    }
}

/// dockerd's runtimes and their driver from daemon.json (pure); `systemd_default` is what
/// dockerd picks when the file says nothing.
pub fn parse(file: &str, text: &str, systemd_default: bool) -> Result<Vec<RuntimeDriver>, Finding> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| unreadable(file, e))?;
    let chosen = json["exec-opts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o.as_str()?.split_once('='))
        .filter(|(k, _)| k.trim() == OPTION)
        .map(|(_, v)| v.trim().to_string())
        .next_back();
    let driver = match &chosen {
        Some(v) => Driver::parse(v).ok_or_else(|| {
            unreadable(
                file,
                format!("{OPTION} {v:?} is neither cgroupfs nor systemd"),
            )
        })?,
        None if systemd_default => Driver::Systemd,
        None => Driver::Cgroupfs,
    };
    let line = chosen.and_then(|_| line_containing(text, OPTION));
    let new_line = |d: Driver| match line {
        Some(_) => format!("\"{OPTION}={}\"", d.name()),
        None => format!("\"exec-opts\": [\"{OPTION}={}\"]", d.name()),
    };
    let setting = Setting {
        driver,
        to_systemd: line_fix(
            file,
            line,
            &new_line(Driver::Systemd),
            "to the top-level object",
        ),
        to_cgroupfs: line_fix(
            file,
            line,
            &new_line(Driver::Cgroupfs),
            "to the top-level object",
        ),
        file: file.to_string(),
        line,
    };
    Ok(runtimes(&json, &setting))
}

/// `default-runtime` (runc unless set) first, then the other `runtimes`, all on `setting`.
fn runtimes(json: &serde_json::Value, setting: &Setting) -> Vec<RuntimeDriver> {
    let default = json["default-runtime"]
        .as_str()
        .unwrap_or("runc")
        .to_string();
    let mut runtimes = vec![RuntimeDriver {
        name: default.clone(),
        binary: None,
        setting: setting.clone(),
        is_default: true,
    }];
    for (name, r) in json["runtimes"].as_object().into_iter().flatten() {
        let binary = r["path"].as_str().map(String::from);
        if *name == default {
            runtimes[0].binary = binary;
        } else {
            runtimes.push(RuntimeDriver {
                name: name.clone(),
                binary,
                setting: setting.clone(),
                is_default: false,
            });
        }
    }
    runtimes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_from_exec_opts_or_the_default() {
        let cases: &[(&str, bool, Driver, Option<usize>)] = &[
            ("{}", false, Driver::Cgroupfs, None),
            ("{}", true, Driver::Systemd, None),
            (
                "{\n  \"exec-opts\": [\"native.cgroupdriver=systemd\"]\n}",
                false,
                Driver::Systemd,
                Some(2),
            ),
            (
                "{\n  \"exec-opts\": [\n    \"native.cgroupdriver=cgroupfs\"\n  ]\n}",
                true,
                Driver::Cgroupfs,
                Some(3),
            ),
        ];
        for (text, default, driver, line) in cases {
            let r = &parse(CONFIG, text, *default).unwrap()[0];
            assert_eq!(
                (r.setting.driver, r.setting.line),
                (*driver, *line),
                "{text}"
            );
        }
    }

    #[test]
    fn runtimes_fixes_and_errors() {
        let text = r#"{"default-runtime": "shoji", "runtimes": {"shoji": {"path": "/usr/local/bin/shoji"}, "crun": {"path": "/usr/bin/crun"}}}"#;
        let r = parse(CONFIG, text, false).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].name.as_str(), r[0].binary.as_deref()),
            ("shoji", Some("/usr/local/bin/shoji"))
        );
        assert_eq!(
            r[0].setting.to_systemd,
            "/etc/docker/daemon.json: add `\"exec-opts\": [\"native.cgroupdriver=systemd\"]` to the top-level object"
        );
        let bad = parse(
            CONFIG,
            r#"{"exec-opts": ["native.cgroupdriver=sd"]}"#,
            false,
        )
        .unwrap_err();
        assert!(bad.message.contains("\"sd\""), "{}", bad.message);
        assert!(parse(CONFIG, "{", false).is_err());
    }
}
