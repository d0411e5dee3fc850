//! exec joins the container: pid, mount, net, ipc, uts and cgroup namespaces, the cgroup, the
//! root and cwd; its exit status is the process's (128+signal when killed).

use std::os::unix::fs::MetadataExt;

use super::running;
use crate::support::procfs::{ns_link, proc_cgroup};
use crate::support::{Bundle, Runtime, Scratch};

/// `exec --detach --pid-file` of a long sleep: the exec'd process's host pid.
fn exec_sleep(rt: &Runtime, id: &str, extra: &[&str]) -> i32 {
    let scratch = Scratch::new("execpid");
    let pid_file = scratch.path().join("pid");
    let pid_file = pid_file.to_str().unwrap();
    let mut args = vec!["exec", "--detach", "--pid-file", pid_file];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[id, "sleep", "1000"]);
    rt.cmd(&args).success();
    let text = std::fs::read_to_string(pid_file).expect("pid file");
    text.trim().parse().expect("pid in pid file")
}

#[test]
fn exec_joins_the_containers_namespaces_and_cgroup() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-ns");
    bundle.edit(|s| {
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.push(serde_json::json!({"type": "cgroup"}));
    });
    let c = running(&rt, &bundle, "ops-exec-ns", "sleep 1000");
    let pid = exec_sleep(&rt, &c.id, &[]);
    for kind in ["pid", "mnt", "net", "ipc", "uts", "cgroup"] {
        let host = ns_link(std::process::id() as i32, kind);
        let init = ns_link(c.pid, kind);
        assert_ne!(init, host, "the container has its own {kind} namespace");
        assert_eq!(
            ns_link(pid, kind),
            init,
            "exec'd process's {kind} namespace"
        );
    }
    assert_eq!(
        proc_cgroup(pid),
        proc_cgroup(c.pid),
        "exec'd process's cgroups"
    );
    // Its root is the container's rootfs (same inode as the bundle's), and so is its cwd
    // "/"; what runs is the container's busybox, not the runtime's binary.
    let inode = |p: std::path::PathBuf| {
        let m = std::fs::metadata(&p).unwrap_or_else(|e| panic!("stat {p:?}: {e}"));
        (m.dev(), m.ino())
    };
    let proc_path = |p: i32, what: &str| std::path::PathBuf::from(format!("/proc/{p}/{what}"));
    let rootfs = inode(bundle.rootfs());
    assert_ne!(rootfs, inode("/".into()));
    assert_eq!(inode(proc_path(c.pid, "root")), rootfs, "init's root");
    assert_eq!(
        inode(proc_path(pid, "root")),
        rootfs,
        "exec'd process's root"
    );
    assert_eq!(inode(proc_path(pid, "cwd")), rootfs, "exec'd process's cwd");
    assert_eq!(
        inode(proc_path(pid, "exe")),
        inode(bundle.rootfs().join("bin/busybox"))
    );
}

#[test]
fn exec_sees_the_containers_pid_view_and_session() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-view");
    let c = running(&rt, &bundle, "ops-exec-view", "sleep 1000");
    // pid 1 inside is the init; the exec'd shell leads its own session, as runc's does.
    let out = rt
        .cmd(&[
            "exec",
            &c.id,
            "sh",
            "-c",
            "cat /proc/1/comm; cut -d' ' -f1,6 /proc/self/stat",
        ])
        .success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "sleep", "{out}");
    let (pid, sid) = lines[1].split_once(' ').unwrap();
    assert_eq!(pid, sid, "exec'd process is a session leader:\n{out}");
}

#[test]
fn exec_takes_cwd_env_and_user_flags() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-flags");
    let c = running(&rt, &bundle, "ops-exec-flags", "sleep 1000");
    let out = rt
        .cmd(&[
            "exec",
            "--cwd",
            "/tmp",
            "-e",
            "OPS=on",
            "-e",
            "TERM=dumb",
            "--user",
            "1000:1001",
            "-g",
            "7",
            &c.id,
            "sh",
            "-c",
            "pwd; echo $OPS $TERM; id -u; id -g; id -G",
        ])
        .success();
    // -e TERM replaces the spec's TERM=xterm.
    assert_eq!(out.stdout, "/tmp\non dumb\n1000\n1001\n1001 7\n", "{out}");
}

#[test]
fn exec_exit_status_is_the_processes() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-exit");
    let c = running(&rt, &bundle, "ops-exec-exit", "sleep 1000");
    rt.cmd(&["exec", &c.id, "sh", "-c", "exit 7"]).exit(7);
    rt.cmd(&["exec", &c.id, "true"]).success();
    // Killed by SIGKILL: 128 + 9.
    rt.cmd(&["exec", &c.id, "sh", "-c", "kill -9 $$"]).exit(137);
    rt.cmd(&["exec", &c.id, "sh", "-c", "kill -TERM $$"])
        .exit(143);
    // The container itself is untouched by its exec'd processes ending.
    assert_eq!(c.status(), "running");
}

#[test]
fn exec_process_json() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-pjson");
    let c = running(&rt, &bundle, "ops-exec-pjson", "sleep 1000");
    let process = bundle.path().join("process.json");
    let body = serde_json::json!({
        "terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/etc",
        "args": ["sh", "-c", "pwd; echo $FROM; exit 3"], "env": ["FROM=json", "PATH=/bin"]
    });
    std::fs::write(&process, body.to_string()).unwrap();
    let out = rt
        .cmd(&["exec", "--process", process.to_str().unwrap(), &c.id])
        .exit(3);
    assert_eq!(out.stdout, "/etc\njson\n", "{out}");
}

