//! The node being checked: the live root `/`, or another root (`--root-dir`: fixtures, an
//! image, a mounted node disk) under which every absolute path is read.
use std::io;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone)]
pub struct HostRoot {
    dir: PathBuf,
}

impl HostRoot {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        HostRoot { dir: dir.into() }
    }

    /// True when checking this machine itself: only then is systemd contacted over D-Bus.
    pub fn is_live(&self) -> bool {
        self.dir == Path::new("/")
    }

    /// Where the node's absolute path `abs` is found here.
    pub fn path(&self, abs: impl AsRef<Path>) -> PathBuf {
        let mut p = self.dir.clone();
        p.extend(
            abs.as_ref()
                .components()
                .filter(|c| matches!(c, Component::Normal(_))),
        );
        p
    }

    pub fn read(&self, abs: impl AsRef<Path>) -> io::Result<String> {
        std::fs::read_to_string(self.path(abs))
    }

    /// The file's text, or None when it does not exist; other errors are kept.
    pub fn read_if_exists(&self, abs: impl AsRef<Path>) -> io::Result<Option<String>> {
        match self.read(abs) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn exists(&self, abs: impl AsRef<Path>) -> bool {
        self.path(abs).exists()
    }

    /// The node paths of the entries of directory `abs` whose names end in `suffix`, sorted
    /// (the order drop-in directories are applied in); empty when it does not exist.
    pub fn dir_entries(&self, abs: &str, suffix: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.path(abs)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(suffix))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| format!("{}/{n}", abs.trim_end_matches('/')))
            .collect()
    }

    /// True when any of the node paths exists (a manager's binary, say).
    pub fn any_exists(&self, abs: &[&str]) -> bool {
        abs.iter().any(|p| self.exists(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_land_under_the_root() {
        let r = HostRoot::new("/fixtures/node1");
        assert_eq!(
            r.path("/etc/containerd/config.toml"),
            Path::new("/fixtures/node1/etc/containerd/config.toml")
        );
        assert_eq!(r.path("/../etc"), Path::new("/fixtures/node1/etc"));
        assert!(!r.is_live());
        assert!(HostRoot::new("/").is_live());
    }
}
