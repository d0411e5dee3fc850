//! Logging: `--log FILE` (appended), `--log-format text|json`, `--debug`.
//!
//! The JSON line is runc's, `{"level":"error","msg":"…","time":"RFC3339"}`, because containerd
//! reads `msg` at level `error` from the log file when a runtime command fails; the formatter of
//! tracing-subscriber writes `"ERROR"` and `"message"`, so this module has its own.
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};

use crate::cli::GlobalArgs;

static TO_STDERR: AtomicBool = AtomicBool::new(true);
/// Set in the container's children once they closed the runtime's fds, the log file's among them.
static FILE_CLOSED: AtomicBool = AtomicBool::new(false);

/// In a container's child, before it closes the runtime's fds: log lines must not go to the
/// number the `--log` file had (a file of the container may get it next). Its errors reach
/// the parent over the sync channel instead. Logging to stderr goes on.
pub fn stop_file_logging() {
    FILE_CLOSED.store(true, Ordering::Relaxed);
}

/// Whether log lines already go to stderr (no `--log`), so main need not print the error again.
pub fn logs_to_stderr() -> bool {
    TO_STDERR.load(Ordering::Relaxed)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

struct LineLayer {
    out: Mutex<Box<dyn Write + Send>>,
    format: LogFormat,
    max: Level,
}

#[derive(Default)]
struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for LineLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: LayerContext<'_, S>) {
        if *event.metadata().level() > self.max {
            return;
        }
        if FILE_CLOSED.load(Ordering::Relaxed) && !logs_to_stderr() {
            return;
        }
        let mut msg = MessageVisitor::default();
        event.record(&mut msg);
        let line = render(
            self.format,
            event.metadata().level(),
            &msg.0,
            &now_rfc3339(),
        );
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(line.as_bytes());
        }
    }
}

/// One log line; pure so its shape is tested.
pub fn render(format: LogFormat, level: &Level, msg: &str, time: &str) -> String {
    // logrus (runc) spells the level "warning", and clients match on that.
    let level = match *level {
        Level::WARN => "warning".to_string(),
        _ => level.as_str().to_ascii_lowercase(),
    };
    match format {
        LogFormat::Json => {
            let v = serde_json::json!({"level": level, "msg": msg, "time": time});
            format!("{v}\n")
        }
        LogFormat::Text => format!("time=\"{time}\" level={level} msg={msg:?}\n"),
    }
}

/// Current UTC time as RFC 3339 with nanoseconds, as runc's logrus writes it.
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(now.as_secs() as i64, now.subsec_nanos())
}

/// Seconds since the epoch → RFC 3339 UTC (the civil-from-days algorithm).
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Go's RFC3339Nano, which runc's state and list print: trailing zeros of the fraction go.
    let frac = format!(".{nanos:09}");
    let frac = frac.trim_end_matches('0').trim_end_matches('.');
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Install the subscriber for this command.
pub fn init(global: &GlobalArgs) -> Result<()> {
    let out: Box<dyn Write + Send> = match &global.log {
        Some(path) if !path.as_os_str().is_empty() => {
            TO_STDERR.store(false, Ordering::Relaxed);
            Box::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening log file {path:?}"))?,
            )
        }
        _ => Box::new(std::io::stderr()),
    };
    let max = if global.debug {
        Level::DEBUG
    } else {
        Level::WARN
    };
    let layer = LineLayer {
        out: Mutex::new(out),
        format: global.log_format,
        max,
    };
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).context("installing the logger")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_is_runcs_shape() {
        let line = render(LogFormat::Json, &Level::ERROR, "container not running", "T");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "container not running");
        assert_eq!(v["time"], "T");
        assert!(line.ends_with('\n'));
        let warn = render(LogFormat::Text, &Level::WARN, "w", "T");
        assert_eq!(warn, "time=\"T\" level=warning msg=\"w\"\n");
    }

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000, 5), "2026-11-18T11:06:40.000000005Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00Z");
    }
}
