//! `create`: from a bundle to an init blocked on the exec FIFO, with its state recorded.
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use super::guard::CreateGuard;
use crate::cgroups::{self, CgroupLocation};
use crate::hooks::{self, Kind};
use crate::namespaces;
use crate::process::spawn::spawn_init;
use crate::process::sync::{Channel, Msg};
use crate::process::{exec_fifo, InitConfig};
use crate::security::seccomp;
use crate::spec::{self, ValidatedSpec};
use crate::state::{pid_start_time, ContainerDir, Creator, Record, Status, Store};

/// runc's phrase for any failure to make or join the container's cgroup.
const CGROUP_ERROR: &str = "unable to apply cgroup configuration";

pub struct CreateOptions {
    pub id: String,
    pub bundle: PathBuf,
    pub console_socket: Option<PathBuf>,
    /// `run` in the foreground: where the init sends the pty master when there is no
    /// `--console-socket` (the runtime relays its own stdio).
    pub local_console: Option<RawFd>,
    pub pid_file: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    pub systemd_cgroup: bool,
}

/// The created container: its record and its (still locked) state dir.
pub struct Created {
    pub record: Record,
    pub dir: ContainerDir,
}

pub fn create(store: &Store, opts: &CreateOptions) -> Result<Created> {
    crate::state::validate_id(&opts.id)?;
    let _warmup = cgroups::warmup::start();
    let v = spec::validate(spec::load_bundle(&opts.bundle)?)?;
    crate::rootfs::validate(&v.spec, opts.no_pivot)?;
    let seccomp = seccomp::for_spec(&v.spec)?;
    // Decide where the cgroup goes before anything exists, so a bad path leaves nothing.
    let location = cgroups::plan(&v.spec, &opts.id, opts.systemd_cgroup)?;
    // The stage lines below time `create` under --debug (bench/stages.sh reads them).
    tracing::debug!("config validated, cgroup planned");
    let ns = namespaces::plan(&v.spec);
    let mut guard = CreateGuard::default();
    // The `creating` record is written first, and saved again before each later thing is
    // made, so a SIGKILL at any point leaves what one `delete --force` removes.
    let dir = guard.dir.insert(store.create(&opts.id)?);
    let driver = guard.cgroup.insert(cgroups::driver(&location)?);
    // Recorded before anything is made: delete removes only what this container made. The
    // claim only looks, so the first record already holds it (one state write fewer).
    guard.owned = driver.claim().context(CGROUP_ERROR)?;
    let mut record = new_record(&opts.id, &v, location.clone())?;
    record.cgroup_owned = Some(guard.owned.clone());
    dir.save(&record)?;
    let fifo_fd = exec_fifo::make(&dir.fifo_path())?;
    let resources = v.spec.linux().as_ref().and_then(|l| l.resources().as_ref());
    tracing::debug!("state recorded, cgroup claimed");
    // On cgroup v2 the init is cloned into its prepared cgroup, so that must exist first;
    // elsewhere the cgroup is prepared while stage 1 builds the namespaces.
    let v2 = location.mode == cgroups::CgroupMode::V2;
    let cgroup_dir = match v2 {
        true => driver.prepare(resources).context(CGROUP_ERROR)?,
        false => None,
    };
    let fds = init_fds(opts, &v, &ns, fifo_fd.as_raw_fd(), cgroup_dir)?;
    // Stage 1 and the init wait on the sync socket at every step until `Ready`: if this
    // process dies before the init's pid is recorded, they read EOF and exit.
    let spawned = spawn_init(&init_config(opts, &v, &ns, &fds, seccomp.as_ref()))?;
    // Only the init may hold the FIFO's read side: `start` detects a dead init by its absence.
    drop(fifo_fd);
    guard.stage1 = Some(spawned.stage1);
    let chan = &spawned.channel;
    if !v2 {
        guard.driver().prepare(resources).context(CGROUP_ERROR)?;
        tracing::debug!("cgroup prepared");
    }
    guard.driver().connect().context(CGROUP_ERROR)?;
    let (init, in_cgroup) = bring_up_init(chan, &v, &ns, spawned.stage1).map_err(start_error)?;
    guard.init = Some(init);
    record_init(&guard, &mut record, init)?;
    tracing::debug!("init forked (pid {init}, born in its cgroup: {in_cgroup})");
    // The init waits until it is in its cgroup: its cgroup namespace is rooted there, and no
    // container code runs outside the limits.
    if !in_cgroup {
        guard
            .driver()
            .create(init, resources)
            .context(CGROUP_ERROR)?;
        tracing::debug!("init placed in its cgroup");
    }
    chan.send(&Msg::Done)?;
    run_create_hooks(chan, &v, &record)?;
    await_ready(chan, &record, seccomp.as_ref()).map_err(start_error)?;
    tracing::debug!("init is ready and waits on the exec fifo");
    record.init_start_time = pid_start_time(init.as_raw()).context("container init exited")?;
    commit(guard, record, opts.pid_file.as_deref())
}

