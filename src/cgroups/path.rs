//! Pure resolution of a cgroupfs `cgroupsPath` to the directory below each hierarchy's mount.
//!
//! As runc: the path is cleaned lexically (`.`/`..` removed, never climbing above its root); an
//! absolute path is used as is below every hierarchy's mount point; a relative one (and the
//! empty path, which becomes the container id, as runc's `Name`) is placed under the runtime's
//! own cgroup in each hierarchy, read from /proc/self/cgroup — so on this host a relative path
//! lands under `/process_api/<id>` in the memory hierarchy and under `/` in the others.
//! (libcgroups' `join_safely` only strips a leading `/`, so `..` would climb out of the
//! hierarchy: only paths cleaned here ever reach the file system.)
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Result};

use super::mode::Hierarchy;

/// Lexically clean `path` the way runc does: `.`, `..` and repeated slashes are removed, and a
/// `..` at the top stays at the top (of `/` for an absolute path, of the base for a relative
/// one). The result is absolute iff the input was; an empty result means "the base itself".
pub fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if path.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// True for the systemd driver's `slice:prefix:name` shape (e.g.
/// `kubepods-besteffort-pod012abc.slice:cri-containerd:345def`, `:runc:x`, `system.slice:x`):
/// no slash, and three colon-separated fields or a first field naming a slice.
pub fn looks_like_systemd(path: &str) -> bool {
    if path.contains('/') || !path.contains(':') {
        return false;
    }
    let fields: Vec<&str> = path.split(':').collect();
    fields.len() == 3 || fields[0].ends_with(".slice")
}

/// The cgroup path the container asks for, cleaned: absolute (`/kubepods/pod1/c1`) or relative
/// to the runtime's own cgroup (`c1`, also what an empty `cgroupsPath` becomes). A systemd
/// driver's `slice:prefix:name` (containerd's CRI sends one whenever the pod's parent is a
/// slice, whatever its SystemdCgroup option) is the path systemd would give it, slices
/// expanded: `test.slice:cri-containerd:ab` → `/test.slice/cri-containerd-ab.scope`, never a
/// directory named after the string (the caller warns about the mismatch).
pub fn requested(cgroups_path: Option<&str>, id: &str) -> Result<PathBuf> {
    let raw = cgroups_path.unwrap_or("");
    if looks_like_systemd(raw) {
        return Ok(crate::systemd::unit::parse_cgroups_path(Some(raw), id)?.path);
    }
    let cleaned = if raw.is_empty() {
        clean(id)
    } else {
        clean(raw)
    };
    match cleaned.as_str() {
        "/" => bail!("cgroupsPath {raw:?} resolves to the root cgroup"),
        "" => bail!("cgroupsPath {raw:?} resolves to the runtime's own cgroup"),
        _ => Ok(PathBuf::from(cleaned)),
    }
}

/// An exec's `--cgroup`: `[controller[,controller…]:]path`, a cgroup below the container's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubCgroup {
    /// v1 only: the hierarchies to place the process in `path` in (others: the container's).
    pub controllers: Option<Vec<String>>,
    pub path: PathBuf,
}

impl SubCgroup {
    /// Whether a hierarchy with `controllers` (empty: cgroup2) takes the sub-cgroup.
    pub fn applies_to(&self, controllers: &[String]) -> bool {
        match &self.controllers {
            None => true,
            Some(want) => want.iter().any(|w| controllers.contains(w)),
        }
    }
}

/// `/` (or a path that cleans to it) is the container's own cgroup, as in runc, where the
/// sub-path is joined to the container's; the path is never above it.
pub fn parse_sub_cgroup(arg: &str) -> Result<SubCgroup> {
    let (controllers, raw) = match arg.split_once(':') {
        Some((c, p)) => (Some(c.split(',').map(String::from).collect::<Vec<_>>()), p),
        None => (None, arg),
    };
    let cleaned = clean(raw.trim_start_matches('/'));
    if raw.is_empty()
        || controllers
            .as_ref()
            .is_some_and(|c| c.iter().any(String::is_empty))
    {
        bail!(
            "sub-cgroup {arg:?} must be [controller,…:]path naming a cgroup below the container's"
        );
    }
    Ok(SubCgroup {
        controllers,
        path: PathBuf::from(cleaned),
    })
}

