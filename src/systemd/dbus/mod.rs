//! The blocking D-Bus client to systemd's manager (org.freedesktop.systemd1): the system bus,
//! or systemd's private socket when there is no bus.
//!
//! Inputs: unit names and [`Property`] lists (their D-Bus types fixed by `properties`).
//! Outputs: started, changed, stopped units; job results. Runs in the runtime parent, after the
//! container child is cloned: zbus starts background threads, which a fork must never inherit.
//! Invariants: this module (with its `private_socket` part) is the only one importing zbus;
//! every job is waited for with a timeout, subscribed to before it is queued.
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use zbus::blocking::{Connection, MessageIterator};
use zbus::message::Type as MessageType;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value as DbusValue};
use zbus::MatchRule;

use super::properties::{Property, Value};

mod private_socket;

const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";
const PRIVATE_SOCKET: &str = "/run/systemd/private";
const DESTINATION: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
/// How long a single method call may take before the manager is considered hung.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How many JobRemoved signals wait unread at most (see `job_removed_signals`).
const JOB_SIGNALS_KEPT: usize = 1024;

/// How a StartTransientUnit ended when it did not fail outright.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    Done,
    /// A unit with that name is still loaded (for instance, left by a crashed container).
    Exists,
}

/// A connection to systemd: the system bus, or systemd's private socket when there is no bus.
pub struct Systemd {
    conn: Connection,
    /// (job, result) of the JobRemoved signals since the last job was queued (bounded: see
    /// `job_removed_signals`).
    jobs: mpsc::Receiver<(OwnedObjectPath, String)>,
    /// Set by the signal reader when the connection's stream ends (systemd or the bus went).
    closed: Arc<AtomicBool>,
}

thread_local! {
    /// This command's connection: `run` creates and deletes over one (a connect is a socket,
    /// an auth exchange, Hello and AddMatch: a tenth of a systemd `run`).
    static SHARED: RefCell<Option<Rc<Systemd>>> = const { RefCell::new(None) };
}

impl Systemd {
    /// The command's connection to systemd, made on first use and made again when it broke.
    pub fn shared() -> Result<Rc<Systemd>> {
        SHARED.with(|cell| {
            let mut cell = cell.borrow_mut();
            if let Some(bus) = cell.as_ref().filter(|b| !b.closed.load(Ordering::Relaxed)) {
                return Ok(bus.clone());
            }
            let bus = Rc::new(Systemd::connect()?);
            *cell = Some(bus.clone());
            Ok(bus)
        })
    }

    /// Connect to the system bus, or peer-to-peer (no Hello) to systemd's private socket.
    /// (The private socket first, as systemctl does for root, was no faster: bench/systemd.sh
    /// A/B, 28.5 against 27.1 ms a run; systemd sends a direct client every signal.)
    pub fn connect() -> Result<Self> {
        with_signals_blocked(Self::connect_now)?
    }

    fn connect_now() -> Result<Self> {
        use zbus::blocking::connection::Builder;
        let (builder, what, bus) = if Path::new(SYSTEM_BUS).exists() {
            let address = format!("unix:path={SYSTEM_BUS}");
            (Builder::address(address.as_str())?, "the system bus", true)
        } else if Path::new(PRIVATE_SOCKET).exists() {
            (
                private_socket::builder()?.p2p(),
                "systemd's private socket",
                false,
            )
        } else {
            bail!(
                "systemd is not reachable: no system bus at {SYSTEM_BUS:?} and no systemd \
                 private socket at {PRIVATE_SOCKET:?} (drop --systemd-cgroup to use cgroupfs)"
            );
        };
        let conn = builder
            .method_timeout(CALL_TIMEOUT)
            .build()
            .with_context(|| format!("connecting to systemd over {what}"))?;
        // No Subscribe: systemd sends a job's JobRemoved to the client that queued it (and
        // every signal to private-socket clients); subscribing would add a round trip and a
        // stream of unit signals to read.
        let closed = Arc::new(AtomicBool::new(false));
        let jobs = job_removed_signals(&conn, bus, closed.clone())?;
        Ok(Systemd { conn, jobs, closed })
    }

