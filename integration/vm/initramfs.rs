//! The guest's initramfs: an uncompressed cpio "newc" archive holding busybox-static, the
//! modules needed to reach the root filesystem (9p, overlay) and the test disk, and `/init`.
//! Written here rather than by cpio(1) so the tier needs no extra host tool; the kernel accepts
//! an uncompressed archive.
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context, Result};

use crate::kernel::Kernel;

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

/// A newc archive being written: 110-byte ASCII headers, names and data padded to 4 bytes.
#[derive(Default)]
struct Archive {
    bytes: Vec<u8>,
    next_ino: u32,
}

impl Archive {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8], rdev: (u32, u32)) {
        self.next_ino += 1;
        let nlink = if mode & 0o170000 == 0o040000 { 2 } else { 1 };
        let fields = [
            self.next_ino,
            mode,
            0,
            0,
            nlink,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.bytes.extend_from_slice(b"070701");
        for f in fields {
            self.bytes.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[], (0, 0));
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::Archive;

    #[test]
    fn newc_header_layout() {
        let mut a = Archive::default();
        a.entry("init", 0o100755, b"hi", (0, 0));
        let b = a.finish();
        assert_eq!(&b[..6], b"070701");
        // mode field (2nd) and filesize field (7th)
        assert_eq!(&b[14..22], b"000081ed");
        assert_eq!(&b[54..62], b"00000002");
        // name starts at 110, "init\0" padded to 116, then data
        assert_eq!(&b[110..115], b"init\0");
        assert_eq!(&b[116..118], b"hi");
        assert_eq!(b.len() % 4, 0);
    }
}
