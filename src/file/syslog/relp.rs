//! RELP, rsyslog's reliable event logging protocol (`syslog+relp://`): every message is a
//! `syslog` command that the receiver acknowledges with a `rsp` frame.
//!
//! A frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. A session starts with `1 open`
//! carrying the offers (`relp_version=0`, `relp_software`, `commands=syslog`), answered by
//! `1 rsp` with `200 OK` and the offers the server accepts; each message then goes as
//! `N syslog LEN MSG` (N counting up from 2), answered by `N rsp 6 200 OK`, in the order
//! sent. At most `relp_window` messages are unacknowledged at a time. The server may hint
//! that it closes with `0 serverclose 0`.
//!
//! At-least-once: a message stays here until its `rsp` arrives; when a connection breaks,
//! the unacknowledged messages are sent again on the next one (with new numbers) and
//! counted as resent: the receiver may have taken some of them before it broke, and then
//! holds those twice.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use super::stream::{Sent, connect};
use crate::sys::ForkClosed;

/// How long one wait for the socket lasts (the caller then looks at its stop flag).
const SLICE: Duration = Duration::from_millis(100);
/// The largest frame accepted from the server (a `rsp` is short).
const MAX_RX_FRAME: usize = 64 * 1024;

/// One frame read from the server.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Frame<'a> {
    /// Transaction number.
    pub txnr: u32,
    /// The command (`rsp`, `serverclose`).
    pub command: &'a [u8],
    /// The data (for `rsp`: `CODE [TEXT][LF offers]`).
    pub data: &'a [u8],
}

