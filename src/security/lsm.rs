//! LSM labels: `process.apparmorProfile`, `process.selinuxLabel` and `linux.mountLabel`. shoji
//! applies none of them, so each is refused when set — never dropped: a container asked to run
//! confined must not run unconfined. The message says whether the host could have honoured the
//! label at all (runc's wording when the LSM is off) or only shoji cannot. Runs in the runtime
//! parent, for `create`/`run` (spec::validate) and `exec`.
use std::path::Path;

use anyhow::{bail, Result};

use crate::quote::quoted;

/// AppArmor is on when its module says so (runc's check).
fn apparmor_enabled() -> bool {
    Path::new("/sys/kernel/security/apparmor").exists()
        && std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .is_ok_and(|s| s.starts_with('Y'))
}

/// SELinux is on when selinuxfs is mounted.
fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

/// The labels a config or `exec` asks for.
#[derive(Default)]
pub struct Labels<'a> {
    pub apparmor_profile: Option<&'a str>,
    pub selinux_label: Option<&'a str>,
    pub mount_label: Option<&'a str>,
}

/// Refuse any label that is set (an empty string means none, as in runc).
pub fn refuse_labels(labels: &Labels) -> Result<()> {
    refusal(labels, apparmor_enabled(), selinux_enabled())
}

/// A label that is set: an empty string means none, as in runc.
fn set(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

/// The decision, given which LSMs the host has enabled.
fn refusal(labels: &Labels, apparmor: bool, selinux: bool) -> Result<()> {
    if let Some(p) = set(labels.apparmor_profile) {
        match apparmor {
            false => bail!(
                "apparmor profile {} specified but apparmor is not enabled on this host",
                quoted(p)
            ),
            true => bail!(
                "apparmor profile {} specified but shoji does not apply apparmor profiles",
                quoted(p)
            ),
        }
    }
    let selinux_wanted = [
        ("selinux label", set(labels.selinux_label)),
        ("mount label", set(labels.mount_label)),
    ];
    for (what, value) in selinux_wanted {
        let Some(v) = value else { continue };
        match selinux {
            false => bail!(
                "{what} {} is specified in config, but selinux is disabled or not supported",
                quoted(v)
            ),
            true => bail!(
                "{what} {} is specified in config, but shoji does not apply selinux labels",
                quoted(v)
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_is_refused_with_the_right_reason() {
        let aa = Labels {
            apparmor_profile: Some("docker-default"),
            ..Default::default()
        };
        let e = refusal(&aa, false, false).unwrap_err().to_string();
        assert!(e.contains("apparmor is not enabled"), "{e}");
        let e = refusal(&aa, true, false).unwrap_err().to_string();
        assert!(e.contains("does not apply apparmor"), "{e}");
        let mount = Labels {
            mount_label: Some("system_u:object_r:container_file_t:s0"),
            ..Default::default()
        };
        let e = refusal(&mount, false, false).unwrap_err().to_string();
        assert!(
            e.starts_with("mount label") && e.contains("selinux is disabled"),
            "{e}"
        );
        let e = refusal(&mount, false, true).unwrap_err().to_string();
        assert!(e.contains("does not apply selinux"), "{e}");
        let empty = Labels {
            apparmor_profile: Some(""),
            selinux_label: Some(""),
            mount_label: None,
        };
        assert!(refusal(&empty, false, false).is_ok());
    }
}
