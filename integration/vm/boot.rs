//! One boot of the guest: lay out the share directory (guest scripts, cases, env), run qemu
//! (TCG) with the host's / read-only over 9p and the share read-write, wait for it to power
//! off, and read every case's result back before the share is removed. A boot in which qemu
//! itself crashed (killed by a signal: TCG's emulated devices have aborted on an assertion,
//! once in many boots) is thrown away whole and booted once more; every result comes from one
//! complete boot.
use std::collections::HashMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::batch::{Case, CaseResult, Mode};
use crate::kernel::Kernel;
use crate::{initramfs, rootfs};

/// The guest side, shipped into the share for every boot.
const GUEST_FILES: &[(&str, &str)] = &[
    ("direct.sh", include_str!("guest/direct.sh")),
    ("run-batch.sh", include_str!("guest/run-batch.sh")),
    ("lib.sh", include_str!("guest/lib.sh")),
    ("config.json", include_str!("guest/config.json")),
    ("vmtest.service", include_str!("guest/vmtest.service")),
    ("vmtest.target", include_str!("guest/vmtest.target")),
];
const INIT: &str = include_str!("guest/init.sh");

/// Size of the scratch virtio disk (/dev/vda in the guest) the io cases read from.
const DISK_MB: u64 = 64;
/// Seconds for the kernel and (systemd mode) the init system to come up and start the batch;
/// also added to the cases' own limits for the whole boot.
const BOOT_ALLOWANCE: u64 = 180;

/// What a boot returns: each case's result by name, plus the boot's own log for diagnosis.
pub struct Outcome {
    pub results: HashMap<String, CaseResult>,
    pub console_tail: String,
    pub seconds: f64,
}

/// Boots the guest in `mode` and runs `cases` in it, in order; once more if qemu crashed.
pub fn run(kernel: &Kernel, mode: Mode, cases: &[&Case], shoji: &Path) -> Result<Outcome> {
    match boot_once(kernel, mode, cases, shoji)? {
        Boot::Done(outcome) => Ok(outcome),
        Boot::QemuCrashed(first) => {
            eprintln!(
                "vm tier: {} boot: qemu crashed ({first}); booting again",
                mode.name()
            );
            match boot_once(kernel, mode, cases, shoji)? {
                Boot::Done(outcome) => Ok(outcome),
                Boot::QemuCrashed(second) => bail!("qemu crashed in two boots: {first}; {second}"),
            }
        }
    }
}

/// A boot that ran to its end (or its time limit), or one qemu itself crashed in.
enum Boot {
    Done(Outcome),
    QemuCrashed(String),
}

fn boot_once(kernel: &Kernel, mode: Mode, cases: &[&Case], shoji: &Path) -> Result<Boot> {
    let share = tempfile::Builder::new()
        .prefix(&format!("shoji-vm-{}-", mode.name()))
        .tempdir_in(std::env::temp_dir())
        .context("creating the VM share directory")?;
    let dir = share.path();
    lay_out_share(dir, mode, cases, shoji)?;
    let initrd = dir.join("initrd.img");
    initramfs::build(kernel, INIT, &initrd)?;
    let limit: u64 = BOOT_ALLOWANCE + cases.iter().map(|c| c.timeout_secs).sum::<u64>();
    let start = Instant::now();
    if let Err(crash) = boot_qemu(kernel, mode, dir, &initrd, Duration::from_secs(limit))? {
        return Ok(Boot::QemuCrashed(crash));
    }
    let seconds = start.elapsed().as_secs_f64();
    let results = cases
        .iter()
        .filter_map(|c| read_result(dir, c.name).map(|r| (c.name.to_string(), r)))
        .collect();
    let console = fs::read_to_string(dir.join("console.log")).unwrap_or_default()
        + &fs::read_to_string(dir.join("batch.log")).unwrap_or_default();
    let tail_start = console.len().saturating_sub(6000);
    let console_tail = console[console.floor_char_boundary(tail_start)..].to_string();
    Ok(Boot::Done(Outcome {
        results,
        console_tail,
        seconds,
    }))
}

