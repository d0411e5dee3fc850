//! The five capability sets. `drop_bounding` runs before the uid switch, `apply_sets` after it.
use std::collections::HashSet;
use std::str::FromStr;

use anyhow::{Context, Result};
use caps::{CapSet, Capability};
use oci_spec::runtime::{Capabilities, LinuxCapabilities};

/// Every capability name this build knows, for `features`.
pub fn known() -> Vec<String> {
    caps::all().iter().map(|c| c.to_string()).collect()
}

/// The capabilities the running kernel has (probing costs a prctl per capability: once).
fn supported() -> &'static HashSet<Capability> {
    static SUPPORTED: std::sync::OnceLock<HashSet<Capability>> = std::sync::OnceLock::new();
    SUPPORTED.get_or_init(caps::runtime::thread_all_supported)
}

fn convert(set: &Option<Capabilities>) -> Result<HashSet<Capability>> {
    let mut out = HashSet::new();
    for cap in set.iter().flatten() {
        let name = format!("CAP_{cap}");
        let c = Capability::from_str(&name)
            .map_err(|_| anyhow::anyhow!("unknown capability {name:?}"))?;
        // A capability the running kernel does not have is skipped, as runc does.
        if supported().contains(&c) {
            out.insert(c);
        }
    }
    Ok(out)
}

/// Drop from the bounding set everything the spec does not list.
pub fn drop_bounding(caps_spec: &LinuxCapabilities) -> Result<()> {
    let keep = convert(caps_spec.bounding())?;
    for cap in caps::read(None, CapSet::Bounding).context("reading bounding set")? {
        if !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap)
                .with_context(|| format!("dropping {cap} from the bounding set"))?;
        }
    }
    Ok(())
}

/// Keep permitted capabilities across setuid (the sets are set explicitly afterwards).
pub fn keep_across_setuid() -> Result<()> {
    nix::sys::prctl::set_keepcaps(true).context("prctl(PR_SET_KEEPCAPS)")
}

/// Set inheritable, effective, permitted, then raise ambient (which needs permitted and
/// inheritable).
pub fn apply_sets(caps_spec: &LinuxCapabilities) -> Result<()> {
    let permitted = convert(caps_spec.permitted())?;
    let effective = convert(caps_spec.effective())?;
    let inheritable = convert(caps_spec.inheritable())?;
    let ambient = convert(caps_spec.ambient())?;
    // capset needs effective ⊆ permitted at every step: shrink effective before permitted.
    caps::set(None, CapSet::Inheritable, &inheritable).context("setting inheritable caps")?;
    caps::set(None, CapSet::Effective, &effective).context("setting effective caps")?;
    caps::set(None, CapSet::Permitted, &permitted).context("setting permitted caps")?;
    caps::clear(None, CapSet::Ambient).context("clearing ambient caps")?;
    for cap in ambient {
        // An ambient cap must be permitted and inheritable; the kernel refuses it otherwise.
        if permitted.contains(&cap) && inheritable.contains(&cap) {
            caps::raise(None, CapSet::Ambient, cap)
                .with_context(|| format!("raising ambient {cap}"))?;
        }
    }
    Ok(())
}
