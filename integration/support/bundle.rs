//! OCI bundles built from the host's busybox-static: rootfs/bin/busybox plus one symlink per
//! applet, a minimal /etc/passwd and /etc/group, and config.json from `spec::default_spec`.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::scratch::Scratch;
use super::spec::default_spec;

/// Debian's busybox-static; `.ci/run` installs it.
pub const BUSYBOX: &str = "/bin/busybox";

const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\nnogroup:x:65534:\n";

/// A bundle directory; everything under it is removed on Drop.
pub struct Bundle {
    dir: Scratch,
}

impl Bundle {
    /// A busybox bundle whose config.json runs `sh` (edit it with [`Bundle::edit`]).
    pub fn busybox(name: &str) -> Bundle {
        let bundle = Bundle {
            dir: Scratch::new(name),
        };
        populate_rootfs(&bundle.rootfs());
        bundle.write_spec(&default_spec());
        bundle
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn path_str(&self) -> &str {
        self.path().to_str().expect("utf-8 bundle path")
    }

    pub fn rootfs(&self) -> PathBuf {
        self.path().join("rootfs")
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("config.json")
    }

    pub fn spec(&self) -> Value {
        let text = std::fs::read_to_string(self.config_path()).expect("read config.json");
        serde_json::from_str(&text).expect("parse config.json")
    }

    pub fn write_spec(&self, spec: &Value) {
        let text = serde_json::to_string_pretty(spec).expect("serialize spec");
        std::fs::write(self.config_path(), text).expect("write config.json");
    }

    /// Mutates config.json in place: `bundle.edit(|s| s["process"]["args"] = json!(["true"]))`.
    pub fn edit(&self, change: impl FnOnce(&mut Value)) -> &Bundle {
        let mut spec = self.spec();
        change(&mut spec);
        self.write_spec(&spec);
        self
    }

    /// Sets process.args; the most common edit.
    pub fn args(&self, args: &[&str]) -> &Bundle {
        self.edit(|s| s["process"]["args"] = serde_json::json!(args))
    }

    /// Writes an executable file (a hook script, say) inside the bundle dir, outside rootfs.
    pub fn write_script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, body).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }
}

fn populate_rootfs(rootfs: &Path) {
    for dir in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "run"] {
        std::fs::create_dir_all(rootfs.join(dir)).expect("mkdir in rootfs");
    }
    std::fs::copy(BUSYBOX, rootfs.join("bin/busybox"))
        .unwrap_or_else(|e| panic!("copy {BUSYBOX:?} (is busybox-static installed?): {e}"));
    for applet in applets() {
        let link = rootfs.join("bin").join(&applet);
        if !link.exists() {
            symlink("busybox", &link).expect("applet symlink");
        }
    }
    std::fs::write(rootfs.join("etc/passwd"), PASSWD).expect("write passwd");
    std::fs::write(rootfs.join("etc/group"), GROUP).expect("write group");
}

fn applets() -> Vec<String> {
    let out = Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .expect("busybox --list");
    assert!(out.status.success(), "busybox --list failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty() && *l != "busybox")
        .map(str::to_owned)
        .collect()
}
