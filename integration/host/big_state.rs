//! What a container's state may hold (issue 8, item 10): annotations up to at least 4 MiB (the
//! state the hooks see carries them across the sync socket; Kubernetes alone allows 256 KiB),
//! and ids the kernel treats specially (a leading `.` is reserved for keyring names).
use crate::support::{json, unique_name, Bundle, Container, Runtime};

#[test]
fn annotations_of_256k_and_4m_create_start_and_state() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("bigstate");
    bundle.args(&["sh", "-c", "echo started > /dev/null"]);
    for size in [256 << 10, 4 << 20] {
        let value = "a".repeat(size);
        bundle.edit(|s| s["annotations"] = json!({ "io.shoji.test/big": value }));
        let c = Container::create(&rt, &bundle, "bigstate");
        let shown = c.state()["annotations"]["io.shoji.test/big"]
            .as_str()
            .map(str::len);
        assert_eq!(shown, Some(size), "state's annotation");
        c.start().success();
        c.wait_stopped();
        c.delete().success();
    }
}

#[test]
fn id_starting_with_a_dot_runs() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("dotid");
    bundle.args(&["true"]);
    let id = format!(".{}", unique_name("dotid"));
    rt.cmd(&["create", "--bundle", bundle.path_str(), &id])
        .success();
    let c = Container::adopt(&rt, &id);
    c.start().success();
    c.wait_stopped();
    assert_eq!(c.state()["id"], json!(id));
    c.delete().success();
}