#[test]
fn exec_into_a_created_container_cannot_reach_the_runtime_binary() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-created");
    bundle.args(&["sleep", "1000"]);
    let c = crate::support::Container::create(&rt, &bundle, "ops-exec-created");
    rt.cmd(&["exec", &c.id, "true"]).success();
    // Until start, pid 1 is the runtime waiting on exec.fifo; it is non-dumpable, so the
    // container (no CAP_SYS_PTRACE) cannot open its /proc/1/exe (CVE-2019-5736).
    let out = rt.cmd(&["exec", &c.id, "readlink", "/proc/1/exe"]);
    assert_eq!(out.code, Some(1), "readlink /proc/1/exe must fail:\n{out}");
    assert!(out.stdout.is_empty(), "{out}");
    assert_eq!(c.status(), "created");
}

#[test]
fn exec_cap_and_no_new_privs_flags() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-caps");
    bundle.edit(|s| s["process"]["noNewPrivileges"] = serde_json::json!(false));
    let c = running(&rt, &bundle, "ops-exec-caps", "sleep 1000");
    let status = |extra: &[&str]| {
        let mut args = vec!["exec"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[&c.id, "cat", "/proc/self/status"]);
        let out = rt.cmd(&args).success();
        let field = |name: &str| {
            let line = out.stdout.lines().find(|l| l.starts_with(name)).unwrap();
            line.split_whitespace().nth(1).unwrap().to_owned()
        };
        (
            u64::from_str_radix(&field("CapEff:"), 16).unwrap(),
            field("NoNewPrivs:"),
        )
    };
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    let (caps, nnp) = status(&[]);
    assert_eq!(caps & CAP_SYS_ADMIN, 0, "not in the default set");
    assert_eq!(nnp, "0");
    let (caps, nnp) = status(&["--cap", "CAP_SYS_ADMIN", "--no-new-privs"]);
    assert_ne!(caps & CAP_SYS_ADMIN, 0, "--cap adds to the effective set");
    assert_eq!(nnp, "1");
}

#[test]
fn exec_cgroup_flag_joins_a_sub_cgroup() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-subcg");
    let c = running(&rt, &bundle, "ops-exec-subcg", "sleep 1000");
    // runc's --cgroup needs the sub-cgroup to exist in every hierarchy; make it in each
    // container directory (removed again when the container is deleted).
    let init_dirs: Vec<std::path::PathBuf> = c.cgroup_dirs().to_vec();
    for dir in &init_dirs {
        std::fs::create_dir(dir.join("sub")).unwrap();
    }
    let pid = exec_sleep(&rt, &c.id, &["--cgroup", "sub"]);
    let init = proc_cgroup(c.pid);
    let mut checked = 0;
    for (mine, theirs) in proc_cgroup(pid).iter().zip(&init) {
        if init_dirs
            .iter()
            .any(|d| d.ends_with(theirs.path.trim_start_matches('/')))
        {
            assert_eq!(
                mine.path,
                format!("{}/sub", theirs.path),
                "{}",
                mine.controllers
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        init_dirs.len(),
        "every container hierarchy: {init:?}"
    );
    // The guard's delete must remove the sub-cgroups with the container's.
    rt.cmd(&["kill", &c.id, "KILL"]).success();
}

/// `--cgroup /` (and `controller:/`) names the container's own cgroup, as runc joins the
/// sub-path to the container's path; nothing is made.
#[test]
fn exec_cgroup_root_is_the_containers_own() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-cgroot");
    let c = running(&rt, &bundle, "ops-exec-cgroot", "sleep 1000");
    for flag in ["/", "memory:/"] {
        let pid = exec_sleep(&rt, &c.id, &["--cgroup", flag]);
        assert_eq!(proc_cgroup(pid), proc_cgroup(c.pid), "--cgroup {flag}");
    }
    for dir in c.cgroup_dirs() {
        let subdirs = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir())
            .count();
        assert_eq!(subdirs, 0, "{dir:?} got a sub-cgroup");
    }
}

#[test]
fn exec_joins_a_user_namespace_first() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-exec-userns");
    bundle.edit(|s| {
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.push(serde_json::json!({"type": "user"}));
        let map = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        s["linux"]["uidMappings"] = map.clone();
        s["linux"]["gidMappings"] = map;
    });
    let c = running(&rt, &bundle, "ops-exec-userns", "sleep 1000");
    let pid = exec_sleep(&rt, &c.id, &[]);
    for kind in ["user", "pid", "mnt", "net", "ipc", "uts"] {
        assert_eq!(ns_link(pid, kind), ns_link(c.pid, kind), "{kind} namespace");
    }
    assert_ne!(
        ns_link(pid, "user"),
        ns_link(std::process::id() as i32, "user")
    );
    // Root inside is host uid 100000 outside, for the exec'd process as for the init.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(uid.split_whitespace().nth(1), Some("100000"), "{uid}");
    let out = rt.cmd(&["exec", &c.id, "id", "-u"]).success();
    assert_eq!(out.stdout, "0\n", "{out}");
}
