//! OCI hooks run in the runtime's namespaces with the container state on stdin; a failing
//! prestart aborts create and leaves nothing behind; poststop failures are only warnings.

use std::path::Path;

use crate::support::procfs::read;
use crate::support::{
    assert_no_leftovers, create_must_fail, json, unique_name, Bundle, Container, Runtime, Value,
};

/// A hook that appends its name to `log` and saves its stdin (the state) to `<dir>/<name>.json`.
fn recording_hook(dir: &Path, name: &str) -> Value {
    let dir = dir.display();
    json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", format!("cat > {dir}/{name}.json; echo {name} >> {dir}/hooks.log")]
    })
}

fn hook_state(dir: &Path, name: &str) -> Value {
    serde_json::from_str(&read(dir.join(format!("{name}.json"))))
        .expect("hook stdin is the state JSON")
}

#[test]
fn hooks_run_in_order_with_state_on_stdin() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("hooks");
    bundle.args(&["sleep", "1000"]);
    let dir = bundle.path().to_owned();
    bundle.edit(|s| {
        s["hooks"] = json!({
            "prestart": [recording_hook(&dir, "prestart")],
            "createRuntime": [recording_hook(&dir, "createRuntime")],
            "poststart": [recording_hook(&dir, "poststart")],
            "poststop": [recording_hook(&dir, "poststop")]
        })
    });
    let c = Container::create(&rt, &bundle, "hooks");
    assert_eq!(read(dir.join("hooks.log")), "prestart\ncreateRuntime\n");
    for name in ["prestart", "createRuntime"] {
        let state = hook_state(&dir, name);
        assert_eq!(state["id"], c.id.as_str(), "{name}: {state}");
        assert_eq!(state["pid"], c.pid, "{name}: {state}");
        assert_eq!(state["bundle"], bundle.path_str(), "{name}: {state}");
        // runtime-tools' hooks_stdin wants "created" for prestart, as crun says for both
        // (runc says "creating").
        assert_eq!(state["status"], "created", "{name}: {state}");
        assert!(state["ociVersion"].is_string());
    }
    c.start().success();
    assert_eq!(
        read(dir.join("hooks.log")),
        "prestart\ncreateRuntime\npoststart\n"
    );
    assert_eq!(hook_state(&dir, "poststart")["pid"], c.pid);
    let id = c.id.clone();
    c.kill("KILL").success();
    c.wait_stopped();
    c.delete().success();
    assert_eq!(
        read(dir.join("hooks.log")),
        "prestart\ncreateRuntime\npoststart\npoststop\n"
    );
    let state = hook_state(&dir, "poststop");
    assert_eq!(state["id"], id.as_str());
    assert_eq!(state["status"], "stopped");
}

#[test]
fn failing_prestart_aborts_create() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("prestart-fail");
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| {
        s["hooks"] = json!({ "prestart": [{ "path": "/bin/false", "args": ["false"] }] })
    });
    let id = unique_name("prestart-fail");
    create_must_fail(&rt, bundle.path_str(), &id).failure();
    assert_no_leftovers(&rt, &id, &bundle);
}

#[test]
fn hook_timeout_is_fatal() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("hook-timeout");
    bundle.args(&["sleep", "1000"]);
    bundle.edit(|s| {
        s["hooks"] = json!({ "createRuntime": [{ "path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1 }] })
    });
    let id = unique_name("hook-timeout");
    create_must_fail(&rt, bundle.path_str(), &id).failure();
    assert_no_leftovers(&rt, &id, &bundle);
}

#[test]
fn failing_poststop_does_not_block_delete() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("poststop-fail");
    bundle.args(&["true"]);
    bundle.edit(|s| {
        s["hooks"] = json!({ "poststop": [{ "path": "/bin/false", "args": ["false"] }] })
    });
    let c = Container::create(&rt, &bundle, "poststop-fail");
    c.start().success();
    c.wait_stopped();
    c.delete().success();
}

/// The hooks that run in the container, as runc runs them: createContainer from the root
/// directory (before the root changes), and both, without an `env` of their own, with the
/// container process's environment (runc's init has made it its own by then).
#[test]
fn container_hooks_get_runcs_cwd_and_environment() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("hooks-in-ctr");
    bundle.args(&["sleep", "1000"]);
    let dir = bundle.path().display().to_string();
    bundle.edit(|s| {
        s["process"]["env"] = json!(["PATH=/bin", "TERM=xterm", "FROM_PROCESS=yes"]);
        s["hooks"] = json!({
            "createContainer": [{
                "path": "/bin/sh",
                "args": ["sh", "-c", format!("pwd > {dir}/cc.cwd; env > {dir}/cc.env")]
            }],
            "startContainer": [{
                "path": "/bin/sh",
                "args": ["sh", "-c", "env > /dev/shm/sc.env"]
            }]
        })
    });
    let c = Container::create(&rt, &bundle, "hooks-in-ctr");
    let rootfs = std::fs::canonicalize(bundle.rootfs()).unwrap();
    assert_eq!(
        read(bundle.path().join("cc.cwd")).trim(),
        rootfs.to_str().unwrap()
    );
    let env = read(bundle.path().join("cc.env"));
    assert!(
        env.lines().any(|l| l == "FROM_PROCESS=yes"),
        "createContainer env:\n{env}"
    );
    c.start().success();
    let out = rt.cmd(&["exec", &c.id, "cat", "/dev/shm/sc.env"]).success();
    assert!(
        out.stdout.lines().any(|l| l == "FROM_PROCESS=yes"),
        "startContainer env:\n{out}"
    );
}
