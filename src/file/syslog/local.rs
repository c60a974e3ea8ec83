//! The local syslog socket (`syslog:`, `syslog:/PATH`): a Unix datagram socket, or a
//! stream socket when the one at the path is of that kind (then each message ends with a
//! NUL byte, as glibc's `syslog(3)` sends it). One message per datagram.

use std::io;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sys::ForkClosed;

/// How long one send may wait for a receiver that does not read (the caller then looks
/// at its stop flag and tries again).
const SEND_SLICE: Duration = Duration::from_millis(100);

enum Sock {
    Dgram(ForkClosed<UnixDatagram>),
    Stream(ForkClosed<UnixStream>),
}

/// A connection to a local syslog socket, with the message that waits to be sent.
pub(super) struct Local {
    path: PathBuf,
    sock: Option<Sock>,
    /// The message not yet sent (one at a time: each is a datagram of its own).
    pending: Vec<u8>,
    /// Bytes of `pending` already sent on a stream socket.
    sent: usize,
}

impl Local {
    pub(super) fn new(path: &Path) -> Local {
        Local {
            path: path.to_path_buf(),
            sock: None,
            pending: Vec::new(),
            sent: 0,
        }
    }

    /// Connects (again): a datagram socket, or a stream socket when the path names one.
    pub(super) fn connect(&mut self) -> io::Result<()> {
        self.sock = None;
        self.sent = 0;
        let sock = match UnixDatagram::unbound().and_then(|s| s.connect(&self.path).map(|_| s)) {
            Ok(s) => {
                s.set_write_timeout(Some(SEND_SLICE))?;
                Sock::Dgram(ForkClosed::new(s))
            }
            Err(e) if e.raw_os_error() == Some(libc::EPROTOTYPE) => {
                let s = UnixStream::connect(&self.path)?;
                s.set_write_timeout(Some(SEND_SLICE))?;
                Sock::Stream(ForkClosed::new(s))
            }
            Err(e) => return Err(e),
        };
        self.sock = Some(sock);
        Ok(())
    }

    /// Is a message waiting to be sent?
    pub(super) fn pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Takes `msg` as the next message to send (only when none is pending).
    pub(super) fn queue(&mut self, msg: &[u8]) {
        debug_assert!(self.pending.is_empty());
        self.pending.extend_from_slice(msg);
        self.sent = 0;
    }

    /// Sends the pending message. `Ok(false)`: the receiver took nothing within a slice
    /// (try again). An error drops the connection (the message stays pending).
    pub(super) fn send(&mut self) -> io::Result<bool> {
        if self.pending.is_empty() {
            return Ok(true);
        }
        if self.sock.as_ref().is_none_or(|s| !s.alive()) {
            self.connect()?;
        }
        let r = match self.sock.as_ref() {
            Some(Sock::Dgram(s)) => match s.get() {
                Some(s) => s.send(&self.pending).map(|_| self.pending.len()),
                None => Err(io::Error::from(io::ErrorKind::NotConnected)),
            },
            Some(Sock::Stream(s)) => match s.get() {
                Some(s) => send_stream(s, &self.pending, &mut self.sent),
                None => Err(io::Error::from(io::ErrorKind::NotConnected)),
            },
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        };
        match r {
            Ok(_) => {
                self.pending.clear();
                self.sent = 0;
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => Err(e),
            Err(e) => {
                self.sock = None;
                Err(e)
            }
        }
    }

    /// Gives up the pending message (it can never be sent: larger than the socket takes).
    pub(super) fn discard(&mut self) -> usize {
        let n = self.pending.len();
        self.pending.clear();
        self.sent = 0;
        n
    }
}

impl Sock {
    /// Not closed by a fork (a forked child connects anew).
    fn alive(&self) -> bool {
        match self {
            Sock::Dgram(s) => s.get().is_some(),
            Sock::Stream(s) => s.get().is_some(),
        }
    }
}

/// Sends the rest of `msg` and its NUL terminator on a stream socket.
fn send_stream(s: &UnixStream, msg: &[u8], sent: &mut usize) -> io::Result<usize> {
    use std::os::fd::AsFd;
    while *sent < msg.len() + 1 {
        let n = if *sent < msg.len() {
            crate::sys::send_nosignal(s.as_fd(), &msg[*sent..])
        } else {
            crate::sys::send_nosignal(s.as_fd(), b"\0")
        };
        match n {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => *sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                crate::sys::poll(&[(s.as_fd(), true)], SEND_SLICE);
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(msg.len())
}
