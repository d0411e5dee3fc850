//! Reading config.json from a bundle, with errors that name the file, line and column.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use oci_spec::runtime::Spec;

/// A bundle: its absolute directory and the parsed (not yet validated) spec.
pub struct Bundle {
    pub path: PathBuf,
    pub spec: Spec,
}

pub fn load_bundle(bundle: &Path) -> Result<Bundle> {
    let path = std::fs::canonicalize(bundle)
        .with_context(|| format!("bundle {bundle:?} does not exist or is not accessible"))?;
    if !path.is_dir() {
        anyhow::bail!("bundle {path:?} is not a directory");
    }
    let config = path.join("config.json");
    let data = std::fs::read(&config).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!("config.json not found in bundle {path:?}"),
        _ => anyhow::anyhow!("reading {config:?}: {e}"),
    })?;
    // serde_json's message carries "at line L column C", which is what a user needs to fix it;
    // it also quotes offending keys and values raw, so it is made one line here.
    let spec: Spec = serde_json::from_slice(&data).map_err(|e| {
        anyhow::anyhow!(
            "parsing {config:?}: {}",
            crate::quote::one_line(&e.to_string())
        )
    })?;
    Ok(Bundle { path, spec })
}

#[cfg(test)]
mod tests {
    /// Found by the property test: serde quotes an unknown enum variant raw, so a newline in
    /// it split the error across lines.
    #[test]
    fn a_newline_in_a_bad_value_stays_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let config = r#"{"ociVersion": "1.0.2", "linux": {"namespaces": [{"type": "a\nb"}]}}"#;
        std::fs::write(dir.path().join("config.json"), config).unwrap();
        let err = format!("{:#}", super::load_bundle(dir.path()).err().unwrap());
        assert!(!err.contains('\n') && err.contains(r"a\nb"), "{err}");
    }
}
