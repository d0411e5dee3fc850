//! The guest's initramfs: an uncompressed cpio "newc" archive holding busybox-static, the
//! modules needed to reach the root filesystem (9p, overlay) and the test disk, and `/init`.
//! The kernel accepts it uncompressed.
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context, Result};

use crate::kernel::Kernel;
use crate::newc::Archive;

/// Modules loaded by `/init` in this order (their dependencies first), relative to `kernel/`.
pub const MODULES: &[&str] = &[
    "fs/netfs/netfs",
    "net/9p/9pnet",
    "net/9p/9pnet_virtio",
    "fs/9p/9p",
    "fs/overlayfs/overlay",
    "drivers/block/virtio_blk",
];

const BUSYBOX: &str = "/bin/busybox";

/// Builds the archive at `out` with `init` as its `/init`.
pub fn build(kernel: &Kernel, init: &str, out: &Path) -> Result<()> {
    let busybox = fs::read(BUSYBOX)
        .with_context(|| format!("reading {BUSYBOX:?} (install busybox-static, see .ci/run)"))?;
    ensure!(
        !busybox.windows(7).any(|w| w == b"ld-linux"),
        "{BUSYBOX:?} is dynamically linked: install busybox-static, not busybox"
    );
    let mut a = Archive::default();
    for dir in [
        "bin",
        "dev",
        "proc",
        "sys",
        "lower",
        "upper",
        "newroot",
        "lib",
        "lib/modules",
    ] {
        a.entry(dir, 0o040755, &[], (0, 0));
    }
    a.entry("dev/console", 0o020600, &[], (5, 1));
    a.entry("bin/busybox", 0o100755, &busybox, (0, 0));
    a.entry("init", 0o100755, init.as_bytes(), (0, 0));
    for m in MODULES {
        let xz = kernel.module_xz(m);
        let ko = decompress(&xz)?;
        let name = Path::new(m).file_name().unwrap().to_string_lossy();
        a.entry(&format!("lib/modules/{name}.ko"), 0o100644, &ko, (0, 0));
    }
    fs::write(out, a.finish()).with_context(|| format!("writing {out:?}"))
}

/// busybox's insmod cannot read `.ko.xz`, so the initramfs carries them unpacked.
fn decompress(xz: &Path) -> Result<Vec<u8>> {
    let out = Command::new("xz")
        .arg("-dc")
        .arg(xz)
        .output()
        .with_context(|| format!("running xz on {xz:?}"))?;
    ensure!(out.status.success(), "xz -dc {xz:?} failed");
    Ok(out.stdout)
}
