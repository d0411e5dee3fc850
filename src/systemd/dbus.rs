//! The blocking D-Bus client to systemd's manager (org.freedesktop.systemd1). The only file that
//! imports zbus. Runs in the runtime parent, after the container child is cloned: zbus starts
//! background threads, which must never be inherited by a fork.
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use async_io::Async;
use zbus::blocking::{Connection, MessageIterator};
use zbus::connection::socket::{BoxedSplit, ReadHalf, Split};
use zbus::message::Type as MessageType;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value as DbusValue};
use zbus::MatchRule;

use super::properties::{Property, Value};

const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";
const PRIVATE_SOCKET: &str = "/run/systemd/private";
const DESTINATION: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
/// How long a single method call may take before the manager is considered hung.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

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
}

impl Systemd {
    /// Connect to the system bus, or peer-to-peer (no Hello) to systemd's private socket.
    pub fn connect() -> Result<Self> {
        use zbus::blocking::connection::Builder;
        let (builder, what) = if Path::new(SYSTEM_BUS).exists() {
            let address = format!("unix:path={SYSTEM_BUS}");
            (Builder::address(address.as_str())?, "the system bus")
        } else if Path::new(PRIVATE_SOCKET).exists() {
            (private_socket()?.p2p(), "systemd's private socket")
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
        let sd = Systemd { conn };
        // Without a subscriber systemd may not emit job signals; once per connection.
        match sd.call("Subscribe", &()) {
            Err(e) if error_name(&e) != Some("org.freedesktop.systemd1.AlreadySubscribed") => {
                Err(e).context("subscribing to systemd signals")
            }
            _ => Ok(sd),
        }
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
        // Subscribe before starting: the job can finish before the method call returns.
        let jobs = self.job_removed_signals()?;
        let props: Vec<(&str, DbusValue)> = props.iter().map(encode).collect();
        let aux: Vec<(&str, Vec<(&str, DbusValue)>)> = Vec::new();
        let reply = match self.call("StartTransientUnit", &(name, "replace", props, aux)) {
            Ok(reply) => reply,
            Err(e) if error_name(&e) == Some("org.freedesktop.systemd1.UnitExists") => {
                return Ok(Started::Exists)
            }
            Err(e) => return Err(e).with_context(|| format!("starting unit {name:?}")),
        };
        let job: OwnedObjectPath = reply.body().deserialize()?;
        match wait_job(jobs, job, timeout).with_context(|| format!("starting unit {name:?}"))? {
            result if result == "done" => Ok(Started::Done),
            result => bail!("error creating systemd unit {name:?}: job result {result:?}"),
        }
    }

    /// StopUnit(name, "replace") and wait for the job; a unit that is not loaded is stopped.
    pub fn stop_unit(&self, name: &str, timeout: Duration) -> Result<()> {
        let jobs = self.job_removed_signals()?;
        let reply = match self.call("StopUnit", &(name, "replace")) {
            Ok(reply) => reply,
            Err(e) if error_name(&e) == Some("org.freedesktop.systemd1.NoSuchUnit") => {
                return Ok(())
            }
            Err(e) => return Err(e).with_context(|| format!("stopping unit {name:?}")),
        };
        let job: OwnedObjectPath = reply.body().deserialize()?;
        let result =
            wait_job(jobs, job, timeout).with_context(|| format!("stopping unit {name:?}"))?;
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

    /// ResetFailedUnit(name): lets systemd unload a failed unit. Not loaded or not failed is fine.
    pub fn reset_failed_unit(&self, name: &str) -> Result<()> {
        match self.call("ResetFailedUnit", &(name,)) {
            Ok(_) => Ok(()),
            Err(e) if error_name(&e) == Some("org.freedesktop.systemd1.NoSuchUnit") => Ok(()),
            Err(e) => Err(e).with_context(|| format!("resetting failed unit {name:?}")),
        }
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

    /// A queue of the manager's JobRemoved signals, filled from the moment this returns.
    fn job_removed_signals(&self) -> Result<MessageIterator> {
        // No sender in the rule: on the private socket, signals carry none.
        let rule = MatchRule::builder()
            .msg_type(MessageType::Signal)
            .path(MANAGER_PATH)?
            .interface(MANAGER)?
            .member("JobRemoved")?
            .build();
        Ok(MessageIterator::for_match_rule(rule, &self.conn, None)?)
    }
}

/// Wait for JobRemoved(id, job, unit, result) of `job`; returns its result ("done", "failed"…).
fn wait_job(jobs: MessageIterator, job: OwnedObjectPath, timeout: Duration) -> Result<String> {
    let (tx, rx) = mpsc::channel();
    // The blocking iterator has no timeout of its own; a reader thread that outlives a timeout
    // stays blocked until the connection is dropped with the process.
    std::thread::spawn(move || {
        for msg in jobs {
            let Ok(msg) = msg else { continue };
            let body = msg.body();
            let Ok((_, path, _, result)) =
                body.deserialize::<(u32, OwnedObjectPath, String, String)>()
            else {
                continue;
            };
            if path == job {
                let _ = tx.send(result);
                return;
            }
        }
    });
    rx.recv_timeout(timeout)
        .map_err(|_| anyhow!("timed out after {timeout:?} waiting for the systemd job"))
}

/// A connection builder for systemd's private socket. systemd stamps every message there with
/// the sender `org.freedesktop.systemd1`, which zbus 5 rejects as not a unique name and panics
/// on (z-galaxy/zbus#1497). So the EXTERNAL handshake is done here, and the read half rewrites
/// that sender to the same-length unique name `:org.freedesktop.systemd` before zbus sees it.
fn private_socket() -> Result<zbus::blocking::connection::Builder<'static>> {
    let mut stream = UnixStream::connect(PRIVATE_SOCKET)
        .with_context(|| format!("connecting to {PRIVATE_SOCKET:?}"))?;
    let guid = authenticate(&mut stream).context("authenticating to systemd's private socket")?;
    let stream = Arc::new(Async::new(stream)?);
    let split: BoxedSplit = Split::new(
        Box::new(PatchSender {
            inner: stream.clone(),
            pending: Vec::new(),
        }),
        Box::new(stream),
    );
    Ok(zbus::blocking::connection::Builder::authenticated_socket(
        split, guid,
    )?)
}

/// The SASL EXTERNAL exchange of the D-Bus spec, without fd passing (none is needed).
fn authenticate(stream: &mut UnixStream) -> Result<String> {
    let uid: String = nix::unistd::geteuid()
        .to_string()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    stream.write_all(format!("\0AUTH EXTERNAL {uid}\r\n").as_bytes())?;
    let mut line = Vec::new();
    let mut byte = [0u8];
    while !line.ends_with(b"\r\n") {
        stream.read_exact(&mut byte)?;
        line.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&line);
    let Some(guid) = line.trim_end().strip_prefix("OK ") else {
        bail!("systemd refused: {:?}", line.trim_end());
    };
    stream.write_all(b"BEGIN\r\n")?;
    Ok(guid.to_string())
}

#[derive(Debug)]
struct PatchSender {
    inner: Arc<Async<UnixStream>>,
    /// The rest of the last message read, patched, not yet handed to zbus.
    pending: Vec<u8>,
}

#[zbus::export::async_trait::async_trait]
impl ReadHalf for PatchSender {
    async fn recvmsg(&mut self, buf: &mut [u8]) -> std::io::Result<(usize, Vec<OwnedFd>)> {
        if self.pending.is_empty() {
            self.pending = self.read_message().await?;
            patch_sender(&mut self.pending);
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok((n, Vec::new()))
    }
}

impl PatchSender {
    /// One whole message: the 16-byte start gives the header-fields and body lengths.
    async fn read_message(&mut self) -> std::io::Result<Vec<u8>> {
        let mut msg = vec![0u8; 16];
        self.fill(&mut msg, 0).await?;
        let u32_at = |m: &[u8], at: usize| {
            let b = [m[at], m[at + 1], m[at + 2], m[at + 3]];
            if m[0] == b'B' {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let fields_end = 16 + u32_at(&msg, 12) as usize;
        let total = fields_end.next_multiple_of(8) + u32_at(&msg, 4) as usize;
        msg.resize(total, 0);
        self.fill(&mut msg, 16).await?;
        Ok(msg)
    }

    async fn fill(&mut self, msg: &mut [u8], mut at: usize) -> std::io::Result<()> {
        while at < msg.len() {
            let (n, _) = self.inner.recvmsg(&mut msg[at..]).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            at += n;
        }
        Ok(())
    }
}

/// Rewrite the SENDER header field (code 7, a string) `org.freedesktop.systemd1` in place.
fn patch_sender(msg: &mut [u8]) {
    const FROM: &[u8] = b"org.freedesktop.systemd1";
    const TO: &[u8] = b":org.freedesktop.systemd";
    if msg.len() < 16 {
        return;
    }
    let big = msg[0] == b'B';
    let u32_at = |m: &[u8], at: usize| -> Option<usize> {
        let b: [u8; 4] = m.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        } as usize)
    };
    let Some(len) = u32_at(msg, 12) else { return };
    let end = (16 + len).min(msg.len());
    let mut pos: usize = 16;
    loop {
        pos = pos.next_multiple_of(8);
        if pos + 2 > end {
            return;
        }
        let (code, sig_len) = (msg[pos], msg[pos + 1] as usize);
        let sig = msg.get(pos + 2..pos + 2 + sig_len).unwrap_or(b"?").to_vec();
        pos += 3 + sig_len;
        match sig.as_slice() {
            b"s" | b"o" => {
                pos = pos.next_multiple_of(4);
                let Some(n) = u32_at(msg, pos) else { return };
                let value = pos + 4..pos + 4 + n;
                if code == 7 && msg.get(value.clone()) == Some(FROM) {
                    msg[value].copy_from_slice(TO);
                }
                pos += 4 + n + 1;
            }
            b"g" => pos += 1 + *msg.get(pos).unwrap_or(&0) as usize + 1,
            b"u" => pos = pos.next_multiple_of(4) + 4,
            _ => return,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::patch_sender;

    /// A little-endian method return: REPLY_SERIAL (5, u) then SENDER (7, s) = `sender`.
    fn reply_from(sender: &str) -> Vec<u8> {
        let mut fields = vec![5, 1, b'u', 0, 1, 0, 0, 0];
        fields.extend([7, 1, b's', 0]);
        fields.extend((sender.len() as u32).to_le_bytes());
        fields.extend(sender.as_bytes());
        fields.push(0);
        let mut msg = vec![b'l', 2, 1, 1, 0, 0, 0, 0, 9, 0, 0, 0];
        msg.extend((fields.len() as u32).to_le_bytes());
        msg.extend(fields);
        msg.resize(msg.len().next_multiple_of(8), 0);
        msg
    }

    #[test]
    fn rewrites_only_systemds_sender() {
        let cases = [
            ("org.freedesktop.systemd1", ":org.freedesktop.systemd"),
            (":1.42", ":1.42"),
            ("org.freedesktop.systemd2", "org.freedesktop.systemd2"),
        ];
        for (sender, want) in cases {
            let mut msg = reply_from(sender);
            patch_sender(&mut msg);
            assert_eq!(msg, reply_from(want), "{sender}");
        }
        let mut short = vec![b'l', 2, 1];
        patch_sender(&mut short);
        assert_eq!(short, vec![b'l', 2, 1]);
    }
}