    fn call<B>(&self, method: &str, body: &B) -> zbus::Result<zbus::Message>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        self.conn
            .call_method(Some(DESTINATION), MANAGER_PATH, Some(MANAGER), method, body)
    }

    /// StartTransientUnit(name, "replace", properties, []) and wait for its job.
    pub fn start_transient_unit(
        &self,
        name: &str,
        props: &[Property],
        timeout: Duration,
    ) -> Result<Started> {
        let props: Vec<(&str, DbusValue)> = props.iter().map(encode).collect();
        let aux: Vec<(&str, Vec<(&str, DbusValue)>)> = Vec::new();
        self.discard_old_job_signals();
        let reply = match self.call("StartTransientUnit", &(name, "replace", props, aux)) {
            Ok(reply) => reply,
            Err(e) if error_name(&e) == Some("org.freedesktop.systemd1.UnitExists") => {
                return Ok(Started::Exists)
            }
            Err(e) => return Err(e).with_context(|| format!("starting unit {name:?}")),
        };
        let job: OwnedObjectPath = reply.body().deserialize()?;
        // The signals are read from before the call: a job that ends before the reply is not
        // missed.
        match self
            .wait_job(&job, timeout)
            .with_context(|| format!("starting unit {name:?}"))?
        {
            result if result == "done" => Ok(Started::Done),
            result => bail!("error creating systemd unit {name:?}: job result {result:?}"),
        }
    }

    /// StopUnit(name, "replace") and wait for the job; a unit that is not loaded is stopped.
    pub fn stop_unit(&self, name: &str, timeout: Duration) -> Result<()> {
        self.discard_old_job_signals();
        let reply = match self.call("StopUnit", &(name, "replace")) {
            Ok(reply) => reply,
            Err(e) if error_name(&e) == Some("org.freedesktop.systemd1.NoSuchUnit") => {
                return Ok(())
            }
            Err(e) => return Err(e).with_context(|| format!("stopping unit {name:?}")),
        };
        let job: OwnedObjectPath = reply.body().deserialize()?;
        let result = self
            .wait_job(&job, timeout)
            .with_context(|| format!("stopping unit {name:?}"))?;
        if result != "done" {
            bail!("error stopping systemd unit {name:?}: job result {result:?}");
        }
        Ok(())
    }

    /// KillUnit(name, "all", signal): every process of the unit. Not loaded is fine.
    pub fn kill_unit(&self, name: &str, signal: i32) -> Result<()> {
        match self.call("KillUnit", &(name, "all", signal)) {
            Ok(_) => Ok(()),
            Err(e) if error_name(&e) == Some("org.freedesktop.systemd1.NoSuchUnit") => Ok(()),
            Err(e) => Err(e).with_context(|| format!("killing unit {name:?}")),
        }
    }

    /// ResetFailedUnit(name): lets systemd unload a failed unit. Best effort, so no reply is
    /// awaited (it is a round trip saved per container); systemd still handles it before any
    /// later call on this connection.
    pub fn reset_failed_unit(&self, name: &str) -> Result<()> {
        let msg = zbus::Message::method_call(MANAGER_PATH, "ResetFailedUnit")?
            .destination(DESTINATION)?
            .interface(MANAGER)?
            .with_flags(zbus::message::Flags::NoReplyExpected)?
            .build(&(name,))?;
        self.conn
            .send(&msg)
            .with_context(|| format!("resetting failed unit {name:?}"))
    }

    /// SetUnitProperties(name, runtime=true, properties).
    pub fn set_unit_properties(&self, name: &str, props: &[Property]) -> Result<()> {
        let props: Vec<(&str, DbusValue)> = props.iter().map(encode).collect();
        self.call("SetUnitProperties", &(name, true, props))
            .with_context(|| format!("setting properties of unit {name:?}"))?;
        Ok(())
    }

    /// The unit's ActiveState ("active", "failed", …), or None when it is not loaded.
    pub fn active_state(&self, name: &str) -> Result<Option<String>> {
        let path: OwnedObjectPath = match self.call("GetUnit", &(name,)) {
            Ok(reply) => reply.body().deserialize()?,
            Err(e) if error_name(&e) == Some("org.freedesktop.systemd1.NoSuchUnit") => {
                return Ok(None)
            }
            Err(e) => return Err(e).with_context(|| format!("looking up unit {name:?}")),
        };
        let reply = self
            .conn
            .call_method(
                Some(DESTINATION),
                &path,
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &("org.freedesktop.systemd1.Unit", "ActiveState"),
            )
            .with_context(|| format!("reading ActiveState of unit {name:?}"))?;
        let state: OwnedValue = reply.body().deserialize()?;
        Ok(Some(String::try_from(state)?))
    }

    /// The manager's Version property: a read-only round trip proving systemd answers.
    pub fn version(&self) -> Result<String> {
        let reply = self
            .conn
            .call_method(
                Some(DESTINATION),
                MANAGER_PATH,
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &(MANAGER, "Version"),
            )
            .context("reading systemd's Version")?;
        let version: OwnedValue = reply.body().deserialize()?;
        Ok(String::try_from(version)?)
    }

    /// Before a job is queued: the signals received so far are other jobs' (from other clients
    /// when anyone on the bus subscribed, piled up while a foreground `run` waited), never its.
    fn discard_old_job_signals(&self) {
        while self.jobs.try_recv().is_ok() {}
    }

    /// The result ("done", "failed", "timeout"…) of `job`, from the JobRemoved signals.
    fn wait_job(&self, job: &OwnedObjectPath, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.jobs.recv_timeout(left) {
                Ok((path, result)) if path == *job => return Ok(result),
                // Another job of this connection (one whose wait timed out, say).
                Ok(_) => {}
                Err(_) => bail!("timed out after {timeout:?} waiting for the systemd job"),
            }
        }
    }
}

