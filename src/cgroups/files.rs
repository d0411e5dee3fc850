//! Reading and writing cgroup control files, with errors that name the file and the value the
//! kernel refused (`writing "2048" to "/sys/fs/cgroup/memory/x/memory.limit_in_bytes": invalid
//! argument`), and the ordered list of writes a resource mapping produces.
use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};

/// One setting to write: `value` into the first of `files` that exists in the directory of the
/// hierarchy carrying `controller` (`""` for the cgroup2 directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub controller: &'static str,
    /// Candidates, first existing wins (blkio.bfq.weight before blkio.weight, as runc).
    pub files: Vec<String>,
    pub value: String,
    /// Skip silently when no candidate exists (e.g. hugetlb rsvd files on older kernels).
    pub if_present: bool,
    /// The kernel may refuse this with EINVAL until a later write lands (cpu period before
    /// quota, burst before quota): retry it once after the rest.
    pub deferrable: bool,
}

impl Write {
    pub fn new(controller: &'static str, file: impl Into<String>, value: impl ToString) -> Self {
        Write {
            controller,
            files: vec![file.into()],
            value: value.to_string(),
            if_present: false,
            deferrable: false,
        }
    }

    pub fn or_file(mut self, file: impl Into<String>) -> Self {
        self.files.push(file.into());
        self
    }

    pub fn if_present(mut self) -> Self {
        self.if_present = true;
        self
    }

    pub fn deferrable(mut self) -> Self {
        self.deferrable = true;
        self
    }
}

/// Apply `writes` in order; `dir_of` maps a controller to its directory for this container
/// (`None`: the hierarchy is not mounted, an error naming it and the file).
pub fn apply(writes: &[Write], dir_of: impl Fn(&str) -> Option<PathBuf>) -> Result<()> {
    let dir_of = |w: &Write| {
        dir_of(w.controller).ok_or_else(|| {
            anyhow!(
                "cannot set {}: the {:?} cgroup hierarchy is not mounted on this host",
                w.files[0],
                w.controller
            )
        })
    };
    let mut deferred = Vec::new();
    for w in writes {
        let dir = dir_of(w)?;
        match write_one(&dir, w) {
            Err(e) if w.deferrable && e.raw_os_error() == Some(libc::EINVAL) => deferred.push(w),
            other => other.map_err(|e| describe(&dir, w, e))?,
        }
    }
    for w in deferred {
        let dir = dir_of(w)?;
        write_one(&dir, w).map_err(|e| describe(&dir, w, e))?;
    }
    Ok(())
}

fn write_one(dir: &Path, w: &Write) -> io::Result<()> {
    match w.files.iter().map(|f| dir.join(f)).find(|p| p.exists()) {
        Some(path) => write_file(&path, &w.value),
        None if w.if_present => Ok(()),
        None => Err(io::Error::from_raw_os_error(libc::ENOENT)),
    }
}

fn describe(dir: &Path, w: &Write, e: io::Error) -> anyhow::Error {
    let paths: Vec<PathBuf> = w.files.iter().map(|f| dir.join(f)).collect();
    if e.raw_os_error() == Some(libc::ENOENT) {
        let names: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
        return anyhow!(
            "cannot write {:?}: {} does not exist (the kernel does not offer this setting here)",
            w.value,
            names.join(" or ")
        );
    }
    let path = paths.iter().find(|p| p.exists()).unwrap_or(&paths[0]);
    anyhow!("writing {:?} to {:?}: {}", w.value, path, errno_text(&e))
}

/// Write back earlier values after a refused update, best effort: a setting whose file (or
/// whole hierarchy) this kernel does not offer is skipped, since nothing can have been written
/// there; every other refusal is reported.
pub fn restore(writes: &[Write], dir_of: impl Fn(&str) -> Option<PathBuf>) -> Result<()> {
    let offered: Vec<Write> = writes
        .iter()
        .filter(|w| dir_of(w.controller).is_some())
        .map(|w| w.clone().if_present())
        .collect();
    apply(&offered, dir_of)
}

/// Write one control file. Cgroup files take one value per write(2), so no buffering.
pub fn write_file(path: &Path, value: &str) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).truncate(false).open(path)?;
    f.write_all(value.as_bytes())
}

/// Write with the standard error message (for joins and single writes outside a mapping).
pub fn write(path: &Path, value: &str) -> Result<()> {
    write_file(path, value).map_err(|e| write_error(path, value, &e))
}

/// The standard message for a failed write of `value` to `path`.
pub fn write_error(path: &Path, value: &str, e: &io::Error) -> anyhow::Error {
    anyhow!("writing {:?} to {:?}: {}", value, path, errno_text(e))
}

pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow!("reading {:?}: {}", path, errno_text(&e)))
}

/// `invalid argument`, as Go and therefore runc spell errno, rather than Rust's
/// `Invalid argument (os error 22)`.
pub fn errno_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let desc = nix::errno::Errno::from_raw(n).desc();
            let mut chars = desc.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => e.to_string(),
            }
        }
        None => e.to_string(),
    }
}

/// mkdir that accepts an existing directory (a shared parent, or a concurrent creator).
pub fn mkdir(dir: &Path) -> Result<()> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            bail!("creating cgroup {dir:?}: {}", errno_text(&e))
        }
        _ => Ok(()),
    }
}

/// mkdir -p of a cgroup directory, parents included.
pub fn mkdir_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow!("creating cgroup {dir:?}: {}", errno_text(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_spelled_like_go() {
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(libc::EINVAL)),
            "invalid argument"
        );
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(libc::EBUSY)),
            "device or resource busy"
        );
    }

    #[test]
    fn first_existing_candidate_wins_and_missing_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("blkio.weight"), "").unwrap();
        let w = Write::new("blkio", "blkio.bfq.weight", 500).or_file("blkio.weight");
        apply(&[w], |_| Some(dir.path().to_path_buf())).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("blkio.weight")).unwrap(),
            "500"
        );

        let missing = Write::new("blkio", "blkio.leaf_weight", 300);
        let err = apply(&[missing], |_| Some(dir.path().to_path_buf()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"300\"") && err.contains("blkio.leaf_weight"),
            "{err}"
        );
        assert!(err.contains("does not exist"), "{err}");

        let optional = Write::new("hugetlb", "hugetlb.2MB.rsvd.limit_in_bytes", 1).if_present();
        apply(&[optional], |_| Some(dir.path().to_path_buf())).unwrap();
    }
}
