//! Who may start a created container, and what `state` says (issue 8, item 9). The exec FIFO is
//! the start trigger: only the container's owner may write it, even when others can traverse
//! `--root` (an admin-made /run/<runtime> often is 0711 or 0755), and `state` says `created`
//! only while the init really waits on it — never once the container's process runs.
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::procfs::{read, wait_until};
use crate::support::{Bundle, Container, Runtime};

fn sleeping(name: &str) -> Bundle {
    let bundle = Bundle::busybox(name);
    bundle.args(&["sleep", "1000"]);
    bundle
}

/// The container's process runs: the init has exec'd `sleep`.
fn runs_sleep(pid: i32) -> bool {
    read(format!("/proc/{pid}/cmdline")).starts_with("sleep")
}

#[test]
fn nobody_cannot_start_a_created_container() {
    let rt = Runtime::new();
    let bundle = sleeping("trigger-nobody");
    let c = Container::create(&rt, &bundle, "trigger-nobody");
    std::fs::set_permissions(rt.root(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let fifo = rt.state_dir(&c.id).join("exec.fifo");
    let write = format!("printf 0 > {}", fifo.display());
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
            &write,
        ])
        .output()
        .expect("setpriv");
    assert!(!out.status.success(), "user nobody wrote the exec fifo");
    assert!(!runs_sleep(c.pid), "the container started for user nobody");
    assert_eq!(c.status(), "created");
    c.start().success();
    assert!(runs_sleep(c.pid), "start did not run the process");
    assert_eq!(c.status(), "running");
}

/// The FIFO written by someone other than `start` (the owner, by hand): the process runs while
/// the FIFO file still exists, and `state` must say so.
#[test]
fn state_is_running_once_the_process_runs_without_start() {
    let rt = Runtime::new();
    let bundle = sleeping("trigger-bypass");
    let c = Container::create(&rt, &bundle, "trigger-bypass");
    let fifo = rt.state_dir(&c.id).join("exec.fifo");
    std::fs::write(&fifo, "0").expect("write the exec fifo");
    assert!(wait_until(|| runs_sleep(c.pid)), "the process never ran");
    assert_eq!(c.status(), "running");
}
