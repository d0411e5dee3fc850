//! The rules across managers: `systemd` chosen where PID 1 is not systemd, the kubelet and
//! the runtime behind its CRI endpoint disagreeing (the runtime then gets `slice:prefix:name`
//! paths it makes literal directories of, or cgroupfs paths systemd never hears of), and a
//! kubelet on cgroup v1 (refused by default from Kubernetes 1.35).
use super::{line_fix, Configs, Driver, KubeletConfig, ManagerConfig, Setting};
use crate::cgroups::CgroupMode;
use crate::check::layout::Layout;
use crate::check::{Finding, Severity};

pub fn agreement(configs: &Configs, layout: Option<&Layout>, out: &mut Vec<Finding>) {
    let pid1 = layout.and_then(|l| l.systemd_pid1);
    if pid1 == Some(false) {
        systemd_without_systemd(configs, out);
    }
    let Some(kubelet) = &configs.kubelet else {
        return;
    };
    kubelet_runtime(kubelet, &configs.managers, pid1, out);
    if let Some(layout) = layout.filter(|l| l.mounts.mode != CgroupMode::V2) {
        kubelet_on_v1(kubelet, layout, out);
    }
}

/// Every setting, once: runtimes of CRI-O and docker share their manager's.
fn distinct_settings(managers: &[ManagerConfig]) -> Vec<(&'static str, &str, &Setting)> {
    let mut seen: Vec<(&'static str, &str, &Setting)> = Vec::new();
    for m in managers {
        for r in &m.runtimes {
            if !seen
                .iter()
                .any(|(n, _, s)| *n == m.manager && **s == r.setting)
            {
                seen.push((m.manager, &r.name, &r.setting));
            }
        }
    }
    seen
}

fn systemd_without_systemd(configs: &Configs, out: &mut Vec<Finding>) {
    let kubelet = configs.kubelet.iter().map(|k| ("kubelet", "", &k.setting));
    let managers = distinct_settings(&configs.managers);
    for (who, runtime, setting) in kubelet.chain(managers) {
        if setting.driver != Driver::Systemd {
            continue;
        }
        let what = if runtime.is_empty() || who == "podman" {
            who.to_string()
        } else {
            format!("{who} (runtime {runtime})")
        };
        let message = format!("{what} uses the systemd cgroup driver but PID 1 is not systemd: every container it starts fails");
        let f = Finding::new(Severity::Error, "driver.systemd-without-systemd", message)
            .at(setting.evidence())
            .fix(setting.fix_to(Driver::Cgroupfs));
        out.push(f);
    }
}

/// The manager serving a CRI endpoint, by its socket's name.
fn manager_of(endpoint: &str) -> Option<&'static str> {
    if endpoint.contains("containerd") {
        Some("containerd")
    } else if endpoint.contains("crio") {
        Some("cri-o")
    } else if endpoint.contains("dockerd") || endpoint.contains("dockershim") {
        Some("docker")
    } else {
        None
    }
}

fn kubelet_runtime(
    kubelet: &KubeletConfig,
    managers: &[ManagerConfig],
    pid1: Option<bool>,
    out: &mut Vec<Finding>,
) {
    let wanted = manager_of(&kubelet.endpoint);
    let Some(manager) = managers.iter().find(|m| Some(m.manager) == wanted) else {
        let message = format!(
            "the kubelet's runtime endpoint {} belongs to no installed manager this check knows",
            kubelet.endpoint
        );
        out.push(
            Finding::new(Severity::Warning, "driver.runtime-missing", message)
                .at(kubelet.setting.evidence()),
        );
        return;
    };
    let k = kubelet.setting.driver;
    // Both should end up on systemd where it is PID 1, else on cgroupfs; unknown: the kubelet's.
    let target = match pid1 {
        Some(true) => Driver::Systemd,
        Some(false) => Driver::Cgroupfs,
        None => k,
    };
    for (who, runtime, setting) in distinct_settings(std::slice::from_ref(manager)) {
        if setting.driver == k {
            continue;
        }
        let message = format!(
            "the kubelet uses the {} driver but {who} runtime {runtime} uses {}: pods get cgroups \
             the other side cannot find (a cgroupfs runtime handed `slice:prefix:name` paths makes \
             literal directories of them)",
            k.name(),
            setting.driver.name()
        );
        let fix = if k == target {
            setting.fix_to(target)
        } else {
            kubelet.setting.fix_to(target)
        };
        let f = Finding::new(Severity::Error, "driver.mismatch", message)
            .at(kubelet.setting.evidence())
            .at(setting.evidence())
            .fix(fix);
        out.push(f);
    }
}

fn kubelet_on_v1(kubelet: &KubeletConfig, layout: &Layout, out: &mut Vec<Finding>) {
    let mode = match layout.mounts.mode {
        CgroupMode::Hybrid => "hybrid cgroup v1",
        _ => "cgroup v1",
    };
    let (severity, message, fix) = match &kubelet.fail_cgroup_v1 {
        Some((false, _)) => (
            Severity::Info,
            format!("the kubelet runs on {mode} with failCgroupV1: false"),
            None,
        ),
        Some((true, s)) => (
            Severity::Warning,
            format!("the kubelet runs on {mode} with failCgroupV1: true: it refuses to start"),
            Some(s.to_cgroupfs.clone()),
        ),
        None => {
            let fix = line_fix(
                &kubelet.setting.file,
                None,
                "failCgroupV1: false",
                "at the top level of the KubeletConfiguration (or move the node to cgroup v2)",
            );
            (Severity::Warning, format!("the kubelet runs on {mode}: Kubernetes 1.35 and later refuse to start there unless failCgroupV1 is false"), Some(fix))
        }
    };
    let evidence = kubelet
        .fail_cgroup_v1
        .as_ref()
        .map_or(kubelet.setting.evidence(), |(_, s)| s.evidence());
    let f = Finding::new(severity, "kubelet.cgroup-v1", message).at(evidence);
    out.push(match fix {
        Some(fix) => f.fix(fix),
        None => f,
    });
}

