//! The state directory: `<root>/<id>/{state.json, exec.fifo}`, one flock per container.
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};

use super::{validate_id, Record};

const STATE_FILE: &str = "state.json";
const FIFO_FILE: &str = "exec.fifo";

/// The runtime's `--root`.
pub struct Store {
    root: PathBuf,
}

/// One container's directory, held under an exclusive flock while this value lives.
pub struct ContainerDir {
    path: PathBuf,
    /// Held, never read: the flock lasts as long as this value.
    _lock: Flock<File>,
}

impl Store {
    pub fn new(root: &Path) -> Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .with_context(|| format!("creating state root {root:?}"))?;
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    /// Make and lock the directory of a new container; fails if the id is taken.
    pub fn create(&self, id: &str) -> Result<ContainerDir> {
        validate_id(id)?;
        let path = self.root.join(id);
        // Only the owner may reach the exec FIFO (and so start the container).
        match fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                bail!("container with given ID already exists: {id}")
            }
            Err(e) => return Err(e).with_context(|| format!("creating state dir {path:?}")),
        }
        ContainerDir::lock(path)
    }

    /// Lock the directory of an existing container.
    pub fn open(&self, id: &str) -> Result<ContainerDir> {
        validate_id(id)?;
        let path = self.root.join(id);
        if !path.join(STATE_FILE).exists() {
            bail!("container {id} does not exist");
        }
        let dir = ContainerDir::lock(path)?;
        // A concurrent delete may have removed it while we waited for the lock.
        if !dir.path.join(STATE_FILE).exists() {
            bail!("container {id} does not exist");
        }
        Ok(dir)
    }

    /// Remove the directory of `id` if it has no state file: a create killed between its mkdir
    /// and its first record (written before anything else is made) left nothing else. Taken
    /// under the lock, so a create still running is waited for; absent is fine.
    pub fn remove_unrecorded(&self, id: &str) -> Result<()> {
        validate_id(id)?;
        let path = self.root.join(id);
        if !path.is_dir() {
            return Ok(());
        }
        let Ok(dir) = ContainerDir::lock(path) else {
            // Removed while we looked.
            return Ok(());
        };
        if dir.path.join(STATE_FILE).exists() {
            bail!("container {id} was recorded while being deleted: delete it again");
        }
        dir.remove()
    }

    /// Ids of every container with a state file, sorted.
    pub fn ids(&self) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        for entry in fs::read_dir(&self.root).with_context(|| format!("reading {:?}", self.root))? {
            let entry = entry?;
            if entry.path().join(STATE_FILE).exists() {
                ids.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Read a record without taking the lock (writes are atomic renames).
    pub fn peek(&self, id: &str) -> Result<(Record, ContainerDirView)> {
        validate_id(id)?;
        let view = ContainerDirView {
            path: self.root.join(id),
        };
        Ok((view.load()?, view))
    }
}

/// A container directory read without its lock (for `state` and `list`).
pub struct ContainerDirView {
    path: PathBuf,
}

impl ContainerDirView {
    fn load(&self) -> Result<Record> {
        load(&self.path)
    }
    pub fn fifo_path(&self) -> PathBuf {
        self.path.join(FIFO_FILE)
    }
}

fn load(path: &Path) -> Result<Record> {
    let file = path.join(STATE_FILE);
    let data = fs::read(&file).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            let id = path.file_name().unwrap_or_default().to_string_lossy();
            anyhow::anyhow!("container {id} does not exist")
        } else {
            anyhow::anyhow!("reading {file:?}: {e}")
        }
    })?;
    serde_json::from_slice(&data).with_context(|| format!("parsing {file:?}"))
}

impl ContainerDir {
    fn lock(path: PathBuf) -> Result<Self> {
        let dir = File::open(&path).with_context(|| format!("opening {path:?}"))?;
        let lock = Flock::lock(dir, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .with_context(|| format!("locking {path:?}"))?;
        Ok(ContainerDir { path, _lock: lock })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn fifo_path(&self) -> PathBuf {
        self.path.join(FIFO_FILE)
    }

    pub fn load(&self) -> Result<Record> {
        load(&self.path)
    }

    /// Write state.json atomically: a reader sees the old record or the new one, never half.
    pub fn save(&self, record: &Record) -> Result<()> {
        let tmp = self.path.join(".state.json.tmp");
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("writing {tmp:?}"))?;
        // No fsync: the state lives on tmpfs (/run) and must not outlive a reboot anyway.
        f.write_all(&serde_json::to_vec(record)?)?;
        fs::rename(&tmp, self.path.join(STATE_FILE)).context("renaming state file")?;
        Ok(())
    }

    /// Remove the whole directory (the lock goes with it).
    pub fn remove(self) -> Result<()> {
        match fs::remove_dir_all(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing state dir {:?}", self.path))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_id_is_refused_and_missing_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path()).unwrap();
        let _held = store.create("c1").unwrap();
        let err = store.create("c1").err().unwrap().to_string();
        assert_eq!(err, "container with given ID already exists: c1");
        let err = store.open("nope").err().unwrap().to_string();
        assert_eq!(err, "container nope does not exist");
        assert!(store.create("../x").is_err());
    }
}
