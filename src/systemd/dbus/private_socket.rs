//! systemd's private socket (/run/systemd/private): a peer-to-peer D-Bus connection to PID 1
//! that works without dbus-daemon. systemd stamps every message there with the sender
//! `org.freedesktop.systemd1`, which zbus 5 rejects as not a unique name and panics on
//! (z-galaxy/zbus#1497). So the EXTERNAL handshake is done here, and the read half rewrites
//! that sender to the same-length unique name `:org.freedesktop.systemd` before zbus sees it.
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use async_io::Async;
use zbus::connection::socket::{BoxedSplit, ReadHalf, Split};

use super::PRIVATE_SOCKET;

/// An authenticated connection builder for the private socket, sender rewriting included.
pub(super) fn builder() -> Result<zbus::blocking::connection::Builder<'static>> {
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

/// The SASL EXTERNAL exchange of the D-Bus spec. NEGOTIATE_UNIX_FD and BEGIN go in one write
/// and the answer to the first is awaited: then systemd has processed BEGIN before the first
/// message arrives. Sent right behind BEGIN, that message would sit unread in systemd's auth
/// buffer (systemd 252 dispatches it only on the next socket event), and the call would hang.
fn authenticate(stream: &mut UnixStream) -> Result<String> {
    let uid: String = nix::unistd::geteuid()
        .to_string()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    stream.write_all(format!("\0AUTH EXTERNAL {uid}\r\n").as_bytes())?;
    let ok = read_line(stream)?;
    let Some(guid) = ok.strip_prefix("OK ") else {
        bail!("systemd refused: {ok:?}");
    };
    stream.write_all(b"NEGOTIATE_UNIX_FD\r\nBEGIN\r\n")?;
    // AGREE_UNIX_FD or ERROR: either way the line after it, BEGIN, is processed.
    let answer = read_line(stream)?;
    if !(answer == "AGREE_UNIX_FD" || answer.starts_with("ERROR")) {
        bail!("unexpected answer {answer:?} to NEGOTIATE_UNIX_FD");
    }
    Ok(guid.to_string())
}

/// One `\r\n`-terminated line of the auth exchange, byte by byte (nothing may be over-read).
fn read_line(stream: &mut UnixStream) -> Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8];
    while !line.ends_with(b"\r\n") {
        stream.read_exact(&mut byte)?;
        line.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_string())
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