/// The init exists: record it before anything else happens to it, so a delete of a create
/// killed from here on finds (and kills) it.
fn record_init(guard: &CreateGuard, record: &mut Record, init: Pid) -> Result<()> {
    record.init_pid = init.as_raw();
    record.init_start_time = pid_start_time(init.as_raw()).context("container init exited")?;
    guard.dir.as_ref().expect("state dir is held").save(record)
}

/// The runtime's fds that the init receives (as raw fds in its config); held until it has
/// forked.
struct InitFds {
    fifo: RawFd,
    console: Option<OwnedFd>,
    cgroup_dir: Option<OwnedFd>,
    bind_sources: Vec<Option<OwnedFd>>,
}

fn init_fds(
    opts: &CreateOptions,
    v: &ValidatedSpec,
    ns: &namespaces::NamespacePlan,
    fifo: RawFd,
    cgroup_dir: Option<OwnedFd>,
) -> Result<InitFds> {
    Ok(InitFds {
        fifo,
        console: connect_console(v, opts)?,
        cgroup_dir,
        // Opened while still the host's root: the mapped root of a user namespace may not
        // reach them (runc does too).
        bind_sources: match ns.in_user_ns() {
            true => crate::rootfs::open_bind_sources(&v.spec, &v.bundle),
            false => Vec::new(),
        },
    })
}

/// What the init needs from the runtime: all of it borrowed, nothing re-read.
fn init_config<'a>(
    opts: &'a CreateOptions,
    v: &'a ValidatedSpec,
    ns: &'a namespaces::NamespacePlan,
    fds: &InitFds,
    seccomp: Option<&'a seccomp::Program>,
) -> InitConfig<'a> {
    InitConfig {
        id: &opts.id,
        spec: &v.spec,
        rootfs: &v.rootfs,
        bundle: &v.bundle,
        namespaces: ns,
        no_pivot: opts.no_pivot,
        no_new_keyring: opts.no_new_keyring,
        fifo: fds.fifo,
        console: fds
            .console
            .as_ref()
            .map(|c| c.as_raw_fd())
            .or(local_console(v, opts)),
        preserve_fds: opts.preserve_fds,
        cgroup_dir: fds.cgroup_dir.as_ref().map(|d| d.as_raw_fd()),
        seccomp,
        bind_sources: fds
            .bind_sources
            .iter()
            .map(|fd| fd.as_ref().map(|f| f.as_raw_fd()))
            .collect(),
    }
}

/// The init waits on the exec FIFO: record the container, and keep everything the guard held.
fn commit(guard: CreateGuard, mut record: Record, pid_file: Option<&Path>) -> Result<Created> {
    record.creating = None;
    guard
        .dir
        .as_ref()
        .expect("state dir is held")
        .save(&record)?;
    if let Some(path) = pid_file {
        write_pid_file(path, Pid::from_raw(record.init_pid))?;
    }
    let dir = guard.disarm().expect("state dir is held");
    Ok(Created { record, dir })
}

/// prestart and createRuntime run in the runtime's namespaces once the init has made its
/// mounts, before it pivots; the init then runs createContainer with the state we send.
fn run_create_hooks(chan: &Channel, v: &ValidatedSpec, record: &Record) -> Result<()> {
    chan.expect(&Msg::RunHooks).map_err(start_error)?;
    tracing::debug!("init mounted the rootfs");
    // Every hook of create sees status "created", as runtime-tools' hooks_stdin and crun
    // expect (the spec's "creating" is not observable by clients).
    let created = serde_json::to_string(&record.view_with(Status::Created))?;
    hooks::run(v.spec.hooks(), Kind::Prestart, &created)?;
    hooks::run(v.spec.hooks(), Kind::CreateRuntime, &created)?;
    chan.send(&Msg::State(created))
}

