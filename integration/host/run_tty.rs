//! `run` in the foreground with `terminal: true` and no `--console-socket`: the runtime relays
//! its own terminal to the container's pty, as runc does. script(1) plays the user's terminal.

use std::process::Command;

use crate::support::{json, unique_name, Bundle, Runtime};

#[test]
fn foreground_run_relays_the_callers_terminal() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("runtty");
    bundle.edit(|s| {
        s["process"]["terminal"] = json!(true);
        s["process"]["args"] = json!(["sh", "-c", "tty; read line; echo got-$line; exit 3"]);
    });
    let id = unique_name("runtty");
    let cmdline = format!(
        "{} --root {} run --bundle {} {id}",
        rt.binary().display(),
        rt.root().display(),
        bundle.path_str()
    );
    let out = Command::new("script")
        .args(["-qec", &cmdline, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"hello\n")?;
            child.wait_with_output()
        })
        .expect("script(1) from util-linux runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("/dev/pts/0"),
        "the process has no pty: {text:?}"
    );
    assert!(
        text.contains("got-hello"),
        "typed input did not arrive: {text:?}"
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "exit status not propagated: {text:?}"
    );
    assert!(!rt.state_dir(&id).exists(), "run left its state dir");
}
