//! The busybox root filesystem every guest bundle unpacks: one cpio archive in the share, so a
//! bundle costs the guest one read and one process (`cpio -id`) instead of hundreds of 9p
//! round trips or ~400 forked `ln -s`, each slow under TCG.
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::kernel::run_capture;
use crate::newc::Archive;

const BUSYBOX: &str = "/bin/busybox";

/// Writes the archive at `out`: /bin/busybox, a link per applet, the mount points, and a
/// minimal /etc/passwd and /etc/group.
pub fn write_template(out: &Path) -> Result<()> {
    let busybox = fs::read(BUSYBOX).with_context(|| format!("reading {BUSYBOX:?}"))?;
    let mut a = Archive::default();
    for dir in ["bin", "proc", "sys", "dev", "tmp", "etc"] {
        a.entry(dir, 0o040755, &[], (0, 0));
    }
    a.entry("bin/busybox", 0o100755, &busybox, (0, 0));
    let applets = run_capture(Command::new(BUSYBOX).arg("--list"))?;
    for applet in applets.lines().filter(|a| !a.is_empty() && *a != "busybox") {
        a.entry(&format!("bin/{applet}"), 0o120777, b"busybox", (0, 0));
    }
    a.entry(
        "etc/passwd",
        0o100644,
        b"root:x:0:0:root:/:/bin/sh\n",
        (0, 0),
    );
    a.entry("etc/group", 0o100644, b"root:x:0:\n", (0, 0));
    fs::write(out, a.finish()).with_context(|| format!("writing {out:?}"))
}
