//! containerd's CRI runtimes from /etc/containerd/config.toml: each runc-type runtime's
//! `SystemdCgroup` option (default false: cgroupfs) and `BinaryName`, and which one is the
//! default. The CRI plugin's id depends on the config version: `cri` (1),
//! `io.containerd.grpc.v1.cri` (2), `io.containerd.cri.v1.runtime` (3).
use super::{
    line_at, line_fix, parse_toml, toml_get, unreadable, Driver, ManagerConfig, RuntimeDriver,
    Setting,
};
use crate::check::{Finding, HostRoot};

const CONFIG: &str = "/etc/containerd/config.toml";
const BINARIES: [&str; 2] = ["/usr/bin/containerd", "/usr/local/bin/containerd"];
const RUNC_TYPE: &str = "io.containerd.runc.v2";

pub fn inspect(root: &HostRoot, out: &mut Vec<Finding>) -> Option<ManagerConfig> {
    let text = match root.read_if_exists(CONFIG) {
        Ok(Some(text)) => text,
        Ok(None) if root.any_exists(&BINARIES) => String::new(),
        Ok(None) => return None,
        Err(e) => {
            out.push(unreadable(CONFIG, e));
            return None;
        }
    };
    match parse(CONFIG, &text) {
        Ok(runtimes) => Some(ManagerConfig {
            manager: "containerd",
            runtimes,
        }),
        Err(e) => {
            out.push(unreadable(CONFIG, e));
            None
        }
    }
}

/// The CRI plugin's id for a config `version`.
fn cri_plugin(version: i64) -> &'static str {
    match version {
        3 => "io.containerd.cri.v1.runtime",
        2 => "io.containerd.grpc.v1.cri",
        _ => "cri",
    }
}

/// Every runc-type CRI runtime of a config.toml, the default first (pure).
pub fn parse(file: &str, text: &str) -> Result<Vec<RuntimeDriver>, String> {
    let doc = parse_toml(text)?;
    let version = toml_get(&doc, &["version"])
        .and_then(|v| v.as_integer())
        .unwrap_or(1);
    let plugin = cri_plugin(version);
    let base = ["plugins", plugin, "containerd"];
    let default = toml_get(&doc, &[&base[..], &["default_runtime_name"]].concat())
        .and_then(|v| v.as_str())
        .unwrap_or("runc")
        .to_string();
    let mut names: Vec<String> = toml_get(&doc, &[&base[..], &["runtimes"]].concat())
        .and_then(|t| t.as_table_like())
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default();
    if !names.contains(&default) {
        names.insert(0, default.clone());
    }
    let mut runtimes = Vec::new();
    for name in names {
        let table = toml_get(&doc, &[&base[..], &["runtimes", &name]].concat());
        let runtime_type = table
            .and_then(|t| t.get("runtime_type"))
            .and_then(|v| v.as_str())
            .unwrap_or(RUNC_TYPE);
        // Other shims (kata, gVisor…) have their own cgroup options.
        if runtime_type == RUNC_TYPE {
            let options = table.and_then(|t| t.get("options"));
            let (setting, binary) = runc_options(file, text, plugin, &name, options)?;
            let is_default = name == default;
            runtimes.push(RuntimeDriver {
                name,
                binary,
                setting,
                is_default,
            });
        }
    }
    runtimes.sort_by_key(|r| !r.is_default);
    Ok(runtimes)
}

/// A runc runtime's driver (`SystemdCgroup`, default false) and `BinaryName` (pure).
fn runc_options(
    file: &str,
    text: &str,
    plugin: &str,
    name: &str,
    options: Option<&toml_edit::Item>,
) -> Result<(Setting, Option<String>), String> {
    let systemd = options.and_then(|o| o.get("SystemdCgroup"));
    let value = match systemd.map(|v| v.as_bool()) {
        Some(None) => {
            return Err(format!(
                "SystemdCgroup of runtime {name:?} is not a boolean"
            ))
        }
        Some(Some(v)) => v,
        None => false,
    };
    let line = systemd.and_then(|v| line_at(text, v.span()));
    let under = format!("under [plugins.\"{plugin}\".containerd.runtimes.{name}.options]");
    let setting = Setting {
        driver: if value {
            Driver::Systemd
        } else {
            Driver::Cgroupfs
        },
        file: file.to_string(),
        line,
        to_systemd: line_fix(file, line, "SystemdCgroup = true", &under),
        to_cgroupfs: line_fix(file, line, "SystemdCgroup = false", &under),
    };
    let binary = options
        .and_then(|o| o.get("BinaryName"))
        .and_then(|v| v.as_str())
        .map(String::from);
    Ok((setting, binary))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2_SYSTEMD: &str = r#"version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
  BinaryName = "/usr/local/bin/shoji"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]
  runtime_type = "io.containerd.kata.v2"
"#;

    const V3_MIXED: &str = r#"version = 3
[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = 'crun'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun]
  runtime_type = 'io.containerd.runc.v2'
  options = { BinaryName = '/usr/bin/crun', SystemdCgroup = false }
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = true
"#;

    /// name, driver, line of SystemdCgroup, BinaryName, is the default.
    type Summary = (String, Driver, Option<usize>, Option<String>, bool);

    fn summary(text: &str) -> Vec<Summary> {
        parse(CONFIG, text)
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.name,
                    r.setting.driver,
                    r.setting.line,
                    r.binary,
                    r.is_default,
                )
            })
            .collect()
    }

    #[test]
    fn runtimes_of_each_version() {
        let runc = |d, line, bin: Option<&str>, def| {
            ("runc".to_string(), d, line, bin.map(String::from), def)
        };
        assert_eq!(summary(""), [runc(Driver::Cgroupfs, None, None, true)]);
        assert_eq!(
            summary(V2_SYSTEMD),
            [runc(
                Driver::Systemd,
                Some(7),
                Some("/usr/local/bin/shoji"),
                true
            )]
        );
        assert_eq!(
            summary(V3_MIXED),
            [
                (
                    "crun".to_string(),
                    Driver::Cgroupfs,
                    Some(6),
                    Some("/usr/bin/crun".to_string()),
                    true
                ),
                runc(Driver::Systemd, Some(8), None, false),
            ]
        );
        // A version 3 file read with version 2's plugin id would find nothing: the ids differ.
        let v2_keys_in_v3 = V2_SYSTEMD.replace("version = 2", "version = 3");
        assert_eq!(
            summary(&v2_keys_in_v3),
            [runc(Driver::Cgroupfs, None, None, true)]
        );
        let v1 = "[plugins.cri.containerd.runtimes.runc.options]\nSystemdCgroup = true\n";
        assert_eq!(summary(v1), [runc(Driver::Systemd, Some(2), None, true)]);
    }

    #[test]
    fn fixes_and_errors() {
        let r = &parse(CONFIG, V2_SYSTEMD).unwrap()[0];
        assert_eq!(
            r.setting.to_cgroupfs,
            "/etc/containerd/config.toml:7: SystemdCgroup = false"
        );
        let r = &parse(CONFIG, "version = 2\n").unwrap()[0];
        assert_eq!(
            r.setting.to_systemd,
            "/etc/containerd/config.toml: add `SystemdCgroup = true` under \
             [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]"
        );
        let bad = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\nSystemdCgroup = \"yes\"\n";
        assert!(parse(CONFIG, bad).unwrap_err().contains("not a boolean"));
        assert!(parse(CONFIG, "version = = 2").is_err());
    }
}