/// The init says Ready once it waits on the exec FIFO. A seccomp listener it sends before
/// goes to the agent at once: the container's process cannot run before the agent has it.
fn await_ready(chan: &Channel, record: &Record, filter: Option<&seccomp::Program>) -> Result<()> {
    loop {
        match chan.recv_with_fd()? {
            (Msg::Ready, _) => return Ok(()),
            (Msg::SeccompListener, Some(fd)) => {
                let listener = filter.and_then(|p| p.listener.as_ref());
                let listener = listener.context("sync: a seccomp listener nobody asked for")?;
                let state = serde_json::to_value(record.view_with(Status::Created))?;
                let state = seccomp::agent_state(state, true);
                seccomp::notify::hand_over(listener, fd, record.init_pid, &state)?;
            }
            (Msg::Error(e), _) => anyhow::bail!(e),
            (other, _) => anyhow::bail!("sync: expected Ready, got {other:?}"),
        }
    }
}

/// Stage 1's part: id maps for a new user namespace, the init's pid (and whether it was born
/// in its cgroup); then reap stage 1.
fn bring_up_init(
    chan: &Channel,
    v: &ValidatedSpec,
    ns: &namespaces::NamespacePlan,
    stage1: Pid,
) -> Result<(Pid, bool)> {
    let mut msg = chan.recv()?;
    if ns.new_user && msg == Msg::MapIds {
        let linux = v.spec.linux().as_ref().context("linux section")?;
        let uids = linux.uid_mappings().clone().unwrap_or_default();
        let gids = linux.gid_mappings().clone().unwrap_or_default();
        namespaces::write_id_maps(stage1.as_raw(), &uids, &gids)?;
        chan.send(&Msg::Done)?;
        msg = chan.recv()?;
    }
    let init = match msg {
        Msg::InitPid(pid, in_cgroup) => (Pid::from_raw(pid), in_cgroup),
        Msg::Error(e) => anyhow::bail!(e),
        other => anyhow::bail!("sync: expected the init's pid, got {other:?}"),
    };
    waitpid(stage1, None).context("waiting for stage 1")?;
    Ok(init)
}

/// runc's framing of a failure inside the container's processes.
fn start_error(e: anyhow::Error) -> anyhow::Error {
    anyhow::anyhow!("unable to start container process: error during container init: {e:#}")
}

/// `run`'s own console socket, when the process wants a terminal.
fn local_console(v: &ValidatedSpec, opts: &CreateOptions) -> Option<RawFd> {
    opts.local_console.filter(|_| terminal(v))
}

fn terminal(v: &ValidatedSpec) -> bool {
    v.spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false)
}

fn connect_console(v: &ValidatedSpec, opts: &CreateOptions) -> Result<Option<OwnedFd>> {
    match (&opts.console_socket, terminal(v)) {
        (Some(path), true) => Ok(Some(crate::terminal::connect_console_socket(path)?)),
        (None, true) if opts.local_console.is_some() => Ok(None),
        (None, true) => anyhow::bail!(
            "process.terminal is true: a --console-socket is needed to hand over the pty"
        ),
        (Some(_), false) => {
            anyhow::bail!("--console-socket was given but process.terminal is false")
        }
        (None, false) => Ok(None),
    }
}

/// The `creating` record: no init yet, nothing made yet.
fn new_record(id: &str, v: &ValidatedSpec, cgroup: CgroupLocation) -> Result<Record> {
    let owner = crate::state::owner_name(nix::unistd::geteuid().as_raw());
    Ok(Record {
        id: id.to_string(),
        init_pid: 0,
        init_start_time: 0,
        bundle: v.bundle.clone(),
        rootfs: v.rootfs.clone(),
        created: crate::logging::now_rfc3339(),
        owner,
        annotations: v.spec.annotations().clone().unwrap_or_default(),
        cgroup,
        config: v.spec.clone(),
        creating: Some(Creator::this_process()),
        cgroup_owned: Some(Default::default()),
    })
}

fn write_pid_file(path: &Path, pid: Pid) -> Result<()> {
    // Written beside the target and renamed, so a reader never sees a partial pid.
    let tmp = path.with_extension("shoji-tmp");
    std::fs::write(&tmp, pid.to_string()).with_context(|| format!("writing pid file {tmp:?}"))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing pid file {path:?}"))
}
