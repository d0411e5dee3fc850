//! Records the git commit being built as `SHOJI_COMMIT` for `shoji --version` (runc prints its
//! commit, and dockerd shows it in `docker info`). An environment value wins (for packagers
//! building from a tarball); with neither, the version says "unknown".
//!
//! Also lays out the `shoji` binary's functions in the order link/hot-symbols.txt gives (see
//! `hot_functions_first`).
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    hot_functions_first();
    sealing_entry_point();
    println!("cargo:rerun-if-env-changed=SHOJI_COMMIT");
    let commit = std::env::var("SHOJI_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SHOJI_COMMIT={commit}");
    // Rebuild when HEAD moves: the HEAD file, and the branch file it points to.
    for name in ["HEAD", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", name]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &branch]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// Every command pays a page fault for each 64 KiB window of the binary it executes (issue 11:
/// a fault costs microseconds on these hosts, and resident windows are most of the peak RSS).
/// The functions a container's life executes, as link/profile.sh measured them, go first and
/// together. Only where the toolchain links with lld (rustc's default for this target); a
/// symbol the list names that no longer exists is skipped, so a stale list costs speed, never
/// the build.
fn hot_functions_first() {
    let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("link/hot-symbols.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-linux-gnu" && order.exists() {
        let arg = format!("-Wl,--symbol-ordering-file={}", order.display());
        println!("cargo:rustc-link-arg-bin=shoji={arg}");
        println!("cargo:rustc-link-arg-bin=shoji=-Wl,--no-warn-symbol-ordering");
    }
}

/// `create`, `run` and `exec` re-execute from the binary's read-only copy before the C library
/// starts: the entry point is src/exe_seal/entry.rs's, which then jumps to glibc's `_start`.
fn sealing_entry_point() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("x86_64-") && target.ends_with("-linux-gnu") {
        println!("cargo:rustc-link-arg-bin=shoji=-Wl,--entry=shoji_entry");
    }
}
