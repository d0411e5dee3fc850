//! `--log FILE --log-format json`: containerd reads runc's JSON log lines after a failure, so
//! the shape is fixed: `{"level":"error","msg":"…","time":"…"}`.

use crate::support::{create_must_fail_with, unique_name, Bundle, Runtime, Value};

#[test]
fn json_log_line_on_failed_create() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("jsonlog");
    let log = bundle.path().join("runtime.log");
    let missing = bundle.path().join("no-bundle-here");
    let id = unique_name("jsonlog");
    let global = ["--log", log.to_str().unwrap(), "--log-format", "json"];
    create_must_fail_with(&rt, missing.to_str().unwrap(), &id, &global).exit(1);
    let text = std::fs::read_to_string(&log).expect("log file written");
    let errors: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v| v["level"] == "error")
        .collect();
    assert!(!errors.is_empty(), "no error line in log:\n{text}");
    let line = &errors[0];
    let msg = line["msg"].as_str().expect("msg is a string");
    assert!(
        msg.contains("no-bundle-here"),
        "msg does not name the bundle: {msg}"
    );
    let time = line["time"].as_str().expect("time is a string");
    assert!(
        time.len() >= 20 && time.as_bytes()[10] == b'T',
        "time {time:?} is not RFC 3339"
    );
}

#[test]
fn text_log_is_appended() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("textlog");
    let log = bundle.path().join("runtime.log");
    std::fs::write(&log, "previous line\n").unwrap();
    let id = unique_name("textlog");
    let missing = bundle.path().join("no-bundle-here");
    let global = ["--log", log.to_str().unwrap()];
    create_must_fail_with(&rt, missing.to_str().unwrap(), &id, &global).exit(1);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.starts_with("previous line\n"),
        "log was truncated:\n{text}"
    );
    assert!(text.contains("no-bundle-here"), "error not logged:\n{text}");
}

/// `--debug` makes every command log its steps (to `--log` here), not only create and run:
/// exec says which namespaces it joins, the process it started; kill and delete say theirs.
#[test]
fn debug_logs_the_steps_of_exec_kill_and_delete() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("debuglog");
    bundle.args(&["sleep", "1000"]);
    let log = bundle.path().join("debug.log");
    let global = ["--debug", "--log", log.to_str().unwrap()];
    let c = crate::support::Container::create(&rt, &bundle, "debuglog");
    c.start().success();
    let debug_lines = |cmd: &[&str]| {
        let _ = std::fs::remove_file(&log);
        rt.cmd_global(&global, cmd).success();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines()
            .filter(|l| l.contains("level=debug"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let exec = debug_lines(&["exec", &c.id, "true"]);
    assert!(exec.len() >= 3, "exec logged too few steps: {exec:#?}");
    let kill = debug_lines(&["kill", &c.id, "KILL"]);
    assert!(kill.len() >= 2, "kill logged too few steps: {kill:#?}");
    c.wait_stopped();
    let delete = debug_lines(&["delete", &c.id]);
    assert!(
        delete.len() >= 2,
        "delete logged too few steps: {delete:#?}"
    );
}
