//! The checklist every client goes through with shoji as its runtime, as a user would: run
//! with an exit code, `-it`, a long-running container with limits (exec, logs, pause/resume,
//! stats, update, kill), one stopped by the client; each removed and checked for leftovers.
use crate::client::{Client, Limits};
use crate::env::Driver;
use crate::observed::{mount_count, parse_cgroup_lines, Observed};

/// Exits 42 on SIGTERM (a trap: as the container's PID 1 it has no default handler).
const TRAPS_TERM: &str = "trap 'exit 42' TERM; echo hello-log; while :; do sleep 0.2; done";

pub fn exercise(client: &dyn Client, tag: &str) {
    let mounts = mount_count();
    exit_code_passes_through(client, tag);
    terminal_is_a_pty(client, tag);
    long_running(client, tag);
    stopped_by_the_client(client, tag);
    assert_eq!(mount_count(), mounts, "{tag}: mounts left in the sandbox");
}

fn exit_code_passes_through(client: &dyn Client, tag: &str) {
    let name = format!("{tag}-exit");
    let out = client.run_fg(
        &name,
        "grep Seccomp: /proc/self/status; cat /proc/self/cgroup; exit 3",
        false,
    );
    assert_eq!(out.code, 3, "{out:#?}");
    // Every client sends its default seccomp profile; shoji enforces it (filter mode 2).
    assert_seccomp_filtered(&out.stdout);
    let seen = Observed::new(&name, parse_cgroup_lines(&out.stdout));
    seen.assert_placed(client.driver());
    seen.assert_gone(client.driver());
}

fn terminal_is_a_pty(client: &dyn Client, tag: &str) {
    let name = format!("{tag}-tty");
    let out = client.run_fg(&name, "tty; cat /proc/self/cgroup; exit 7", true);
    assert_eq!(out.code, 7, "{out:#?}");
    assert!(out.stdout.contains("/dev/pts/"), "{out:#?}");
    let seen = Observed::new(&name, parse_cgroup_lines(&out.stdout));
    seen.assert_placed(client.driver());
    seen.assert_gone(client.driver());
}

/// Started detached with limits; the limits are read from the cgroup files.
fn long_running(client: &dyn Client, tag: &str) {
    let pids = client.limits_pids().then_some(30);
    let limits = Limits {
        memory: 64 << 20,
        cpu_shares: 512,
        pids,
    };
    let id = client.run_bg(&format!("{tag}-long"), &limits, TRAPS_TERM);
    let seen = observe(client, &id);
    assert_limits(&seen, &limits);

    let out = client.exec(&id, "echo exec-out; cat /proc/self/cgroup; exit 4", false);
    assert_eq!(out.code, 4, "{out:#?}");
    assert!(out.stdout.contains("exec-out"), "{out:#?}");
    let exec_cgroups = parse_cgroup_lines(&out.stdout);
    assert!(!exec_cgroups.is_empty(), "{out:#?}");
    let exec_memory = Observed::new("exec", exec_cgroups)
        .memory_path()
        .to_string();
    assert_eq!(
        exec_memory,
        seen.memory_path(),
        "exec joins the container's cgroup"
    );
    let out = client.exec(&id, "tty", true);
    assert!(out.stdout.contains("/dev/pts/"), "exec -t: {out:#?}");
    assert!(client.logs(&id).contains("hello-log"), "logs of {id}");

    client.pause(&id);
    assert_eq!(seen.file("freezer", "freezer.state"), "FROZEN");
    client.resume(&id);
    assert_eq!(seen.file("freezer", "freezer.state"), "THAWED");

    let shown = client.stats_memory_limit(&id);
    let wanted = limits.memory as f64;
    assert!(
        (shown - wanted).abs() < wanted / 100.0,
        "stats: {shown} for {wanted}"
    );

    let bigger = Limits {
        memory: 128 << 20,
        cpu_shares: 256,
        pids: pids.map(|_| 40),
    };
    if let Some(applied) = client.update(&id, &bigger) {
        assert_limits(&seen, &applied);
    }

    client.kill(&id, "SIGTERM");
    assert_eq!(client.wait(&id), 42, "the TERM trap's exit code");
    client.rm(&id);
    seen.assert_gone(client.driver());
}

/// `stop` on a PID 1 that ignores SIGTERM ends with SIGKILL: exit code 137.
fn stopped_by_the_client(client: &dyn Client, tag: &str) {
    let limits = Limits {
        memory: 32 << 20,
        cpu_shares: 1024,
        pids: None,
    };
    let id = client.run_bg(&format!("{tag}-stop"), &limits, "exec sleep 1000");
    let seen = observe(client, &id);
    client.stop(&id);
    assert_eq!(client.wait(&id), 137);
    client.rm(&id);
    seen.assert_gone(client.driver());
}

/// The running container as seen from the sandbox, checked to be where the driver puts it.
fn observe(client: &dyn Client, id: &str) -> Observed {
    let pid = client.init_pid(id);
    let mut seen = Observed::new(id, crate::support::procfs::proc_cgroup(pid));
    seen.assert_placed(client.driver());
    if client.driver() == Driver::Systemd {
        seen.assert_scope_active();
    }
    let state = client.state_dir(id);
    assert!(state.is_dir(), "{id}: no state directory at {state:?}");
    seen.state_dir = Some(state);
    seen.id = Some(id.to_string());
    seen
}

fn assert_limits(seen: &Observed, limits: &Limits) {
    let memory = seen.file("memory", "memory.limit_in_bytes");
    assert_eq!(memory, limits.memory.to_string(), "{}: memory", seen.tag);
    assert_eq!(
        seen.file("cpu", "cpu.shares"),
        limits.cpu_shares.to_string(),
        "{}: cpu.shares",
        seen.tag
    );
    if let Some(pids) = limits.pids {
        assert_eq!(
            seen.file("pids", "pids.max"),
            pids.to_string(),
            "{}",
            seen.tag
        );
    }
}

/// The process ran under a seccomp filter: `Seccomp: 2` in its /proc/self/status.
pub fn assert_seccomp_filtered(stdout: &str) {
    let mode = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Seccomp:"))
        .map(str::trim);
    assert_eq!(mode, Some("2"), "no seccomp filter: {stdout:?}");
}
