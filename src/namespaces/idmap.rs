//! uid/gid maps of a new user namespace, written by the parent (which is root outside it).
use anyhow::{Context, Result};
use oci_spec::runtime::LinuxIdMapping;

fn render(maps: &[LinuxIdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

pub fn write_id_maps(pid: i32, uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<()> {
    let uid_map = format!("/proc/{pid}/uid_map");
    std::fs::write(&uid_map, render(uids)).with_context(|| format!("writing {uid_map:?}"))?;
    let gid_map = format!("/proc/{pid}/gid_map");
    std::fs::write(&gid_map, render(gids)).with_context(|| format!("writing {gid_map:?}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_kernel_format() {
        let m: Vec<LinuxIdMapping> = serde_json::from_value(serde_json::json!([
            {"containerID": 0, "hostID": 1000, "size": 1}, {"containerID": 1, "hostID": 100000, "size": 65536}
        ])).unwrap();
        assert_eq!(render(&m), "0 1000 1\n1 100000 65536\n");
    }
}