/// Appends a frame.
pub(super) fn push_frame(out: &mut Vec<u8>, txnr: u32, command: &[u8], data: &[u8]) {
    crate::format::push_u64(out, u64::from(txnr));
    out.push(b' ');
    out.extend_from_slice(command);
    out.push(b' ');
    crate::format::push_u64(out, data.len() as u64);
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

/// Reads the first frame of `buf`: `Ok(None)` when it is not complete yet, else the frame
/// and the bytes it took. An error for bytes that are not a RELP frame.
pub(super) fn parse_frame(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, String> {
    fn number(b: &[u8]) -> Option<u32> {
        if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(b).ok()?.parse().ok()
    }
    let bad = || {
        Err(format!(
            "not a RELP frame: {:?}",
            String::from_utf8_lossy(&buf[..buf.len().min(40)])
        ))
    };
    let Some(sp1) = buf.iter().position(|&b| b == b' ') else {
        return if buf.len() > 9 { bad() } else { Ok(None) };
    };
    let Some(txnr) = number(&buf[..sp1]) else {
        return bad();
    };
    let rest = &buf[sp1 + 1..];
    let Some(sp2) = rest.iter().position(|&b| b == b' ') else {
        return if rest.len() > 32 { bad() } else { Ok(None) };
    };
    let command = &rest[..sp2];
    if command.is_empty() || command.len() > 32 || !command.iter().all(u8::is_ascii_alphabetic) {
        return bad();
    }
    let rest = &rest[sp2 + 1..];
    let Some(end) = rest.iter().position(|&b| b == b' ' || b == b'\n') else {
        return if rest.len() > 9 { bad() } else { Ok(None) };
    };
    let Some(len) = number(&rest[..end]) else {
        return bad();
    };
    let len = len as usize;
    let head = sp1 + 1 + sp2 + 1 + end;
    if len == 0 {
        if rest[end] != b'\n' {
            return bad();
        }
        let frame = Frame {
            txnr,
            command,
            data: &[],
        };
        return Ok(Some((frame, head + 1)));
    }
    if rest[end] != b' ' || len > MAX_RX_FRAME {
        return bad();
    }
    let data_at = head + 1;
    if buf.len() < data_at + len + 1 {
        return Ok(None);
    }
    if buf[data_at + len] != b'\n' {
        return bad();
    }
    let frame = Frame {
        txnr,
        command,
        data: &buf[data_at..data_at + len],
    };
    Ok(Some((frame, data_at + len + 1)))
}

/// A message waiting for its acknowledgement.
struct Entry {
    /// Where its frame starts in `Relp::store`, and where the message in it starts.
    frame: usize,
    msg: usize,
    end: usize,
    /// Written on a connection (sent again after a break: counted as resent).
    sent: bool,
    acked: bool,
}

/// A RELP session with the messages not acknowledged yet.
pub(super) struct Relp {
    host: String,
    port: u16,
    timeout: Duration,
    window: usize,
    sock: Option<ForkClosed<TcpStream>>,
    /// The frames of the entries, in order (from `entries[0].frame` on).
    store: Vec<u8>,
    entries: VecDeque<Entry>,
    /// The transaction number of `entries[0]` on this connection.
    first_txnr: u32,
    /// Bytes of `store` written on this connection.
    written: usize,
    /// What the server sent, not yet read as frames.
    rx: Vec<u8>,
    resent: u64,
    /// Messages the server refused (a `rsp` other than 200), for the caller to report.
    refused: Vec<String>,
}

impl Relp {
    pub(super) fn new(host: &str, port: u16, timeout: Duration, window: usize) -> Relp {
        Relp {
            host: host.to_owned(),
            port,
            timeout,
            window: window.max(1),
            sock: None,
            store: Vec::with_capacity(64 * 1024),
            entries: VecDeque::new(),
            first_txnr: 2,
            written: 0,
            rx: Vec::with_capacity(4096),
            resent: 0,
            refused: Vec::new(),
        }
    }

    fn sock(&self) -> Option<&TcpStream> {
        self.sock.as_ref().and_then(ForkClosed::get)
    }

    /// Opens a session (again): connects, sends `open`, reads the server's offers. The
    /// messages not acknowledged on the last one are framed again to go first.
    pub(super) fn connect(&mut self) -> io::Result<()> {
        self.drop_conn();
        let s = connect(&self.host, self.port, self.timeout)?;
        s.set_read_timeout(Some(SLICE))?;
        let mut open = Vec::new();
        let offers = format!(
            "relp_version=0\nrelp_software=mtalog,{},-\ncommands=syslog",
            env!("CARGO_PKG_VERSION")
        );
        push_frame(&mut open, 1, b"open", offers.as_bytes());
        let mut at = 0;
        while at < open.len() {
            match crate::sys::send_wait_nosignal(s.as_fd(), &open[at..])? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => at += n,
            }
        }
        let deadline = Instant::now() + self.timeout;
        self.rx.clear();
        loop {
            if let Some((f, n)) = parse_frame(&self.rx).map_err(io::Error::other)? {
                let ok = f.txnr == 1
                    && f.command == b"rsp"
                    && f.data.starts_with(b"200")
                    && f.data.split(|&b| b == b'\n').any(|o| {
                        o.strip_prefix(b"commands=")
                            .is_some_and(|c| c.split(|&b| b == b',').any(|c| c == b"syslog"))
                    });
                if !ok {
                    return Err(io::Error::other(format!(
                        "the RELP server refused the session: {}",
                        String::from_utf8_lossy(f.data)
                    )));
                }
                self.rx.drain(..n);
                break;
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no answer to RELP open",
                ));
            }
            match read_some(&s, &mut self.rx) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the RELP server closed the connection at open",
                    ));
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) => return Err(e),
            }
        }
        self.sock = Some(ForkClosed::new(s));
        self.reframe();
        Ok(())
    }

    /// Frames the waiting messages again, numbered from 2, for a new connection.
    fn reframe(&mut self) {
        let old = std::mem::take(&mut self.store);
        let mut txnr = 2;
        for e in &mut self.entries {
            let msg = &old[e.msg..e.end - 1];
            let frame = self.store.len();
            push_frame(&mut self.store, txnr, b"syslog", msg);
            e.frame = frame;
            e.end = self.store.len();
            e.msg = e.end - 1 - msg.len();
            if e.sent {
                self.resent += 1;
            }
            e.sent = false;
            e.acked = false;
            txnr = next_txnr(txnr);
        }
        self.first_txnr = 2;
        self.written = 0;
    }

    /// Queues one message.
    pub(super) fn queue(&mut self, msg: &[u8]) {
        let txnr = txnr_after(self.first_txnr, self.entries.len());
        let frame = self.store.len();
        push_frame(&mut self.store, txnr, b"syslog", msg);
        let end = self.store.len();
        self.entries.push_back(Entry {
            frame,
            msg: end - 1 - msg.len(),
            end,
            sent: false,
            acked: false,
        });
    }

    /// Does the window take another message?
    pub(super) fn room(&self) -> bool {
        self.entries.len() < self.window
    }

    /// Are messages not written yet?
    pub(super) fn pending(&self) -> bool {
        self.written < self.store.len()
    }

    /// Messages sent again since the last call.
    pub(super) fn take_resent(&mut self) -> u64 {
        std::mem::take(&mut self.resent)
    }

    /// Texts of the refusals since the last call.
    pub(super) fn take_refused(&mut self) -> Vec<String> {
        std::mem::take(&mut self.refused)
    }

    /// Writes what is queued and reads the acknowledgements; `All` once everything is
    /// written and at most `unacked` messages wait for theirs (a full window waits for
    /// room: `window - 1`; a drain for all: 0). An error drops the connection; the
    /// messages stay.
    pub(super) fn send(&mut self, unacked: usize) -> io::Result<Sent> {
        if self.sock().is_none() {
            self.connect()?;
        }
        let r = self.exchange(unacked);
        if r.is_err() {
            self.drop_conn();
        }
        r
    }

    fn exchange(&mut self, unacked: usize) -> io::Result<Sent> {
        let mut progress = self.read_acks(false)?;
        while self.written < self.store.len() {
            let s = self.sock().expect("connected");
            match crate::sys::send_nosignal(s.as_fd(), &self.store[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.mark_written(n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // The server may be waiting for us to read its acknowledgements.
                    let s = self.sock().expect("connected");
                    crate::sys::poll(&[(s.as_fd(), true), (s.as_fd(), false)], SLICE);
                    if self.read_acks(false)? {
                        progress = true;
                    }
                    if progress {
                        return Ok(Sent::Some);
                    }
                    return Ok(Sent::Nothing);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.entries.len() <= unacked {
            return Ok(Sent::All);
        }
        if self.read_acks(true)? {
            progress = true;
        }
        Ok(if self.entries.len() <= unacked {
            Sent::All
        } else if progress {
            Sent::Some
        } else {
            Sent::Nothing
        })
    }

    fn mark_written(&mut self, n: usize) {
        let before = self.written;
        self.written += n;
        for e in &mut self.entries {
            if e.frame >= self.written {
                break;
            }
            if e.end > before {
                e.sent = true;
            }
        }
    }

    /// Reads the acknowledgements that arrived (waiting up to a slice for one when
    /// `wait`); true when one was read.
    fn read_acks(&mut self, wait: bool) -> io::Result<bool> {
        let s = self.sock().expect("connected");
        // The server's acknowledgements are small writes: acknowledged at once, the next
        // ones are not held back by its Nagle waiting for our delayed ACK.
        crate::sys::quickack(s.as_fd());
        if wait {
            crate::sys::poll(&[(s.as_fd(), false)], SLICE);
        }
        let mut any = false;
        loop {
            let s = self
                .sock
                .as_ref()
                .and_then(ForkClosed::get)
                .expect("connected");
            if !crate::sys::readable_now(s.as_fd()) {
                break;
            }
            let n = read_some(s, &mut self.rx)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the RELP server closed the connection",
                ));
            }
            while let Some((f, used)) = parse_frame(&self.rx).map_err(io::Error::other)? {
                let (txnr, command) = (f.txnr, f.command.to_vec());
                let ok = f.data.starts_with(b"200");
                let text = String::from_utf8_lossy(f.data).into_owned();
                self.rx.drain(..used);
                match command.as_slice() {
                    b"rsp" => {
                        self.ack(txnr, ok, &text)?;
                        any = true;
                    }
                    b"serverclose" => {
                        return Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "the RELP server closed the session",
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(any)
    }

    /// The `rsp` for `txnr`: its message is done (a refusal is recorded).
    fn ack(&mut self, txnr: u32, ok: bool, text: &str) -> io::Result<()> {
        let i = txnr_index(self.first_txnr, txnr);
        let Some(e) = i.and_then(|i| self.entries.get_mut(i)) else {
            return Err(io::Error::other(format!(
                "the RELP server acknowledged {txnr}, which was not sent"
            )));
        };
        if !ok {
            let msg = &self.store[e.msg..e.end - 1];
            self.refused.push(format!(
                "the RELP server refused a message ({text}): {}",
                String::from_utf8_lossy(&msg[..msg.len().min(200)])
            ));
        }
        e.acked = true;
        let mut released = 0;
        while self.entries.front().is_some_and(|e| e.acked) {
            let e = self.entries.pop_front().expect("front");
            released = e.end;
            self.first_txnr = next_txnr(self.first_txnr);
        }
        if released > 0 {
            if self.entries.is_empty() && self.written >= self.store.len() {
                self.store.clear();
                self.written = 0;
            } else if released >= 64 * 1024 && released * 2 >= self.store.len() {
                self.store.drain(..released);
                self.written -= released;
                for e in &mut self.entries {
                    e.frame -= released;
                    e.msg -= released;
                    e.end -= released;
                }
            }
        }
        Ok(())
    }

    /// Ends the connection; what was not acknowledged goes on the next.
    fn drop_conn(&mut self) {
        self.sock = None;
        self.rx.clear();
    }

    /// Closes the session politely when nothing waits (`close`, and its `rsp` for a
    /// moment), else just the connection.
    pub(super) fn close(&mut self) {
        if let (Some(s), true) = (self.sock(), self.entries.is_empty()) {
            let mut f = Vec::new();
            push_frame(&mut f, self.first_txnr, b"close", b"");
            if crate::sys::send_nosignal(s.as_fd(), &f).is_ok() {
                crate::sys::poll(&[(s.as_fd(), false)], SLICE);
            }
        }
        self.drop_conn();
    }
}

impl Drop for Relp {
    fn drop(&mut self) {
        self.close();
    }
}

/// Reads what is there into `rx` (at most a slice's wait); the count, 0 at end of file.
fn read_some(s: &TcpStream, rx: &mut Vec<u8>) -> io::Result<usize> {
    let mut buf = [0u8; 4096];
    loop {
        match (&*s).read(&mut buf) {
            Ok(n) => {
                rx.extend_from_slice(&buf[..n]);
                return Ok(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the RELP server did not answer",
                ));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The transaction number after `t` (1 to 999,999,999, then 1 again).
fn next_txnr(t: u32) -> u32 {
    if t >= 999_999_999 { 1 } else { t + 1 }
}

fn txnr_after(first: u32, n: usize) -> u32 {
    ((u64::from(first) - 1 + n as u64) % 999_999_999 + 1) as u32
}

fn txnr_index(first: u32, t: u32) -> Option<usize> {
    let d = (i64::from(t) - i64::from(first)).rem_euclid(999_999_999);
    usize::try_from(d).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_out() {
        let mut out = Vec::new();
        push_frame(&mut out, 1, b"open", b"relp_version=0");
        push_frame(&mut out, 7, b"close", b"");
        assert_eq!(out, b"1 open 14 relp_version=0\n7 close 0\n");
    }

    #[test]
    fn frames_in() {
        let buf = b"2 rsp 6 200 OK\n0 serverclose 0\n";
        let (f, n) = parse_frame(buf).unwrap().unwrap();
        assert_eq!(
            (f.txnr, f.command, f.data, n),
            (2, &b"rsp"[..], &b"200 OK"[..], 15)
        );
        let (f, n) = parse_frame(&buf[n..]).unwrap().unwrap();
        assert_eq!(
            (f.txnr, f.command, f.data, n),
            (0, &b"serverclose"[..], &b""[..], 16)
        );
        // Incomplete frames wait for more bytes, at every point.
        for cut in 0..15 {
            assert_eq!(parse_frame(&buf[..cut]), Ok(None), "{cut}");
        }
        // Offers span lines inside the data.
        let open = b"1 rsp 37 200 OK\nrelp_version=0\ncommands=syslog\n";
        let (f, _) = parse_frame(open).unwrap().unwrap();
        assert_eq!(f.data, b"200 OK\nrelp_version=0\ncommands=syslog");
        for bad in [
            &b"x rsp 6 200 OK\n"[..],
            b"2 r$p 6 200 OK\n",
            b"2 rsp 6 200 OKX",
            b"2 rsp 0 \n",
            b"2 rsp 99999999 ",
            b"1234567890 rsp",
        ] {
            assert!(
                parse_frame(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn transaction_numbers_wrap() {
        assert_eq!(next_txnr(2), 3);
        assert_eq!(next_txnr(999_999_999), 1);
        assert_eq!(txnr_after(999_999_998, 3), 2);
        assert_eq!(txnr_index(999_999_998, 2), Some(3));
        assert_eq!(txnr_index(5, 5), Some(0));
    }
}
