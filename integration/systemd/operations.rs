//! Later commands on a container made with `--systemd-cgroup`, none of them given the flag
//! again (the driver comes from the state): exec joins the scope, update changes the unit and
//! the files, pause and resume freeze it, `delete --force` stops a running one.
use crate::driver::{assert_gone, assert_shows, read};
use crate::in_sandbox;
use crate::support::{json, Bundle, Container, Runtime};

const UNIT: &str = "shoji-test-ops.scope";
const CGROUP: &str = "/system.slice/shoji-test-ops.scope";

/// The path of `hierarchy` in a /proc/PID/cgroup text.
fn cgroup_line<'a>(text: &'a str, hierarchy: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
        ctrls.split(',').any(|c| c == hierarchy).then_some(path)
    })
}

#[test]
fn exec_update_pause_and_force_delete() {
    in_sandbox("operations::exec_update_pause_and_force_delete", || {
        let rt = Runtime::new();
        let b = Bundle::busybox("ops");
        b.args(&["sleep", "1000"]).edit(|s| {
            s["linux"]["cgroupsPath"] = json!("system.slice:shoji-test:ops");
            s["linux"]["resources"]["memory"] = json!({"limit": 104857600});
        });
        let c = Container::create_with(&rt, &b, "ops", &["--systemd-cgroup"]);
        c.start().success();
        let exec = rt
            .cmd(&["exec", &c.id, "cat", "/proc/self/cgroup"])
            .success();
        for h in ["name=systemd", "memory", "pids", "freezer", "cpuset"] {
            assert_eq!(
                cgroup_line(&exec.stdout, h),
                Some(CGROUP),
                "{h} of the exec'd process:\n{exec}"
            );
        }
        rt.cmd(&[
            "update",
            "--memory",
            "209715200",
            "--pids-limit",
            "40",
            &c.id,
        ])
        .success();
        assert_eq!(
            read(&format!(
                "/sys/fs/cgroup/memory{CGROUP}/memory.limit_in_bytes"
            )),
            "209715200"
        );
        assert_eq!(read(&format!("/sys/fs/cgroup/pids{CGROUP}/pids.max")), "40");
        assert_shows(UNIT, &["MemoryLimit=209715200", "TasksMax=40"]);
        rt.cmd(&["pause", &c.id]).success();
        assert_eq!(c.status(), "paused");
        assert_eq!(
            read(&format!("/sys/fs/cgroup/freezer{CGROUP}/freezer.state")),
            "FROZEN"
        );
        rt.cmd(&["resume", &c.id]).success();
        assert_eq!(c.status(), "running");
        // The guard runs `delete --force` on the running container and checks its cgroups.
        drop(c);
        assert_gone(UNIT, CGROUP);
    });
}
