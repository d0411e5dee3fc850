//! The guest kernel: Debian's bookworm-backports `linux-image-*-amd64`, fetched once with
//! `apt-get download` and unpacked (never installed) into a cache directory outside the
//! repository, with `depmod -b` run over its modules so the guest's `modprobe` finds them.
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

/// The apt metapackage (in bookworm-backports) whose dependency names the kernel to boot.
const META_PACKAGE: &str = "linux-image-amd64/bookworm-backports";

/// An unpacked kernel package.
pub struct Kernel {
    /// The package's root directory (holds `boot/` and `lib/modules/`).
    pub root: PathBuf,
    /// `uname -r` of the kernel, e.g. `6.12.95+deb12-amd64`.
    pub release: String,
}

impl Kernel {
    pub fn vmlinuz(&self) -> PathBuf {
        self.root
            .join("boot")
            .join(format!("vmlinuz-{}", self.release))
    }

    /// The directory the guest bind-mounts on its /lib/modules.
    pub fn modules_dir(&self) -> PathBuf {
        self.root.join("lib/modules")
    }

    /// A module's compressed file, e.g. `fs/9p/9p` → `.../kernel/fs/9p/9p.ko.xz`.
    pub fn module_xz(&self, rel: &str) -> PathBuf {
        self.modules_dir()
            .join(&self.release)
            .join("kernel")
            .join(format!("{rel}.ko.xz"))
    }
}

/// Returns the cached kernel, downloading and unpacking it first if it is not there yet.
pub fn prepare(cache: &Path) -> Result<Kernel> {
    let package = resolve_package()?;
    let root = cache.join(&package);
    if !root.join(".ready").exists() {
        unpack(&package, &root)?;
    }
    let release = only_entry(&root.join("lib/modules"))?;
    prune_others(cache, &package)?;
    Ok(Kernel { root, release })
}

/// Removes kernels of earlier packages (each is ~200 MB) once a newer one is ready.
fn prune_others(cache: &Path, keep: &str) -> Result<()> {
    for entry in fs::read_dir(cache).with_context(|| format!("reading {cache:?}"))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("linux-image-") && name != keep {
            fs::remove_dir_all(&path)
                .with_context(|| format!("removing the old kernel {path:?}"))?;
        }
    }
    Ok(())
}

/// The concrete kernel package the backports metapackage depends on.
fn resolve_package() -> Result<String> {
    let out = run_capture(Command::new("apt-cache").args(["show", META_PACKAGE]))
        .context("cannot find the VM kernel: is bookworm-backports in apt's sources and `apt-get update` run? (see .ci/run)")?;
    let depends = out
        .lines()
        .find_map(|l| l.strip_prefix("Depends: "))
        .with_context(|| format!("apt-cache show {META_PACKAGE} has no Depends line"))?;
    let name = depends.split([' ', ',']).next().unwrap_or_default();
    ensure!(
        name.starts_with("linux-image-"),
        "unexpected dependency {name:?} of {META_PACKAGE}"
    );
    Ok(name.to_string())
}

/// Download `package` and unpack it to `root` (through a temporary sibling, so a half-done
/// unpack is never taken for a ready one).
fn unpack(package: &str, root: &Path) -> Result<()> {
    let tmp = root.with_file_name(format!("{package}.partial"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).with_context(|| format!("removing {tmp:?}"))?;
    }
    let dl = tmp.join("dl");
    fs::create_dir_all(&dl).with_context(|| format!("creating {dl:?}"))?;
    run_capture(
        Command::new("apt-get")
            .args(["download", "-q", package])
            .current_dir(&dl),
    )?;
    let deb = only_entry(&dl)?;
    let unpacked = tmp.join("root");
    run_capture(
        Command::new("dpkg-deb")
            .arg("-x")
            .arg(dl.join(deb))
            .arg(&unpacked),
    )?;
    let release = only_entry(&unpacked.join("lib/modules"))?;
    run_capture(
        Command::new("depmod")
            .arg("-b")
            .arg(&unpacked)
            .arg(&release),
    )
    .context("depmod failed (is kmod installed? see .ci/run)")?;
    if root.exists() {
        fs::remove_dir_all(root).with_context(|| format!("removing {root:?}"))?;
    }
    fs::rename(&unpacked, root).with_context(|| format!("moving the kernel to {root:?}"))?;
    fs::remove_dir_all(&tmp).with_context(|| format!("removing {tmp:?}"))?;
    fs::write(root.join(".ready"), package).with_context(|| format!("marking {root:?} ready"))
}

/// The name of the one entry of `dir` (a download dir, or `lib/modules/`).
fn only_entry(dir: &Path) -> Result<String> {
    let names: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("reading {dir:?}"))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()?;
    match names.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!("expected exactly one entry in {dir:?}, found {names:?}"),
    }
}

/// Runs a host command, returning its stdout, or an error carrying its stderr.
pub fn run_capture(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {shown}"))?;
    ensure!(
        out.status.success(),
        "{shown} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
