//! RFC 5424 messages over TCP (`syslog+tcp://`) or TLS (`syslog+tls://`, RFC 5425),
//! framed by RFC 6587 octet counting (`LEN SP MSG`).
//!
//! TCP has no acknowledgement a sender can see per message, but the sender's kernel knows
//! how many bytes the receiver's host has acknowledged (`tcpi_bytes_acked`). A frame is
//! kept until those bytes cover it (over TLS: the records that carried it): when a
//! connection breaks, the frames the receiver's host had not acknowledged are sent again on
//! the next one (counted as resent). What a receiver crash can lose is then what its host
//! had acknowledged and the receiver had not yet processed: its socket's receive buffer
//! and its own queue.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use super::message::octet_counted;
use super::tls::{TlsSetup, tls_error};
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
                s.set_read_timeout(Some(SEND_SLICE))?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The socket, counting the bytes written to it (TLS records included).
struct Counted<'a> {
    sock: &'a TcpStream,
    written: &'a mut u64,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.sock).read(buf)
    }
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Never `write(2)`: the handshake of log_init runs on the host's thread.
        let n = crate::sys::send_wait_nosignal(self.sock.as_fd(), buf)?;
        *self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One connection: the socket, its TLS session if any, and what was written to it.
struct Wire {
    sock: ForkClosed<TcpStream>,
    tls: Option<Box<rustls::ClientConnection>>,
    /// Bytes written to the socket on this connection.
    wire: u64,
    /// Over TLS: (end of plaintext, end of the records that carried it), oldest first.
    marks: VecDeque<(u64, u64)>,
}

