//! The CRI checklist: a pod and a container with limits, as the kubelet creates them; exec
//! (exit code, same cgroup), the container's log file, UpdateContainerResources, StopContainer
//! (SIGTERM, the trap's exit code); then the container and the pod removed, leaving nothing.
use crate::cri::{container_config, pod_config, resources, Cri};
use crate::env::Driver;
use crate::observed::{mount_count, parse_cgroup_lines, Observed};
use crate::proto::Msg;
use crate::support::procfs::{self, CgroupEntry};

const TRAPS_TERM: &str = "trap 'exit 42' TERM; echo hello-log; while :; do sleep 0.2; done";
/// ContainerState CONTAINER_EXITED in the CRI's enum.
const EXITED: u64 = 2;

pub fn exercise(cri: &Cri, tag: &str) {
    let mounts = mount_count();
    let parent = match cri.driver {
        Driver::Cgroupfs => format!("/shoji-cri-{tag}"),
        Driver::Systemd => "shojicri.slice".to_string(),
    };
    let log_dir = cri.run_dir.join("pods").display().to_string();
    let pod = pod_config(tag, &log_dir, &parent);
    let pod_id = cri
        .must("RunPodSandbox", Msg::new().msg(1, pod.clone()))
        .string(1);

    let config = container_config("long", TRAPS_TERM, "long.log", resources(512, 64 << 20));
    let request = Msg::new().str(1, &pod_id).msg(2, config).msg(3, pod);
    let id = cri.must("CreateContainer", request).string(1);
    cri.must("StartContainer", Msg::new().str(1, &id));

    let seen = observe(cri, &id, &parent);
    assert_limits(&seen, 64 << 20, 512);
    let log = std::path::Path::new(&log_dir).join("long.log");
    let logged =
        procfs::wait_until(|| std::fs::read_to_string(&log).is_ok_and(|l| l.contains("hello-log")));
    assert!(logged, "{log:?} never showed the container's output");

    let update = Msg::new().str(1, &id).msg(2, resources(256, 128 << 20));
    cri.must("UpdateContainerResources", update);
    assert_limits(&seen, 128 << 20, 256);

    cri.must("StopContainer", Msg::new().str(1, &id).varint(2, 10));
    let status = cri.must("ContainerStatus", Msg::new().str(1, &id)).msg(1);
    assert_eq!(status.varint(3), EXITED, "container state");
    assert_eq!(status.varint(7), 42, "the TERM trap's exit code");
    cri.must("RemoveContainer", Msg::new().str(1, &id));
    seen.assert_gone(cri.driver);

    // The pause container: the same hierarchies, at the path the driver gives the pod.
    let pod_seen = pod_observed(cri, &seen, &pod_id, &parent);
    cri.must("StopPodSandbox", Msg::new().str(1, &pod_id));
    cri.must("RemovePodSandbox", Msg::new().str(1, &pod_id));
    pod_seen.assert_gone(cri.driver);
    if cri.driver == Driver::Cgroupfs {
        remove_parent(&seen, &parent);
    }
    assert_eq!(mount_count(), mounts, "{tag}: mounts left in the sandbox");
}

/// The container's cgroups as its exec sees them; checked to be under the pod's parent.
fn observe(cri: &Cri, id: &str, parent: &str) -> Observed {
    let exec = Msg::new()
        .str(1, id)
        .str(2, "sh")
        .str(2, "-c")
        .str(
            2,
            "echo exec-out; grep Seccomp: /proc/self/status; cat /proc/self/cgroup; exit 4",
        )
        .varint(3, 30);
    let out = cri.must("ExecSync", exec);
    assert_eq!(out.varint(3), 4, "exec exit code");
    let stdout = out.string(1);
    assert!(stdout.contains("exec-out"), "exec stdout {stdout:?}");
    // The container asked for RuntimeDefault: the exec'd process runs under its filter.
    crate::scenario::assert_seccomp_filtered(&stdout);
    let mut seen = Observed::new(id, parse_cgroup_lines(&stdout));
    seen.assert_placed(cri.driver);
    let under = match cri.driver {
        Driver::Cgroupfs => format!("{parent}/"),
        Driver::Systemd => format!("/{parent}/cri-containerd-{id}.scope"),
    };
    assert!(
        seen.memory_path().starts_with(&under),
        "{}",
        seen.memory_path()
    );
    if cri.driver == Driver::Systemd {
        seen.assert_scope_active();
    }
    let state = cri.state_dir(id);
    assert!(state.is_dir(), "{id}: no state directory at {state:?}");
    seen.state_dir = Some(state);
    seen.id = Some(id.to_string());
    seen
}

fn pod_observed(cri: &Cri, container: &Observed, pod_id: &str, parent: &str) -> Observed {
    let path = match cri.driver {
        Driver::Cgroupfs => format!("{parent}/{pod_id}"),
        Driver::Systemd => format!("/{parent}/cri-containerd-{pod_id}.scope"),
    };
    let cgroups = container
        .cgroups
        .iter()
        .map(|e| CgroupEntry {
            controllers: e.controllers.clone(),
            path: path.clone(),
        })
        .collect();
    let mut seen = Observed::new(pod_id, cgroups);
    let memory = procfs::cgroup_dir("memory", &path).unwrap();
    assert!(memory.is_dir(), "the pod's cgroup {memory:?}");
    seen.state_dir = Some(cri.state_dir(pod_id));
    seen.id = Some(pod_id.to_string());
    seen
}

/// The kubelet, not the runtime, owns the pod's parent cgroup: once empty, it removes it.
fn remove_parent(container: &Observed, parent: &str) {
    for entry in &container.cgroups {
        let dir = procfs::cgroup_dir(&entry.controllers, parent).unwrap();
        if dir.is_dir() {
            std::fs::remove_dir(&dir).unwrap_or_else(|e| panic!("rmdir {dir:?}: {e}"));
        }
    }
}

fn assert_limits(seen: &Observed, memory: u64, shares: u64) {
    let limit = seen.file("memory", "memory.limit_in_bytes");
    assert_eq!(limit, memory.to_string(), "memory");
    assert_eq!(
        seen.file("cpu", "cpu.shares"),
        shares.to_string(),
        "cpu.shares"
    );
}
