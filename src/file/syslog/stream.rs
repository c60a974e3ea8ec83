//! RFC 5424 messages over TCP (`syslog+tcp://`), framed by RFC 6587 octet counting
//! (`LEN SP MSG`).
//!
//! TCP has no acknowledgement a sender can see per message, but the sender's kernel knows
//! how many bytes the receiver's host has acknowledged (`tcpi_bytes_acked`). A frame is
//! kept until those bytes cover it: when a connection breaks, the frames the receiver's
//! host had not acknowledged are sent again on the next one (counted as resent). What a
//! receiver crash can lose is then what its host had acknowledged and the receiver had
//! not yet processed: its socket's receive buffer and its own queue.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::time::Duration;

use super::message::octet_counted;
use crate::sys::ForkClosed;

/// How long one write may wait for room in the socket (the caller then looks at its stop
/// flag and its stall limit, and tries again).
const SEND_SLICE: Duration = Duration::from_millis(100);
/// Framed bytes not yet written that a destination takes before it writes them.
const CHUNK: usize = 256 * 1024;

/// What a send did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sent {
    /// Everything queued is written.
    All,
    /// Some bytes went out; more wait.
    Some,
    /// The receiver took nothing within a slice.
    Nothing,
}

/// Connects to `host:port`, trying each address within `timeout`.
pub(super) fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address"));
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                s.set_nodelay(true)?;
                s.set_write_timeout(Some(SEND_SLICE))?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A TCP connection that carries octet-counted frames, with the frames its receiver's
/// host has not acknowledged yet.
pub(super) struct Stream {
    host: String,
    port: u16,
    timeout: Duration,
    sock: Option<ForkClosed<TcpStream>>,
    /// Frames from absolute offset `base` on: not known to be at the receiver's host.
    out: Vec<u8>,
    base: u64,
    /// Absolute offset up to which `out` was written on the current connection.
    written: u64,
    /// Absolute offset at which the current connection started writing.
    conn_start: u64,
    /// The absolute end offset of each frame in `out`.
    frames: VecDeque<u64>,
    /// Frames sent again after a broken connection, not yet counted.
    resent: u64,
}

impl Stream {
    pub(super) fn new(host: &str, port: u16, timeout: Duration) -> Stream {
        Stream {
            host: host.to_owned(),
            port,
            timeout,
            sock: None,
            out: Vec::with_capacity(CHUNK),
            base: 0,
            written: 0,
            conn_start: 0,
            frames: VecDeque::new(),
            resent: 0,
        }
    }

    /// Connects (again), dropping the connection there was; the frames its receiver's
    /// host had not acknowledged are sent first on the new one.
    pub(super) fn connect(&mut self) -> io::Result<()> {
        self.drop_conn();
        let s = connect(&self.host, self.port, self.timeout)?;
        self.sock = Some(ForkClosed::new(s));
        self.conn_start = self.base;
        self.written = self.base;
        Ok(())
    }

    /// Queues one message, framed.
    pub(super) fn queue(&mut self, msg: &[u8]) {
        octet_counted(&mut self.out, msg);
        self.frames.push_back(self.base + self.out.len() as u64);
    }

    /// Does the destination take another message before it writes?
    pub(super) fn room(&self) -> bool {
        self.end() - self.written < CHUNK as u64
    }

    /// Are queued bytes not written yet?
    pub(super) fn pending(&self) -> bool {
        self.written < self.end()
    }

    /// Frames sent again since the last call.
    pub(super) fn take_resent(&mut self) -> u64 {
        std::mem::take(&mut self.resent)
    }

    fn end(&self) -> u64 {
        self.base + self.out.len() as u64
    }

    /// Writes what is queued. An error drops the connection (the frames stay, to be sent
    /// on the next one).
    pub(super) fn send(&mut self) -> io::Result<Sent> {
        let alive = self.sock.as_ref().and_then(ForkClosed::get).is_some();
        if alive && self.closed_by_peer() {
            self.drop_conn();
        }
        if self.sock.as_ref().and_then(ForkClosed::get).is_none() {
            self.connect()?;
        }
        self.release();
        let mut progress = false;
        while self.written < self.end() {
            let from = (self.written - self.base) as usize;
            let s = self
                .sock
                .as_ref()
                .and_then(ForkClosed::get)
                .expect("connected");
            match (&*s).write(&self.out[from..]) {
                Ok(0) => {
                    self.drop_conn();
                    return Err(io::ErrorKind::WriteZero.into());
                }
                Ok(n) => {
                    self.written += n as u64;
                    progress = true;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.release();
                    return Ok(if progress { Sent::Some } else { Sent::Nothing });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.drop_conn();
                    return Err(e);
                }
            }
        }
        self.release();
        Ok(Sent::All)
    }

    /// Has the receiver closed the connection (it never writes on it)?
    fn closed_by_peer(&self) -> bool {
        match self.sock.as_ref().and_then(ForkClosed::get) {
            Some(s) => crate::sys::readable_now(s.as_fd()),
            None => true,
        }
    }

    /// Forgets the frames the receiver's host has acknowledged.
    fn release(&mut self) {
        let Some(s) = self.sock.as_ref().and_then(ForkClosed::get) else {
            return;
        };
        let acked = match crate::sys::tcp_bytes_acked(s.as_fd()) {
            Some(a) => (self.conn_start + a).min(self.written),
            // Without the figure, what the kernel took counts as delivered.
            None => self.written,
        };
        let mut upto = self.base;
        while let Some(&end) = self.frames.front() {
            if end > acked {
                break;
            }
            upto = end;
            self.frames.pop_front();
        }
        if upto > self.base {
            let n = (upto - self.base) as usize;
            if self.frames.is_empty() {
                self.out.clear();
            } else {
                self.out.drain(..n);
            }
            self.base = upto;
        }
    }

    /// Closes the connection: the frames written on it that its receiver's host had not
    /// acknowledged will be written again (and are counted as resent).
    fn drop_conn(&mut self) {
        if self.sock.as_ref().and_then(ForkClosed::get).is_some() {
            self.release();
        }
        self.sock = None;
        let mut start = self.base;
        for &end in &self.frames {
            if start >= self.written {
                break;
            }
            self.resent += 1;
            start = end;
        }
        self.written = self.base;
        self.conn_start = self.base;
    }
}