#[cfg(test)]
mod tests {
    use super::super::{line_fix, RuntimeDriver};
    use super::*;
    use crate::cgroups::mode::parse_mountinfo;

    fn setting(file: &str, driver: Driver) -> Setting {
        Setting {
            driver,
            file: file.into(),
            line: Some(1),
            to_systemd: line_fix(file, Some(1), "systemd", ""),
            to_cgroupfs: line_fix(file, Some(1), "cgroupfs", ""),
        }
    }

    fn configs(kubelet: Driver, endpoint: &str, manager: &'static str, runtime: Driver) -> Configs {
        let runtimes = vec![RuntimeDriver {
            name: "runc".into(),
            binary: None,
            setting: setting("/rt.conf", runtime),
            is_default: true,
        }];
        Configs {
            kubelet: Some(KubeletConfig {
                setting: setting("/k.yaml", kubelet),
                endpoint: endpoint.into(),
                fail_cgroup_v1: None,
            }),
            managers: vec![ManagerConfig { manager, runtimes }],
        }
    }

    fn layout(systemd_pid1: Option<bool>) -> Layout {
        let mounts =
            parse_mountinfo("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n").unwrap();
        Layout {
            mounts,
            systemd_pid1,
        }
    }

    /// (check, fix) of every non-info finding.
    fn errors(c: &Configs, pid1: Option<bool>) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        agreement(c, Some(&layout(pid1)), &mut out);
        out.into_iter()
            .filter(|f| f.severity != Severity::Info)
            .map(|f| (f.check, f.fix.unwrap_or_default()))
            .collect()
    }

    /// kubelet driver, its endpoint, the manager installed, its driver, PID 1 is systemd, and
    /// the (check, fix) of every error or warning expected.
    type Case = (
        Driver,
        &'static str,
        &'static str,
        Driver,
        Option<bool>,
        Vec<(&'static str, &'static str)>,
    );

    /// Every pairing worth telling apart: agreeing, each side wrong, each runtime's endpoint,
    /// systemd chosen without systemd, and an endpoint no installed manager serves.
    fn cases() -> Vec<Case> {
        use Driver::{Cgroupfs as Fs, Systemd as Sd};
        let containerd = "unix:///run/containerd/containerd.sock";
        let crio = "unix:///var/run/crio/crio.sock";
        let dockerd = "unix:///run/cri-dockerd.sock";
        let mismatch = "driver.mismatch";
        let without = "driver.systemd-without-systemd";
        vec![
            (Sd, containerd, "containerd", Sd, Some(true), vec![]),
            (Fs, containerd, "containerd", Fs, Some(false), vec![]),
            (
                Sd,
                containerd,
                "containerd",
                Fs,
                Some(true),
                vec![(mismatch, "/rt.conf:1: systemd")],
            ),
            (
                Fs,
                containerd,
                "containerd",
                Sd,
                Some(true),
                vec![(mismatch, "/k.yaml:1: systemd")],
            ),
            (
                Sd,
                crio,
                "cri-o",
                Fs,
                None,
                vec![(mismatch, "/rt.conf:1: systemd")],
            ),
            (
                Fs,
                dockerd,
                "docker",
                Sd,
                None,
                vec![(mismatch, "/rt.conf:1: cgroupfs")],
            ),
            (
                Fs,
                containerd,
                "containerd",
                Sd,
                Some(false),
                vec![
                    (without, "/rt.conf:1: cgroupfs"),
                    (mismatch, "/rt.conf:1: cgroupfs"),
                ],
            ),
            (
                Sd,
                crio,
                "cri-o",
                Sd,
                Some(false),
                vec![
                    (without, "/k.yaml:1: cgroupfs"),
                    (without, "/rt.conf:1: cgroupfs"),
                ],
            ),
            (
                Sd,
                crio,
                "containerd",
                Sd,
                Some(true),
                vec![("driver.runtime-missing", "")],
            ),
        ]
    }

    #[test]
    fn every_disagreement() {
        for (k, endpoint, manager, r, pid1, want) in cases() {
            let got = errors(&configs(k, endpoint, manager, r), pid1);
            let want: Vec<(&str, String)> =
                want.into_iter().map(|(c, f)| (c, f.to_string())).collect();
            assert_eq!(
                got, want,
                "kubelet {k:?} via {endpoint}, {manager} {r:?}, pid1 systemd {pid1:?}"
            );
        }
    }

    #[test]
    fn kubelet_on_cgroup_v1() {
        let mut c = configs(
            Driver::Cgroupfs,
            "unix:///run/containerd/containerd.sock",
            "containerd",
            Driver::Cgroupfs,
        );
        let v1 = Layout {
            mounts: parse_mountinfo(
                "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
            )
            .unwrap(),
            systemd_pid1: Some(false),
        };
        let mut out = Vec::new();
        agreement(&c, Some(&v1), &mut out);
        assert_eq!(
            out.iter()
                .map(|f| (f.check, f.severity))
                .collect::<Vec<_>>(),
            [("kubelet.cgroup-v1", Severity::Warning)]
        );
        c.kubelet.as_mut().unwrap().fail_cgroup_v1 =
            Some((false, setting("/k.yaml", Driver::Cgroupfs)));
        out.clear();
        agreement(&c, Some(&v1), &mut out);
        assert_eq!(out[0].severity, Severity::Info);
    }
}
