//! Switching to process.user: supplementary groups, gid, uid, umask. Runs in the init after the
//! capability bounding set is dropped and with PR_SET_KEEPCAPS, so the capability sets can be
//! set for the new uid afterwards.
use anyhow::{Context, Result};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
use oci_spec::runtime::User;

pub fn switch(user: &User) -> Result<()> {
    let gid = Gid::from_raw(user.gid());
    let uid = Uid::from_raw(user.uid());
    let groups: Vec<Gid> = user
        .additional_gids()
        .as_ref()
        .map(|g| g.iter().map(|x| Gid::from_raw(*x)).collect())
        .unwrap_or_default();
    setgroups(&groups).context("setgroups")?;
    setresgid(gid, gid, gid).with_context(|| format!("setgid {gid}"))?;
    setresuid(uid, uid, uid).with_context(|| format!("setuid {uid}"))?;
    if let Some(mask) = user.umask() {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
    }
    Ok(())
}
