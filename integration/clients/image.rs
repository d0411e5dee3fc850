//! A one-layer busybox image, built locally (no registry is reachable from CI): a tar that is
//! both an OCI image layout (`ctr image import`) and a `docker save` archive (`docker load`,
//! `podman load`). The rootfs is the host's busybox-static with its applets as symlinks.
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::env::run;

/// The name every client knows the image by.
pub const IMAGE: &str = "localhost/bbox:latest";

const BUSYBOX: &str = "/bin/busybox";

/// Build image `name`, whose default command is `cmd`, under `dir` (created); the tar's path.
pub fn build(dir: &Path, name: &str, cmd: &[&str]) -> PathBuf {
    let rootfs = dir.join("rootfs");
    let layout = dir.join("layout");
    let blobs = layout.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    make_rootfs(&rootfs);
    let layer = dir.join("layer.tar");
    tar(
        &rootfs,
        &layer,
        &["bin", "etc", "proc", "sys", "dev", "tmp", "root"],
    );
    let layer_sha = sha256(&layer);
    let layer_size = fs::metadata(&layer).unwrap().len();
    fs::rename(&layer, blobs.join(&layer_sha)).unwrap();

    let config = json!({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Cmd": cmd, "Env": ["PATH=/bin"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer_sha}")]},
    });
    let (config_sha, config_size) = add_blob(&blobs, &config);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": format!("sha256:{config_sha}"), "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": format!("sha256:{layer_sha}"), "size": layer_size}],
    });
    let (manifest_sha, manifest_size) = add_blob(&blobs, &manifest);
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_sha}"), "size": manifest_size,
            "annotations": {"io.containerd.image.name": name,
                            "org.opencontainers.image.ref.name": "latest"}}],
    });
    let docker_manifest = json!([{
        "Config": format!("blobs/sha256/{config_sha}"),
        "RepoTags": [name],
        "Layers": [format!("blobs/sha256/{layer_sha}")],
    }]);
    fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    fs::write(layout.join("index.json"), index.to_string()).unwrap();
    fs::write(layout.join("manifest.json"), docker_manifest.to_string()).unwrap();
    let out = dir.join(format!("{}.tar", name.replace(['/', ':'], "_")));
    tar(
        &layout,
        &out,
        &["oci-layout", "index.json", "manifest.json", "blobs"],
    );
    fs::remove_dir_all(&rootfs).unwrap();
    fs::remove_dir_all(&layout).unwrap();
    out
}

fn make_rootfs(rootfs: &Path) {
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root"] {
        fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    fs::copy(BUSYBOX, rootfs.join("bin/busybox")).expect("busybox-static at /bin/busybox");
    let applets = run(BUSYBOX, &["--list"]).ok();
    for applet in applets.lines().filter(|a| *a != "busybox") {
        symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    )
    .unwrap();
    fs::write(rootfs.join("etc/group"), "root:x:0:\nnobody:x:65534:\n").unwrap();
}

/// A reproducible tar of `names` under `dir`: root-owned, mtime 0, no "./" prefixes.
fn tar(dir: &Path, out: &Path, names: &[&str]) {
    let mut args = vec![
        "--numeric-owner".to_string(),
        "--owner=0".into(),
        "--group=0".into(),
        "--mtime=@0".into(),
        "--sort=name".into(),
        "-C".into(),
        dir.display().to_string(),
        "-cf".into(),
        out.display().to_string(),
    ];
    args.extend(names.iter().map(|n| n.to_string()));
    run("tar", &args).ok();
}

fn sha256(path: &Path) -> String {
    let out = run("sha256sum", &[path.display().to_string()]).ok();
    out.split_whitespace().next().unwrap().to_string()
}

/// Store a JSON document as a blob; its digest and size.
fn add_blob(blobs: &Path, doc: &serde_json::Value) -> (String, u64) {
    let text = doc.to_string();
    let tmp = blobs.join("incoming");
    fs::write(&tmp, &text).unwrap();
    let sha = sha256(&tmp);
    fs::rename(&tmp, blobs.join(&sha)).unwrap();
    (sha, text.len() as u64)
}
