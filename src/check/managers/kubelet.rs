//! The kubelet's cgroup driver, CRI endpoint and failCgroupV1: from its config file
//! (`cgroupDriver`, `containerRuntimeEndpoint`, `failCgroupV1` in /var/lib/kubelet/config.yaml
//! or the file `--config` names) and its flags (`--cgroup-driver`,
//! `--container-runtime-endpoint`) in its systemd drop-ins, /etc/default/kubelet,
//! /etc/sysconfig/kubelet and kubeadm-flags.env. A flag overrides the config file, as in the
//! kubelet; with neither, its default driver is cgroupfs.
use super::{line_fix, unreadable, Driver, KubeletConfig, Setting};
use crate::check::{Finding, HostRoot};

const CONFIG: &str = "/var/lib/kubelet/config.yaml";
const DEFAULT_ENDPOINT: &str = "unix:///run/containerd/containerd.sock";
const FLAG_FILES: [&str; 3] = [
    "/etc/default/kubelet",
    "/etc/sysconfig/kubelet",
    "/var/lib/kubelet/kubeadm-flags.env",
];
const DROP_IN_DIRS: [&str; 3] = [
    "/usr/lib/systemd/system/kubelet.service.d",
    "/lib/systemd/system/kubelet.service.d",
    "/etc/systemd/system/kubelet.service.d",
];
const BINARIES: [&str; 2] = ["/usr/bin/kubelet", "/usr/local/bin/kubelet"];

/// A top-level `key: value` of a YAML document, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlKey {
    pub value: String,
    pub line: usize,
}

/// The top-level scalar `key` of a YAML mapping (the kubelet's KubeletConfiguration is flat
/// where it matters here): unindented `key: value`, quotes and trailing comments removed.
pub fn yaml_top_level(text: &str, key: &str) -> Option<YamlKey> {
    text.lines().enumerate().find_map(|(i, line)| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let value = rest.split(" #").next().unwrap_or("").trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        Some(YamlKey {
            value: value.to_string(),
            line: i + 1,
        })
    })
}

/// Every `--name=value` / `--name value` of `flag` in a flags file or unit drop-in, with its
/// line (quotes around the whole argument list, as in `KUBELET_KUBEADM_ARGS="…"`, are fine).
pub fn flag_values(text: &str, flag: &str) -> Vec<YamlKey> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let tokens: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .filter(|t| !t.is_empty())
            .collect();
        for (j, token) in tokens.iter().enumerate() {
            let token = token.split_once("ARGS=").map_or(*token, |(_, t)| t);
            let value = match token.strip_prefix(flag) {
                Some(v) if v.starts_with('=') => Some(v[1..].to_string()),
                Some("") => tokens.get(j + 1).map(|v| v.to_string()),
                _ => None,
            };
            if let Some(value) = value {
                found.push(YamlKey { value, line: i + 1 });
            }
        }
    }
    found
}

/// The files that may carry flags, in the order systemd and the kubelet apply them.
fn flag_files(root: &HostRoot) -> Vec<String> {
    let mut files: Vec<String> = DROP_IN_DIRS
        .iter()
        .flat_map(|d| root.dir_entries(d, ".conf"))
        .collect();
    files.extend(FLAG_FILES.iter().map(|f| f.to_string()));
    files
}

/// The last value of `flag` over `files` (a later file wins), with the file it is in.
fn last_flag(files: &[(String, String)], flag: &str) -> Option<(String, YamlKey)> {
    files
        .iter()
        .flat_map(|(f, text)| {
            flag_values(text, flag)
                .into_iter()
                .map(move |v| (f.clone(), v))
        })
        .last()
}

pub fn inspect(root: &HostRoot, out: &mut Vec<Finding>) -> Option<KubeletConfig> {
    let flags: Vec<(String, String)> = flag_files(root)
        .into_iter()
        .filter_map(|f| root.read(&f).ok().map(|t| (f, t)))
        .collect();
    let config_file = last_flag(&flags, "--config").map_or(CONFIG.to_string(), |(_, v)| v.value);
    let config = match root.read_if_exists(&config_file) {
        Ok(c) => c,
        Err(e) => {
            out.push(unreadable(&config_file, e));
            return None;
        }
    };
    if config.is_none() && flags.is_empty() && !root.any_exists(&BINARIES) {
        return None;
    }
    match resolve(&config_file, config.as_deref().unwrap_or(""), &flags) {
        Ok(k) => Some(k),
        Err(f) => {
            out.push(f);
            None
        }
    }
}

