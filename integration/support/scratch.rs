//! Per-test scratch directories under /tmp/shoji-it, removed on Drop. Removal refuses to run
//! while anything is still mounted below the directory: deleting through a leaked bind mount
//! would destroy host files, and a leaked mount is itself a bug the test must report.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::procfs;

/// Parent of every scratch directory, so a crashed run is easy to find and clean by hand.
pub const SCRATCH_ROOT: &str = "/tmp/shoji-it";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A name unique across this process and concurrent test processes: `<name>-<pid>-<n>`.
/// Container ids use it too, because cgroups are host-global even with a private `--root`.
pub fn unique_name(name: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{name}-{}-{n}", std::process::id())
}

/// A directory that exists for the life of the value.
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let path = Path::new(SCRATCH_ROOT).join(unique_name(name));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("mkdir {path:?}: {e}"));
        Scratch { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let leaked = procfs::host_mounts_under(&self.path);
        if !leaked.is_empty() {
            if !std::thread::panicking() {
                panic!("mounts left under {:?}: {leaked:?}", self.path);
            }
            return;
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
