//! create → start → stopped → delete, `run` with exit codes, `run --detach`, kill.

use crate::support::{Bundle, Container, Runtime};

#[test]
fn create_start_stop_delete() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("lifecycle");
    bundle.args(&["sh", "-c", "read x < /dev/zero"]);
    let c = Container::create(&rt, &bundle, "lifecycle");
    let state = c.state();
    assert_eq!(state["status"], "created", "{state}");
    assert!(c.pid > 0);
    assert!(rt.state_dir(&c.id).is_dir());
    c.start().success();
    assert_eq!(c.status(), "running");
    c.kill("KILL").success();
    c.wait_stopped();
    c.delete().success();
}