/// The kubelet's settings from its config file text and its flag files (pure).
pub fn resolve(
    config_file: &str,
    config: &str,
    flags: &[(String, String)],
) -> Result<KubeletConfig, Finding> {
    let under = "at the top level of the KubeletConfiguration";
    let from_flag = last_flag(flags, "--cgroup-driver");
    let from_config = yaml_top_level(config, "cgroupDriver");
    let (file, found, new_line): (String, Option<YamlKey>, fn(Driver) -> String) = match from_flag {
        Some((file, v)) => (file, Some(v), |d| format!("--cgroup-driver={}", d.name())),
        None => (config_file.to_string(), from_config, |d| {
            format!("cgroupDriver: {}", d.name())
        }),
    };
    let driver = match &found {
        Some(v) => Driver::parse(&v.value).ok_or_else(|| {
            unreadable(
                &file,
                format!(
                    "cgroup driver {:?} is neither cgroupfs nor systemd",
                    v.value
                ),
            )
        })?,
        None => Driver::Cgroupfs,
    };
    let line = found.map(|v| v.line);
    let setting = Setting {
        driver,
        to_systemd: line_fix(&file, line, &new_line(Driver::Systemd), under),
        to_cgroupfs: line_fix(&file, line, &new_line(Driver::Cgroupfs), under),
        file,
        line,
    };
    let endpoint = last_flag(flags, "--container-runtime-endpoint")
        .map(|(_, v)| v.value)
        .or_else(|| yaml_top_level(config, "containerRuntimeEndpoint").map(|v| v.value))
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    let fail_cgroup_v1 = yaml_top_level(config, "failCgroupV1").map(|v| {
        let fix = line_fix(config_file, Some(v.line), "failCgroupV1: false", under);
        let setting = Setting {
            driver,
            file: config_file.to_string(),
            line: Some(v.line),
            to_systemd: fix.clone(),
            to_cgroupfs: fix,
        };
        (v.value == "true", setting)
    });
    Ok(KubeletConfig {
        setting,
        endpoint,
        fail_cgroup_v1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(text: &str) -> Vec<(String, String)> {
        vec![("/var/lib/kubelet/kubeadm-flags.env".into(), text.into())]
    }

    #[test]
    fn driver_endpoint_and_origin() {
        let cases: &[(&str, &str, Driver, Option<usize>, &str)] = &[
            ("", "", Driver::Cgroupfs, None, DEFAULT_ENDPOINT),
            ("kind: KubeletConfiguration\ncgroupDriver: systemd\n", "", Driver::Systemd, Some(2), DEFAULT_ENDPOINT),
            ("cgroupDriver: \"cgroupfs\" # set by hand\n", "", Driver::Cgroupfs, Some(1), DEFAULT_ENDPOINT),
            (
                "cgroupDriver: cgroupfs\ncontainerRuntimeEndpoint: unix:///var/run/crio/crio.sock\n",
                "",
                Driver::Cgroupfs,
                Some(1),
                "unix:///var/run/crio/crio.sock",
            ),
            (
                "cgroupDriver: cgroupfs\n",
                "KUBELET_KUBEADM_ARGS=\"--cgroup-driver=systemd --container-runtime-endpoint=unix:///run/cri-dockerd.sock\"\n",
                Driver::Systemd,
                Some(1),
                "unix:///run/cri-dockerd.sock",
            ),
            ("", "[Service]\nEnvironment=\"KUBELET_EXTRA_ARGS=--cgroup-driver systemd\"\n", Driver::Systemd, Some(2), DEFAULT_ENDPOINT),
        ];
        for (config, flag_text, driver, line, endpoint) in cases {
            let k = resolve(CONFIG, config, &flags(flag_text)).unwrap();
            assert_eq!(k.setting.driver, *driver, "{config:?} {flag_text:?}");
            assert_eq!(k.setting.line, *line, "{config:?} {flag_text:?}");
            assert_eq!(k.endpoint, *endpoint, "{config:?} {flag_text:?}");
        }
    }

    #[test]
    fn fixes_name_the_exact_line() {
        let k = resolve(CONFIG, "a: b\ncgroupDriver: cgroupfs\n", &[]).unwrap();
        assert_eq!(
            k.setting.to_systemd,
            "/var/lib/kubelet/config.yaml:2: cgroupDriver: systemd"
        );
        let k = resolve(CONFIG, "", &flags("X=\"--cgroup-driver=cgroupfs\"")).unwrap();
        assert_eq!(
            k.setting.to_systemd,
            "/var/lib/kubelet/kubeadm-flags.env:1: --cgroup-driver=systemd"
        );
        let k = resolve(CONFIG, "", &[]).unwrap();
        assert!(k
            .setting
            .to_systemd
            .starts_with("/var/lib/kubelet/config.yaml: add `cgroupDriver: systemd`"));
    }

    #[test]
    fn fail_cgroup_v1_and_bad_values() {
        let k = resolve(CONFIG, "failCgroupV1: false\n", &[]).unwrap();
        assert_eq!(
            k.fail_cgroup_v1.map(|(v, s)| (v, s.line)),
            Some((false, Some(1)))
        );
        let err = resolve(CONFIG, "cgroupDriver: sistemd\n", &[]).unwrap_err();
        assert!(err.message.contains("\"sistemd\""), "{}", err.message);
        // A nested key of the same name is not the top-level one.
        assert_eq!(
            yaml_top_level("x:\n  cgroupDriver: systemd\n", "cgroupDriver"),
            None
        );
    }
}