/// One line of /proc/PID/cgroup: `hierarchy-id:controllers:path` (controllers empty for v2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcCgroup {
    pub controllers: Vec<String>,
    pub path: String,
}

pub fn parse_proc_cgroup(text: &str) -> Vec<ProcCgroup> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.splitn(3, ':');
            let _id = f.next()?;
            let ctrls = f.next()?;
            let path = f.next()?.to_string();
            let controllers = ctrls.split(',').filter(|c| !c.is_empty()).map(String::from);
            Some(ProcCgroup {
                controllers: controllers.collect(),
                path,
            })
        })
        .collect()
}

/// The cgroup of the process described by `own` in `hierarchy` (matching its controllers;
/// the v2 line is the one with none).
pub fn own_cgroup<'a>(hierarchy: &Hierarchy, own: &'a [ProcCgroup]) -> Option<&'a str> {
    let mut want = hierarchy.controllers.clone();
    want.sort();
    own.iter()
        .find(|line| {
            let mut have = line.controllers.clone();
            have.sort();
            have == want
        })
        .map(|line| line.path.as_str())
}

/// The container's directory relative to `hierarchy`'s mount point, as an absolute-looking
/// path (`/process_api/x/c1`). `own` is the runtime's cgroup in that hierarchy.
pub fn below_mount(requested: &Path, hierarchy: &Hierarchy, own: Option<&str>) -> PathBuf {
    if requested.is_absolute() {
        return requested.to_path_buf();
    }
    let own = Path::new(own.unwrap_or("/"));
    // With a cgroup namespace or a bind of a sub-cgroup, the mount shows `root` at its mount
    // point, so the own cgroup is reached relative to it.
    let visible = own.strip_prefix(&hierarchy.root).unwrap_or(own);
    Path::new("/").join(visible).join(requested)
}

