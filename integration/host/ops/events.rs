//! `events --stats` prints one stats event whose memory usage rises when the container
//! allocates (tmpfs pages count); `events` streams stats lines until the container stops and
//! reports OOM kills as `{"type":"oom"}`.

use std::process::{Child, Command, Stdio};

use super::{running, wait_until};
use crate::support::{Bundle, Runtime, Scratch, Value};

fn stats(rt: &Runtime, id: &str) -> Value {
    let out = rt.cmd(&["events", "--stats", id]).success();
    assert_eq!(out.stdout.lines().count(), 1, "one JSON line:\n{out}");
    let event = out.json();
    assert_eq!(event["type"], "stats", "{out}");
    assert_eq!(event["id"], id, "{out}");
    event
}

#[test]
fn stats_memory_usage_rises_when_the_container_allocates() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-stats");
    let c = running(&rt, &bundle, "ops-stats", "sleep 1000");
    let before = stats(&rt, &c.id);
    let data = &before["data"];
    for key in ["cpu", "memory", "pids", "blkio", "hugetlb"] {
        assert!(data.get(key).is_some(), "stats lack {key}: {before}");
    }
    assert_eq!(data["pids"]["current"], 1, "{before}");
    let used = |e: &Value| e["data"]["memory"]["usage"]["usage"].as_u64().unwrap_or(0);
    rt.cmd(&[
        "exec",
        &c.id,
        "dd",
        "if=/dev/zero",
        "of=/dev/shm/x",
        "bs=1M",
        "count=50",
    ])
    .success();
    let after = stats(&rt, &c.id);
    assert!(
        used(&after) >= used(&before) + 45 * 1024 * 1024,
        "usage {} -> {} after writing 50 MiB to tmpfs",
        used(&before),
        used(&after)
    );
}

/// A running `events` stream of the container, stdout to a file.
struct Stream {
    child: Child,
    out: std::path::PathBuf,
    _scratch: Scratch,
}

impl Stream {
    fn start(rt: &Runtime, id: &str) -> Stream {
        let scratch = Scratch::new("ops-events");
        let out = scratch.path().join("events.out");
        let child = Command::new(rt.binary())
            .arg("--root")
            .arg(rt.root())
            .args(["events", "--interval", "100ms", id])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Stream {
            child,
            out,
            _scratch: scratch,
        }
    }

    fn lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        let complete = text.rsplit_once('\n').map(|(done, _)| done).unwrap_or("");
        complete
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
            .collect()
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // Our own child, by pid; already reaped when the test waited for it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn events_streams_stats_until_the_container_stops() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-events");
    let c = running(&rt, &bundle, "ops-events", "sleep 1000");
    let mut stream = Stream::start(&rt, &c.id);
    wait_until("two stats events", || stream.lines().len() >= 2);
    for event in stream.lines() {
        assert_eq!(event["type"], "stats", "{event}");
        assert_eq!(event["id"], c.id.as_str(), "{event}");
        assert!(event["data"]["memory"].is_object(), "{event}");
    }
    c.kill("KILL").success();
    c.wait_stopped();
    let mut status = None;
    wait_until("events to exit with the container", || {
        status = stream.child.try_wait().unwrap();
        status.is_some()
    });
    assert!(status.unwrap().success(), "events exit: {status:?}");
}

#[test]
fn events_reports_an_oom_kill() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-oom");
    let limit = 32 * 1024 * 1024;
    bundle.edit(|s| {
        s["linux"]["resources"]["memory"] = serde_json::json!({"limit": limit, "swap": limit});
    });
    let c = running(&rt, &bundle, "ops-oom", "sleep 1000");
    let stream = Stream::start(&rt, &c.id);
    wait_until("the first stats event", || !stream.lines().is_empty());
    // dd's 100 MiB buffer cannot fit in 32 MiB: the kernel OOM-kills it.
    let out = rt.cmd(&[
        "exec",
        &c.id,
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=100M",
        "count=1",
    ]);
    assert_eq!(out.code, Some(137), "dd was OOM-killed:\n{out}");
    wait_until("an oom event", || {
        stream.lines().iter().any(|e| e["type"] == "oom")
    });
    let oom = stream
        .lines()
        .into_iter()
        .find(|e| e["type"] == "oom")
        .unwrap();
    assert_eq!(oom["id"], c.id.as_str(), "{oom}");
    assert_eq!(c.status(), "running", "only dd was killed");
}

/// Scripts match the line as text: the keys come in runc's order, and so do the stats.
#[test]
fn events_json_keeps_runcs_field_order() {
    let rt = Runtime::new();
    let bundle = Bundle::busybox("ops-ev-order");
    let c = running(&rt, &bundle, "ops-ev-order", "sleep 1000");
    let out = rt.cmd(&["events", "--stats", &c.id]).success();
    let line = out.stdout.trim();
    let head = format!(
        r#"{{"type":"stats","id":"{}","data":{{"cpu":{{"usage":"#,
        c.id
    );
    assert!(line.starts_with(&head), "{line}");
    let at = |key: &str| {
        line.find(&format!(r#""{key}":"#))
            .unwrap_or_else(|| panic!("no {key:?} in {line}"))
    };
    let order = ["cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt"];
    for pair in order.windows(2) {
        assert!(at(pair[0]) < at(pair[1]), "{pair:?} out of order: {line}");
    }
}
