//! The D-Bus client and properties against systemd: a transient scope in nested slices.
use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

use shoji::systemd::dbus::{Started, Systemd};
use shoji::systemd::{properties, unit};

use crate::in_sandbox;

const TIMEOUT: Duration = Duration::from_secs(30);

fn read(path: &str) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

#[test]
fn transient_scope_applies_v1_limits() {
    in_sandbox("scope::transient_scope_applies_v1_limits", || {
        let loc = unit::parse_cgroups_path(
            Some("kubepods-besteffort-pod012abc.slice:cri-containerd:345def"),
            "x",
        )
        .unwrap();
        let mut sleeper = Command::new("sleep")
            .arg("1000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let r = serde_json::from_str(
            r#"{"memory": {"limit": 104857600}, "pids": {"limit": 50}, "cpu": {"shares": 512}}"#,
        )
        .unwrap();
        let mut props = properties::unit_properties(&loc.unit, &loc.slice, sleeper.id(), false);
        props.extend(
            properties::resource_properties(&r, false)
                .unwrap()
                .properties,
        );
        let sd = Systemd::connect().unwrap();
        assert_eq!(
            sd.start_transient_unit(&loc.unit, &props, TIMEOUT).unwrap(),
            Started::Done
        );
        let path = loc.path.display().to_string();
        assert_eq!(
            read(&format!(
                "/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"
            )),
            "104857600"
        );
        assert_eq!(read(&format!("/sys/fs/cgroup/pids{path}/pids.max")), "50");
        assert_eq!(read(&format!("/sys/fs/cgroup/cpu{path}/cpu.shares")), "512");
        assert_eq!(
            sd.active_state(&loc.unit).unwrap().as_deref(),
            Some("active")
        );
        let show = Command::new("systemctl")
            .args([
                "show",
                &loc.unit,
                "-p",
                "Delegate,MemoryLimit,TasksMax,CPUShares",
            ])
            .output()
            .unwrap();
        let show = String::from_utf8_lossy(&show.stdout);
        for want in [
            "Delegate=yes",
            "MemoryLimit=104857600",
            "TasksMax=50",
            "CPUShares=512",
        ] {
            assert!(show.contains(want), "{want} in {show}");
        }
        sd.stop_unit(&loc.unit, TIMEOUT).unwrap();
        assert_eq!(sd.active_state(&loc.unit).unwrap(), None);
        let _ = sleeper.wait();
        assert!(!std::path::Path::new(&format!("/sys/fs/cgroup/memory{path}")).exists());
    });
}