fn lay_out_share(dir: &Path, mode: Mode, cases: &[&Case], shoji: &Path) -> Result<()> {
    let write = |rel: &str, text: &str, exec: bool| -> Result<()> {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap())?;
        fs::write(&p, text).with_context(|| format!("writing {p:?}"))?;
        if exec {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755))?;
        }
        Ok(())
    };
    for (name, text) in GUEST_FILES {
        write(&format!("guest/{name}"), text, name.ends_with(".sh"))?;
    }
    let mut list = String::new();
    for c in cases {
        write(&format!("cases/{}.sh", c.name), c.script, false)?;
        list += &format!("{} {}\n", c.name, c.timeout_secs);
    }
    write("cases.list", &list, false)?;
    // PROBE: the BPF helper recording bpf_get_current_cgroup_id() (cases/cgroup_id.sh).
    let probe = env!("CARGO_BIN_EXE_shoji-cgroup-id-probe");
    // REPO: this checkout, as the guest sees it (bench.sh reads bench/stages.awk from it).
    let repo = env!("CARGO_MANIFEST_DIR");
    let env = format!(
        "SHOJI={:?}\nMODE={}\nPROBE={probe:?}\nREPO={repo:?}\n",
        shoji,
        mode.name()
    );
    write("env.sh", &env, false)?;
    fs::create_dir_all(dir.join("results"))?;
    rootfs::write_template(&dir.join("rootfs.cpio"))?;
    let disk = fs::File::create(dir.join("disk.img"))?;
    disk.set_len(DISK_MB << 20)?;
    Ok(())
}

/// Runs qemu until the guest powers off or `limit`; Ok(Err(why)) when qemu was killed by a
/// signal it did not get from us (a crash of the emulator, not of anything under test).
fn boot_qemu(
    kernel: &Kernel,
    mode: Mode,
    dir: &Path,
    initrd: &Path,
    limit: Duration,
) -> Result<Result<(), String>> {
    let append = format!(
        "console=ttyS0 panic=-1 loglevel=4 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 \
         shoji.mode={} shoji.modules={} shoji.repo={}",
        mode.name(),
        kernel.modules_dir().display(),
        env!("CARGO_MANIFEST_DIR")
    );
    let share = dir.display();
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-M", "q35", "-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "2048"])
        .args(["-display", "none", "-monitor", "none", "-no-reboot"])
        .arg("-serial")
        .arg(format!("file:{share}/console.log"))
        .arg("-drive")
        .arg(format!("file={share}/disk.img,if=virtio,format=raw,cache=unsafe"))
        .arg("-kernel")
        .arg(kernel.vmlinuz())
        .arg("-initrd")
        .arg(initrd)
        .arg("-append")
        .arg(append)
        .arg("-virtfs")
        .arg("local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap,id=r")
        .arg("-virtfs")
        .arg(format!("local,path={share},mount_tag=share,security_model=passthrough,id=s"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("qemu.log"))?)
        .spawn()
        .context("cannot start qemu-system-x86_64 (install qemu-system-x86 from bookworm-backports, see .ci/run)")?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                let log = fs::read_to_string(dir.join("qemu.log")).unwrap_or_default();
                let why = format!("qemu exited with {status}: {}", log.trim());
                if status.signal().is_some() {
                    return Ok(Err(why));
                }
                bail!(why);
            }
            return Ok(Ok(()));
        }
        // A guest that never reached the batch (no batch.log) will not: stop waiting early.
        let stuck = start.elapsed() > Duration::from_secs(BOOT_ALLOWANCE)
            && !dir.join("batch.log").exists();
        if stuck || start.elapsed() > limit {
            // Our own child, by its handle: never a broad kill.
            child.kill().ok();
            child.wait().ok();
            return Ok(Ok(())); // the cases that finished still report; the rest show as missing
        }
        sleep(Duration::from_millis(250));
    }
}

fn read_result(dir: &Path, name: &str) -> Option<CaseResult> {
    let base: PathBuf = dir.join("results").join(name);
    let rc = fs::read_to_string(base.with_extension("rc")).ok()?;
    let output = fs::read_to_string(base.with_extension("out")).unwrap_or_default();
    let seconds = fs::read_to_string(base.with_extension("secs"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0.0);
    Some(CaseResult {
        rc: rc.trim().parse().unwrap_or(-1),
        output,
        seconds,
    })
}
