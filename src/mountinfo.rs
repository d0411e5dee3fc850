//! /proc/self/mountinfo, parsed (pure), for every module that reads the mount table: the
//! cgroup layout (cgroups::mode), the container's cgroup mounts and the no-pivot cleanup.
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// Field 4: the directory of the filesystem that is mounted (`/` for a full mount).
    pub root: PathBuf,
    /// Field 5: where it is mounted.
    pub mount_point: PathBuf,
    pub fs_type: String,
    /// The super block options, e.g. `rw,memory` for a cgroup v1 hierarchy.
    pub super_options: String,
}

/// Parse mountinfo text, skipping malformed lines.
pub fn parse(text: &str) -> Vec<MountInfo> {
    text.lines().filter_map(parse_line).collect()
}

/// Read and parse this process's mountinfo.
pub fn read_self() -> std::io::Result<Vec<MountInfo>> {
    Ok(parse(&std::fs::read_to_string("/proc/self/mountinfo")?))
}

fn parse_line(line: &str) -> Option<MountInfo> {
    // id parent major:minor root mount_point options [optional fields...] - type source super
    let (before, after) = line.split_once(" - ")?;
    let fields: Vec<&str> = before.split(' ').collect();
    let tail: Vec<&str> = after.split(' ').collect();
    if fields.len() < 6 || tail.len() < 3 {
        return None;
    }
    Some(MountInfo {
        root: PathBuf::from(unescape(fields[3])),
        mount_point: PathBuf::from(unescape(fields[4])),
        fs_type: tail[0].to_string(),
        super_options: tail[2].to_string(),
    })
}

/// The kernel writes space, tab, newline and backslash as `\ooo` octal escapes.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_escapes() {
        let text = "\
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
41 31 0:38 /a\\040b /mnt/with\\040space rw,relatime - cgroup2 cgroup2 rw,nsdelegate
garbage line";
        let got = parse(text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].mount_point, PathBuf::from("/sys/fs/cgroup/memory"));
        assert_eq!(got[0].fs_type, "cgroup");
        assert_eq!(got[0].super_options, "rw,memory");
        assert_eq!(got[1].root, PathBuf::from("/a b"));
        assert_eq!(got[1].mount_point, PathBuf::from("/mnt/with space"));
        assert_eq!(got[1].fs_type, "cgroup2");
    }
}
