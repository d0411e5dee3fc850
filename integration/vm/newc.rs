//! cpio "newc" archives (the initramfs, and the guest bundles' rootfs template), written here
//! rather than by cpio(1) so the tier needs no extra host tool.

/// A newc archive being written: 110-byte ASCII headers, names and data padded to 4 bytes.
#[derive(Default)]
pub struct Archive {
    bytes: Vec<u8>,
    next_ino: u32,
}

impl Archive {
    pub fn entry(&mut self, name: &str, mode: u32, data: &[u8], rdev: (u32, u32)) {
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

    pub fn finish(mut self) -> Vec<u8> {
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