/// The absolute directory of `below` (a path as [`below_mount`] returns) in `hierarchy`.
pub fn in_hierarchy(hierarchy: &Hierarchy, below: &Path) -> PathBuf {
    let mut dir = hierarchy.mount_point.clone();
    dir.extend(
        below
            .components()
            .filter(|c| matches!(c, Component::Normal(_))),
    );
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_table() {
        let table = [
            (
                "/kubepods/besteffort/pod012abc/345def",
                "/kubepods/besteffort/pod012abc/345def",
            ),
            (
                "/kubepods/burstable/pod9f1e/../pod9f1e/c1",
                "/kubepods/burstable/pod9f1e/c1",
            ),
            ("/../../etc", "/etc"),
            ("/a/./b//c/", "/a/b/c"),
            ("/..", "/"),
            ("/", "/"),
            ("a/b", "a/b"),
            ("../../x", "x"),
            ("a/../..", ""),
            ("./c1", "c1"),
            ("", ""),
        ];
        for (input, want) in table {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn systemd_shape_table() {
        let table = [
            (
                "kubepods-besteffort-pod012abc.slice:cri-containerd:345def",
                true,
            ),
            ("system.slice:docker:1234", true),
            (":runc:t1", true),
            ("-.slice:shoji:x", true),
            ("kubepods.slice:x", true),
            ("/kubepods/besteffort/pod012abc/345def", false),
            ("/kubepods/burstable/pod1:x:y/c", false),
            ("kubepods/besteffort/pod012abc/345def", false),
            ("c1", false),
            ("a:b", false),
            ("", false),
        ];
        for (input, want) in table {
            assert_eq!(
                looks_like_systemd(input),
                want,
                "looks_like_systemd({input:?})"
            );
        }
    }

    #[test]
    fn requested_table() {
        let ok = [
            (
                Some("/kubepods/besteffort/pod012abc/345def"),
                "/kubepods/besteffort/pod012abc/345def",
            ),
            (Some("/kubepods/burstable/pod7/../../../x"), "/x"),
            (Some("../../escape"), "escape"),
            (Some("shoji/c1"), "shoji/c1"),
            (Some(""), "c1"),
            (None, "c1"),
        ];
        for (input, want) in ok {
            assert_eq!(
                requested(input, "c1").unwrap(),
                Path::new(want),
                "{input:?}"
            );
        }
    }

    #[test]
    fn requested_places_systemd_format_where_systemd_would() {
        let ok = [
            (
                "kubepods-besteffort-pod012abc.slice:cri-containerd:345def",
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod012abc.slice/cri-containerd-345def.scope",
            ),
            ("test.slice:cri-containerd:c", "/test.slice/cri-containerd-c.scope"),
            (":docker:c", "/system.slice/docker-c.scope"),
            ("-.slice:p:c", "/p-c.scope"),
        ];
        for (input, want) in ok {
            assert_eq!(requested(Some(input), "c").unwrap(), Path::new(want));
        }
        // Malformed in the systemd format: systemd's error, naming the value.
        for bad in ["kubepods.slice:x", "a--b.slice:p:c", "a.slice:p:"] {
            let err = format!("{:#}", requested(Some(bad), "c").unwrap_err());
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn requested_rejects_root_and_own() {
        let root = requested(Some("/a/../.."), "c").unwrap_err().to_string();
        assert!(root.contains("root cgroup"), "{root}");
        let own = requested(Some("a/.."), "c").unwrap_err().to_string();
        assert!(own.contains("own cgroup"), "{own}");
    }

    #[test]
    fn sub_cgroup_table() {
        let s = parse_sub_cgroup("../../sub").unwrap();
        assert_eq!((s.controllers, s.path), (None, PathBuf::from("sub")));
        let s = parse_sub_cgroup("cpu,memory:/a/b").unwrap();
        assert_eq!(s.path, Path::new("a/b"));
        assert!(s.applies_to(&["cpu".into(), "cpuacct".into()]));
        assert!(!s.applies_to(&["pids".into()]) && !s.applies_to(&[]));
        for own in ["/", "cpu:/", "..", "/a/.."] {
            assert_eq!(
                parse_sub_cgroup(own).unwrap().path,
                PathBuf::new(),
                "{own:?}"
            );
        }
        for bad in ["", "cpu:", ":x", "cpu,:x"] {
            assert!(parse_sub_cgroup(bad).is_err(), "{bad:?}");
        }
    }

    fn hierarchy(controllers: &[&str], mount: &str, root: &str) -> Hierarchy {
        Hierarchy {
            controllers: controllers.iter().map(|c| c.to_string()).collect(),
            mount_point: mount.into(),
            root: root.into(),
        }
    }

    #[test]
    fn relative_lands_under_own_cgroup_per_hierarchy() {
        let own = parse_proc_cgroup(
            "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpuacct,cpu:/user\n0::/\n",
        );
        let memory = hierarchy(&["memory"], "/sys/fs/cgroup/memory", "/");
        let cpu = hierarchy(&["cpu", "cpuacct"], "/sys/fs/cgroup/cpu,cpuacct", "/");
        let systemd = hierarchy(&["name=systemd"], "/sys/fs/cgroup/systemd", "/");
        let unified = hierarchy(&[], "/sys/fs/cgroup/unified", "/");
        let rel = Path::new("c1");
        let table = [
            (&memory, "/process_api/abc/c1"),
            (&cpu, "/user/c1"),
            (&systemd, "/c1"),
            (&unified, "/c1"),
        ];
        for (h, want) in table {
            assert_eq!(
                below_mount(rel, h, own_cgroup(h, &own)),
                Path::new(want),
                "{:?}",
                h.key()
            );
        }
        let abs = Path::new("/kubepods/besteffort/pod012abc/345def");
        assert_eq!(below_mount(abs, &memory, own_cgroup(&memory, &own)), abs);
    }

    #[test]
    fn own_cgroup_relative_to_the_mount_root() {
        let h = hierarchy(&["pids"], "/sys/fs/cgroup/pids", "/docker/x");
        assert_eq!(
            below_mount(Path::new("c1"), &h, Some("/docker/x/sub")),
            Path::new("/sub/c1")
        );
    }

    #[test]
    fn joins_below_the_mount_point() {
        let h = hierarchy(&["memory"], "/sys/fs/cgroup/memory", "/");
        assert_eq!(
            in_hierarchy(&h, Path::new("/kubepods/pod1/c1")),
            Path::new("/sys/fs/cgroup/memory/kubepods/pod1/c1")
        );
    }
}
