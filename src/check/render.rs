//! The report for people (aligned columns, colour only on a terminal) and for tools (JSON,
//! schema version 1, documented in README: fields are only ever added).
use serde::Serialize;

use super::{Evidence, Finding, Report, Severity};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    schema_version: u32,
    root: &'a str,
    exit_code: i32,
    summary: Summary,
    findings: &'a [Finding],
}

#[derive(Serialize, Default)]
struct Summary {
    error: usize,
    warning: usize,
    info: usize,
    unchecked: usize,
}

fn summary(report: &Report) -> Summary {
    let mut s = Summary::default();
    for f in &report.findings {
        *match f.severity {
            Severity::Error => &mut s.error,
            Severity::Warning => &mut s.warning,
            Severity::Info => &mut s.info,
            Severity::Unchecked => &mut s.unchecked,
        } += 1;
    }
    s
}

pub fn json(report: &Report, root: &str) -> String {
    let doc = JsonReport {
        schema_version: 1,
        root,
        exit_code: report.exit_code(),
        summary: summary(report),
        findings: &report.findings,
    };
    serde_json::to_string_pretty(&doc).expect("the report serializes")
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
        Severity::Unchecked => "unchecked",
    }
}

/// ANSI colour of a severity: red errors, yellow warnings, magenta unchecked.
fn colour(s: Severity) -> Option<&'static str> {
    match s {
        Severity::Info => None,
        Severity::Warning => Some("33"),
        Severity::Error => Some("31"),
        Severity::Unchecked => Some("35"),
    }
}

fn evidence_text(e: &Evidence) -> String {
    match e {
        Evidence::File {
            path,
            line: Some(line),
        } => format!("at {path}:{line}"),
        Evidence::File { path, line: None } => format!("at {path}"),
        Evidence::Cgroup { path } => format!("cgroup {path}"),
    }
}

/// One line per finding (severity, check, message), its evidence and fix indented below the
/// message column; then a summary line.
pub fn text(report: &Report, root: &str, color: bool) -> String {
    let sev_width = report
        .findings
        .iter()
        .map(|f| severity_name(f.severity).len())
        .max()
        .unwrap_or(0);
    let check_width = report
        .findings
        .iter()
        .map(|f| f.check.len())
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(sev_width + check_width + 4);
    let mut out = String::new();
    for f in &report.findings {
        let name = format!("{:<sev_width$}", severity_name(f.severity));
        let name = match colour(f.severity) {
            Some(code) if color => format!("\x1b[{code}m{name}\x1b[0m"),
            _ => name,
        };
        out += &format!("{name}  {:<check_width$}  {}\n", f.check, f.message);
        for e in &f.evidence {
            out += &format!("{indent}{}\n", evidence_text(e));
        }
        if let Some(fix) = &f.fix {
            out += &format!("{indent}fix: {fix}\n");
        }
    }
    let s = summary(report);
    out += &format!(
        "\n{root}: {} errors, {} warnings, {} unchecked, {} notes (exit {})\n",
        s.error,
        s.warning,
        s.unchecked,
        s.info,
        report.exit_code()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            findings: vec![
                Finding::new(Severity::Info, "layout.mode", "cgroup v2")
                    .at(Evidence::file("/proc/self/mountinfo", Some(3))),
                Finding::new(Severity::Error, "driver.mismatch", "they disagree")
                    .at(Evidence::cgroup("/sys/fs/cgroup/x"))
                    .fix("/etc/containerd/config.toml:7: SystemdCgroup = true"),
            ],
        }
    }

    #[test]
    fn text_is_aligned_and_coloured_only_when_asked() {
        let plain = text(&report(), "/", false);
        let want = "\
info   layout.mode      cgroup v2
                        at /proc/self/mountinfo:3
error  driver.mismatch  they disagree
                        cgroup /sys/fs/cgroup/x
                        fix: /etc/containerd/config.toml:7: SystemdCgroup = true

/: 1 errors, 0 warnings, 0 unchecked, 1 notes (exit 1)
";
        assert_eq!(plain, want);
        assert!(!plain.contains('\x1b'));
        assert!(text(&report(), "/", true).contains("\x1b[31merror\x1b[0m"));
    }

    #[test]
    fn json_schema() {
        let v: serde_json::Value = serde_json::from_str(&json(&report(), "/fx")).unwrap();
        assert_eq!(v["schemaVersion"], 1);
        assert_eq!(v["root"], "/fx");
        assert_eq!(v["exitCode"], 1);
        assert_eq!(v["summary"]["error"], 1);
        assert_eq!(
            v["findings"][0]["evidence"][0],
            serde_json::json!({"kind": "file", "path": "/proc/self/mountinfo", "line": 3})
        );
        assert_eq!(
            v["findings"][1]["evidence"][0],
            serde_json::json!({"kind": "cgroup", "path": "/sys/fs/cgroup/x"})
        );
        assert_eq!(
            v["findings"][1]["fix"],
            "/etc/containerd/config.toml:7: SystemdCgroup = true"
        );
        assert!(v["findings"][0].get("fix").is_none());
    }
}