/// Run `f` with every signal blocked in this thread. zbus's threads (its executor, async-io's
/// reactor, the blocking pool) and ours inherit the mask of the thread that starts them: made
/// so, they never take a signal meant for the runtime. A SIGCHLD that `run` waits for went to
/// one of them and was dropped there, and `run` hung (seen in bench/systemd.sh).
fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> Result<T> {
    use nix::sys::signal::{SigSet, SigmaskHow};
    let old = SigSet::all()
        .thread_swap_mask(SigmaskHow::SIG_BLOCK)
        .context("blocking signals for systemd's D-Bus threads")?;
    let out = f();
    old.thread_set_mask().context("restoring the signal mask")?;
    Ok(out)
}

/// Every JobRemoved(id, job, unit, result) of the manager, as (job, result), read by a thread:
/// the blocking iterator has no timeout, a channel has. The thread reads every message of the
/// connection from before anything is sent, so no job's signal is missed, and ends with the
/// connection (setting `closed`) or the receiver.
fn job_removed_signals(
    conn: &Connection,
    bus: bool,
    closed: Arc<AtomicBool>,
) -> Result<mpsc::Receiver<(OwnedObjectPath, String)>> {
    // No sender in the rule: on the private socket signals carry none, and on the bus
    // systemd's unique name is not known here.
    let rule = MatchRule::builder()
        .msg_type(MessageType::Signal)
        .path(MANAGER_PATH)?
        .interface(MANAGER)?
        .member("JobRemoved")?
        .build();
    let messages = MessageIterator::from(conn);
    if bus {
        add_match(conn, &rule)?;
    }
    // Bounded: the connection lives through a foreground `run`, and when some client on the bus
    // has subscribed to systemd every job on the host reaches us; past the bound, signals are
    // dropped. The queue is emptied before each job, so its own signal finds room.
    let (tx, rx) = mpsc::sync_channel(JOB_SIGNALS_KEPT);
    std::thread::spawn(move || {
        for msg in messages.flatten() {
            if !rule.matches(&msg).unwrap_or(false) {
                continue;
            }
            let body = msg.body();
            let Ok((_, job, _, result)) =
                body.deserialize::<(u32, OwnedObjectPath, String, String)>()
            else {
                continue;
            };
            if let Err(mpsc::TrySendError::Disconnected(_)) = tx.try_send((job, result)) {
                return;
            }
        }
        closed.store(true, Ordering::Relaxed);
    });
    Ok(rx)
}

/// The bus routes systemd's JobRemoved only to connections with a match for it (the private
/// socket gets every signal). AddMatch goes without waiting for its reply, a round trip saved
/// per command: the bus handles a connection's messages in order, so the match is in place
/// before any job this connection queues. A refused match would show as a job wait timing out.
fn add_match(conn: &Connection, rule: &MatchRule) -> Result<()> {
    let msg = zbus::Message::method_call("/org/freedesktop/DBus", "AddMatch")?
        .destination("org.freedesktop.DBus")?
        .interface("org.freedesktop.DBus")?
        .with_flags(zbus::message::Flags::NoReplyExpected)?
        .build(&(rule.to_string(),))?;
    conn.send(&msg)
        .context("subscribing to systemd's JobRemoved signals")
}

fn error_name(e: &zbus::Error) -> Option<&str> {
    match e {
        zbus::Error::MethodError(name, _, _) => Some(name.as_str()),
        _ => None,
    }
}

fn encode(p: &Property) -> (&str, DbusValue<'_>) {
    let v = match &p.value {
        Value::Bool(b) => DbusValue::from(*b),
        Value::U64(n) => DbusValue::from(*n),
        Value::Str(s) => DbusValue::from(s.as_str()),
        Value::Strs(v) => DbusValue::from(v.clone()),
        Value::U32s(v) => DbusValue::from(v.clone()),
        Value::Bytes(v) => DbusValue::from(v.clone()),
        Value::PathU64s(v) => DbusValue::from(v.clone()),
        Value::PathStrs(v) => DbusValue::from(v.clone()),
    };
    (p.name, v)
}
