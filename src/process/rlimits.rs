//! process.rlimits → setrlimit, by the runtime-spec's RLIMIT_* names.
use anyhow::{bail, Context, Result};
use oci_spec::runtime::PosixRlimit;

fn resource(name: &str) -> Option<libc::__rlimit_resource_t> {
    Some(match name {
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        _ => return None,
    })
}

pub fn apply(rlimits: &[PosixRlimit]) -> Result<()> {
    for rl in rlimits {
        let name = serde_json::to_value(rl.typ())?
            .as_str()
            .unwrap_or_default()
            .to_string();
        let Some(res) = resource(&name) else {
            bail!("unknown rlimit type {name:?}");
        };
        let lim = libc::rlimit {
            rlim_cur: rl.soft(),
            rlim_max: rl.hard(),
        };
        // SAFETY: `lim` is a valid rlimit for the duration of the call.
        if unsafe { libc::setrlimit(res, &lim) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("error setting rlimit type {name}"));
        }
    }
    Ok(())
}