impl Wire {
    /// Connects and, with `tls`, completes the handshake within `timeout`.
    fn open(host: &str, port: u16, timeout: Duration, tls: Option<&TlsSetup>) -> io::Result<Wire> {
        let s = connect(host, port, timeout)?;
        let mut w = Wire {
            sock: ForkClosed::new(s),
            tls: None,
            wire: 0,
            marks: VecDeque::new(),
        };
        if let Some(t) = tls {
            let mut c = rustls::ClientConnection::new(t.config.clone(), t.server_name.clone())
                .map_err(tls_error)?;
            let deadline = Instant::now() + timeout;
            let sock = w.sock.get().expect("made here");
            let mut io = Counted {
                sock,
                written: &mut w.wire,
            };
            while c.is_handshaking() {
                match c.complete_io(&mut io) {
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        if Instant::now() >= deadline {
                            return Err(io::Error::new(
                                io::ErrorKind::TimedOut,
                                format!("the TLS handshake did not finish within {timeout:?}"),
                            ));
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            w.tls = Some(Box::new(c));
        }
        Ok(w)
    }

    /// The socket, in the process that made it.
    fn sock(&self) -> Option<&TcpStream> {
        self.sock.get()
    }

    /// Writes what it can of `data`; the count of `data` taken (over TLS: into records,
    /// written as far as the socket takes them). `plain_end` is the absolute offset of the
    /// end of `data`.
    fn write(&mut self, data: &[u8], plain_end: u64) -> io::Result<usize> {
        let Some(sock) = self.sock.get() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        let mut io = Counted {
            sock,
            written: &mut self.wire,
        };
        match &mut self.tls {
            None => io.write(data),
            Some(c) => {
                // Records first: the plaintext rustls holds is taken already.
                flush_tls(c, &mut io)?;
                let n = c.writer().write(data)?;
                flush_tls(c, &mut io)?;
                if !c.wants_write() {
                    self.marks
                        .push_back((plain_end - (data.len() - n) as u64, self.wire));
                }
                Ok(n)
            }
        }
    }

    /// Are TLS records waiting to be written?
    fn backlog(&self) -> bool {
        self.tls.as_ref().is_some_and(|c| c.wants_write())
    }

    /// Writes the waiting TLS records; true when none is left.
    fn flush(&mut self, plain_end: u64) -> io::Result<bool> {
        let (Some(sock), Some(c)) = (self.sock.get(), self.tls.as_mut()) else {
            return Ok(true);
        };
        let mut io = Counted {
            sock,
            written: &mut self.wire,
        };
        flush_tls(c, &mut io)?;
        if c.wants_write() {
            return Ok(false);
        }
        self.marks.push_back((plain_end, self.wire));
        Ok(true)
    }

    /// Has the receiver closed the connection (it never sends data on it; over TLS, what
    /// it sends is read: session tickets, a close_notify)?
    fn closed_by_peer(&mut self) -> bool {
        let Some(sock) = self.sock.get() else {
            return true;
        };
        if !crate::sys::readable_now(sock.as_fd()) {
            return false;
        }
        let Some(c) = self.tls.as_mut() else {
            return true;
        };
        let mut io = Counted {
            sock,
            written: &mut self.wire,
        };
        match c.read_tls(&mut io) {
            Ok(0) => true,
            Ok(_) => match c.process_new_packets() {
                Ok(st) => st.peer_has_closed(),
                Err(_) => true,
            },
            Err(e) => !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
        }
    }

    /// The absolute offset of plaintext the receiver's host has acknowledged, of what
    /// was written from `start` (where this connection began) up to `written`.
    fn acked(&mut self, start: u64, written: u64) -> u64 {
        let Some(sock) = self.sock.get() else {
            return start;
        };
        let Some(acked) = crate::sys::tcp_bytes_acked(sock.as_fd()) else {
            // Without the figure, what the kernel took counts as delivered.
            return written;
        };
        if self.tls.is_none() {
            return (start + acked).min(written);
        }
        let mut plain = start;
        while let Some(&(p, w)) = self.marks.front() {
            if w > acked {
                break;
            }
            plain = p;
            self.marks.pop_front();
        }
        if plain > start {
            // Kept for the next look: the acknowledged point only moves on.
            self.marks.push_front((plain, 0));
        }
        plain.min(written)
    }
}

/// Writes TLS records as far as the socket takes them.
fn flush_tls(c: &mut rustls::ClientConnection, io: &mut Counted<'_>) -> io::Result<()> {
    while c.wants_write() {
        match c.write_tls(io) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A TCP (or TLS) connection that carries octet-counted frames, with the frames its
/// receiver's host has not acknowledged yet.
pub(super) struct Stream {
    host: String,
    port: u16,
    timeout: Duration,
    tls: Option<TlsSetup>,
    wire: Option<Wire>,
    /// Frames from absolute offset `base` on (at `out[head..]`): not known to be at the
    /// receiver's host. The bytes before `head` are released; they are cut off when they
    /// are the larger part (moving the rest at every release would cost more).
    out: Vec<u8>,
    head: usize,
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
    pub(super) fn new(host: &str, port: u16, timeout: Duration, tls: Option<TlsSetup>) -> Stream {
        Stream {
            host: host.to_owned(),
            port,
            timeout,
            tls,
            wire: None,
            out: Vec::with_capacity(CHUNK),
            head: 0,
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
        self.wire = Some(Wire::open(
            &self.host,
            self.port,
            self.timeout,
            self.tls.as_ref(),
        )?);
        self.conn_start = self.base;
        self.written = self.base;
        Ok(())
    }

    /// Queues one message, framed.
    pub(super) fn queue(&mut self, msg: &[u8]) {
        octet_counted(&mut self.out, msg);
        self.frames.push_back(self.end());
    }

    /// Does the destination take another message before it writes?
    pub(super) fn room(&self) -> bool {
        self.end() - self.written < CHUNK as u64
    }

    /// Are queued bytes not written yet?
    pub(super) fn pending(&self) -> bool {
        self.written < self.end() || self.wire.as_ref().is_some_and(Wire::backlog)
    }

    /// Frames sent again since the last call.
    pub(super) fn take_resent(&mut self) -> u64 {
        std::mem::take(&mut self.resent)
    }

    fn end(&self) -> u64 {
        self.base + (self.out.len() - self.head) as u64
    }

    fn alive(&self) -> bool {
        self.wire.as_ref().and_then(Wire::sock).is_some()
    }

    /// Writes what is queued. An error drops the connection (the frames stay, to be sent
    /// on the next one).
    pub(super) fn send(&mut self) -> io::Result<Sent> {
        if self.alive() && self.wire.as_mut().is_some_and(Wire::closed_by_peer) {
            self.drop_conn();
        }
        if !self.alive() {
            self.connect()?;
        }
        self.release();
        let mut progress = false;
        loop {
            let end = self.end();
            let w = self.wire.as_mut().expect("connected");
            let r = if self.written < end {
                let from = self.head + (self.written - self.base) as usize;
                w.write(&self.out[from..], end)
            } else {
                match w.flush(end) {
                    Ok(true) => break,
                    Ok(false) => Err(io::ErrorKind::WouldBlock.into()),
                    Err(e) => Err(e),
                }
            };
            match r {
                Ok(0) if self.written < end => {
                    // TLS holds records the socket did not take yet.
                    return Ok(if progress { Sent::Some } else { Sent::Nothing });
                }
                Ok(n) => {
                    self.written += n as u64;
                    progress |= n > 0;
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

    /// Forgets the frames the receiver's host has acknowledged.
    fn release(&mut self) {
        let (start, written) = (self.conn_start, self.written);
        let Some(acked) = self.wire.as_mut().map(|w| w.acked(start, written)) else {
            return;
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
            self.head += (upto - self.base) as usize;
            self.base = upto;
            if self.frames.is_empty() {
                self.out.clear();
                self.head = 0;
            } else if self.head >= 64 * 1024 && self.head * 2 >= self.out.len() {
                self.out.drain(..self.head);
                self.head = 0;
            }
        }
    }

    /// Closes the connection: the frames written on it that its receiver's host had not
    /// acknowledged will be written again (and are counted as resent).
    fn drop_conn(&mut self) {
        if self.alive() {
            self.release();
        }
        self.wire = None;
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
