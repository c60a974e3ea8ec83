//! Syslog destinations: a file option (`mainlog`, `paniclog`, ...) whose value names a
//! syslog endpoint instead of a path sends each line the file would have held as one
//! syslog message.
//!
//! | value | destination |
//! |---|---|
//! | `syslog:` | the local socket `/dev/log` |
//! | `syslog:/PATH` | a local socket at `PATH` (datagram; stream when the socket is one) |
//! | `syslog+tcp://HOST:PORT` | RFC 5424 over TCP, RFC 6587 octet counting |
//! | `syslog+tls://HOST:PORT` | the same over TLS (RFC 5425; rustls) |
//! | `syslog+relp://HOST:PORT` | RELP: every message acknowledged by the receiver |
//!
//! A [`Syslog`] takes whole lines from the writer, with the severity and time of the event
//! each came from ([`Meta`]), and turns each into one message: the header glibc's
//! `syslog(3)` writes on a local socket, RFC 5424 on the network. Lines that carry their
//! own syslog tag (postfix_logger's `STAMP HOST postfix/smtp[PID]: TEXT`) give the message
//! its APP-NAME, PROCID and text; other kinds send the whole line under the kind's
//! APP-NAME (`ecelerity`, `imta`). [`message`] builds the bytes (pure).
//!
//! Faults follow the writer's rules for files: a destination that cannot take a message
//! returns the error, keeps what it took, and is tried again with back-off; it reconnects
//! by itself. No message is ever split: a line is one message or none.

pub mod message;

mod local;
mod relp;
mod stream;
mod tls;

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::{self, ConfigError, Options};
use crate::format::Target;
use message::{Header, Ident, Meta};
use stream::Sent;

/// The local syslog socket of `syslog:`.
pub const DEV_LOG: &str = "/dev/log";

/// Where a syslog destination sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A local syslog socket.
    Local(PathBuf),
    /// RFC 5424 over TCP, octet-counted.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// RFC 5424 over TLS, octet-counted.
    Tls {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// RELP.
    Relp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
}

const FORMS: &str = "syslog:, syslog:/PATH, syslog+tcp://HOST:PORT, syslog+tls://HOST:PORT, syslog+relp://HOST:PORT";

impl Endpoint {
    /// Reads a file option's value: `None` when it names a file, else the endpoint or
    /// what is wrong with it.
    pub fn parse(value: &str) -> Option<Result<Endpoint, String>> {
        let rest = value.strip_prefix("syslog")?;
        if let Some(path) = rest.strip_prefix(':') {
            return Some(match path {
                "" => Ok(Endpoint::Local(PathBuf::from(DEV_LOG))),
                p if p.starts_with('/') => Ok(Endpoint::Local(PathBuf::from(p))),
                _ => Err(format!(
                    "'{value}': a local syslog socket is syslog: or syslog:/ABSOLUTE/PATH"
                )),
            });
        }
        let rest = rest.strip_prefix('+')?;
        let parsed = rest
            .split_once("://")
            .and_then(|(scheme, hp)| Some((scheme, split_host_port(hp)?)));
        Some(match parsed {
            Some(("tcp", (host, port))) => Ok(Endpoint::Tcp { host, port }),
            Some(("tls", (host, port))) => Ok(Endpoint::Tls { host, port }),
            Some(("relp", (host, port))) => Ok(Endpoint::Relp { host, port }),
            _ => Err(format!("'{value}': not a syslog destination ({FORMS})")),
        })
    }
}

/// `HOST:PORT` or `[V6]:PORT` (a port from 1 to 65535).
fn split_host_port(s: &str) -> Option<(String, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let host = match host.strip_prefix('[') {
        Some(h) => h.strip_suffix(']')?,
        None if host.contains(':') => return None,
        None => host,
    };
    let port: u16 = port.parse().ok().filter(|&p| p > 0)?;
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b));
    ok.then(|| (host.to_owned(), port))
}

/// The options of a logger's syslog destinations (every kind has them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyslogOptions {
    /// Facility code (`syslog_facility`, default `mail`).
    pub facility: u8,
    /// HOSTNAME of the messages (`syslog_hostname`; default: the host name the format
    /// uses).
    pub hostname: Option<String>,
    /// Longest wait for a connection (`connect_timeout`, default 5 s); also how long a
    /// receiver may take nothing before that counts as a fault.
    pub connect_timeout: Duration,
    /// RELP messages in flight, unacknowledged (`relp_window`, default 128).
    pub relp_window: usize,
    /// PEM file of the CAs that sign a TLS receiver's certificate (`syslog_tls_ca`;
    /// required for `syslog+tls://`).
    pub tls_ca: Option<PathBuf>,
    /// Client certificate chain and key, PEM (`syslog_tls_cert`, `syslog_tls_key`; both
    /// or neither).
    pub tls_cert_key: Option<(PathBuf, PathBuf)>,
    /// The name the receiver's certificate must carry (`syslog_tls_server_name`;
    /// default: the destination's host).
    pub tls_server_name: Option<String>,
}

impl Default for SyslogOptions {
    fn default() -> SyslogOptions {
        SyslogOptions {
            facility: 2,
            hostname: None,
            connect_timeout: Duration::from_secs(5),
            relp_window: 128,
            tls_ca: None,
            tls_cert_key: None,
            tls_server_name: None,
        }
    }
}

impl SyslogOptions {
    /// Reads the options (and marks them used).
    pub fn parse(o: &mut Options<'_>) -> Result<SyslogOptions, ConfigError> {
        let d = SyslogOptions::default();
        let facility = match o.entry(&["syslog_facility"]) {
            None => d.facility,
            Some(e) => message::facility(&e.value).ok_or_else(|| {
                let names: Vec<&str> = message::FACILITIES.iter().map(|f| f.0).collect();
                config::err(
                    e,
                    format!("expected one of {}, got '{}'", names.join("|"), e.value),
                )
            })?,
        };
        let hostname = match o.entry(&["syslog_hostname"]) {
            None => None,
            Some(e) => {
                let ok = !e.value.is_empty()
                    && e.value.len() <= 255
                    && e.value.bytes().all(|b| (33..=126).contains(&b));
                if !ok {
                    return Err(config::err(
                        e,
                        "must be 1 to 255 printable ASCII characters without spaces",
                    ));
                }
                Some(e.value.clone())
            }
        };
        let connect_timeout = o.duration(&["connect_timeout"], d.connect_timeout)?;
        if connect_timeout.is_zero() {
            let e = o
                .entry(&["connect_timeout"])
                .expect("present when not default");
            return Err(config::err(e, "must be more than 0"));
        }
        let relp_window = o.uint("relp_window", d.relp_window as u64, 1, 65536)? as usize;
        let tls_ca = o.path("syslog_tls_ca")?;
        let tls_cert_key = match (o.path("syslog_tls_cert")?, o.path("syslog_tls_key")?) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                let e = o
                    .entry(&["syslog_tls_cert", "syslog_tls_key"])
                    .expect("one of them");
                return Err(config::err(
                    e,
                    "syslog_tls_cert and syslog_tls_key go together",
                ));
            }
        };
        let tls_server_name = match o.entry(&["syslog_tls_server_name"]) {
            None => None,
            Some(e) => {
                // Refused here, with its line, rather than when a destination is opened.
                if let Err(why) = rustls::pki_types::ServerName::try_from(e.value.as_str()) {
                    return Err(config::err(
                        e,
                        format!("not a DNS name or IP address: {why}"),
                    ));
                }
                Some(e.value.clone())
            }
        };
        Ok(SyslogOptions {
            facility,
            hostname,
            connect_timeout,
            relp_window,
            tls_ca,
            tls_cert_key,
            tls_server_name,
        })
    }
}

/// What a logger kind's lines are, for their messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineStyle {
    /// APP-NAME of the messages; `None`: each line carries its own tag and process id
    /// (`STAMP HOST TAG[PID]: TEXT`, postfix_logger), and the message is the text.
    pub app: Option<&'static str>,
    /// PROCID of lines without a tag: the process id.
    pub pid: String,
    /// HOSTNAME when `syslog_hostname` is not set (for tagged lines: the line's host).
    pub hostname: String,
}

enum Conn {
    Local(local::Local),
    Stream(stream::Stream),
    Relp(relp::Relp),
}

/// What a flush waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    /// Everything queued is written.
    Written,
    /// Everything is written and the connection takes another message (RELP: at most
    /// half the window waits for acknowledgements).
    Room,
    /// Everything is written and acknowledged (RELP).
    Acked,
}

/// One syslog destination of a logger: its connection and what it needs to make messages.
pub struct Syslog {
    name: String,
    conn: Conn,
    style: LineStyle,
    opts: SyslogOptions,
    header: Header,
    scratch: Vec<u8>,
    /// Problems met that the writer reports (a message that could never be sent).
    problems: Vec<String>,
}

impl std::fmt::Debug for Syslog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syslog")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Syslog {
    /// A destination for `endpoint` (configured as `name`). It connects at its first
    /// write, on the writer's thread; with `check`, a TLS destination connects now, so that
    /// a receiver whose certificate does not verify fails `log_init` (a receiver that
    /// cannot be reached now is not an error: the first write reports it, and is retried).
    /// A forked child's rebuild does not check (no network inside `fork()`).
    pub fn open(
        name: &str,
        endpoint: &Endpoint,
        opts: &SyslogOptions,
        style: LineStyle,
        check: bool,
    ) -> Result<Syslog, crate::error::Error> {
        let conn = match endpoint {
            Endpoint::Local(path) => Conn::Local(local::Local::new(path)),
            Endpoint::Tcp { host, port } => {
                Conn::Stream(stream::Stream::new(host, *port, opts.connect_timeout, None))
            }
            Endpoint::Tls { host, port } => {
                let invalid = |m: String| crate::error::Error::Invalid(format!("{name}: {m}"));
                let ca = opts.tls_ca.as_deref().ok_or_else(|| {
                    invalid("syslog+tls:// needs syslog_tls_ca (a PEM file of trusted CAs)".into())
                })?;
                let cert_key = opts
                    .tls_cert_key
                    .as_ref()
                    .map(|(c, k)| (c.as_path(), k.as_path()));
                let server_name = opts.tls_server_name.as_deref().unwrap_or(host);
                let setup = tls::setup(ca, cert_key, server_name).map_err(invalid)?;
                let mut s = stream::Stream::new(host, *port, opts.connect_timeout, Some(setup));
                // A receiver that cannot be reached now is tried again later; one whose
                // certificate does not verify is refused at once.
                match if check { s.connect() } else { Ok(()) } {
                    Err(e) if tls::refused(&e) => {
                        return Err(crate::error::Error::Os(
                            libc::EACCES,
                            format!("{name}: refused: {e}; nothing was sent"),
                        ));
                    }
                    _ => {}
                }
                Conn::Stream(s)
            }
            Endpoint::Relp { host, port } => Conn::Relp(relp::Relp::new(
                host,
                *port,
                opts.connect_timeout,
                opts.relp_window,
            )),
        };
        Ok(Syslog {
            name: name.to_owned(),
            conn,
            style,
            opts: opts.clone(),
            header: Header::default(),
            scratch: Vec::with_capacity(1024),
            problems: Vec::new(),
        })
    }

    /// The destination as configured (`syslog+tcp://host:514`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends the whole lines at the start of `buf` (lines of `target`'s file), as far as
    /// the destination takes them; returns the bytes of the lines taken. `marks` gives the
    /// end offset (in `buf`) of each event's lines and their [`Meta`]; lines after the last
    /// mark are sent as `info`, now. An error means nothing was taken; what was taken
    /// before is sent by the next call (an empty `buf` sends just that). `give_up` ends a
    /// wait for a receiver that takes nothing.
    pub fn write(
        &mut self,
        target: Target,
        buf: &[u8],
        marks: &[(usize, Meta)],
        give_up: &dyn Fn() -> bool,
    ) -> io::Result<usize> {
        self.flush(give_up, Until::Written)?;
        let default = Meta::now();
        let mut mark = 0;
        let mut taken = 0;
        while let Some(nl) = buf[taken..].iter().position(|&b| b == b'\n') {
            if !self.room() && self.flush(give_up, Until::Room).is_err() {
                // What was taken is sent by the next call, which reports the fault.
                return Ok(taken);
            }
            let line = &buf[taken..taken + nl];
            while mark < marks.len() && marks[mark].0 <= taken {
                mark += 1;
            }
            let meta = marks.get(mark).map_or(default, |m| m.1);
            self.compose(target, line, meta);
            match &mut self.conn {
                Conn::Local(l) => l.queue(&self.scratch),
                Conn::Stream(s) => s.queue(&self.scratch),
                Conn::Relp(r) => r.queue(&self.scratch),
            }
            taken += nl + 1;
        }
        // A fault now is reported by the next call (the lines are taken).
        let _ = self.flush(give_up, Until::Written);
        Ok(taken)
    }

    /// Is something taken still waiting to be sent?
    pub fn pending(&self) -> bool {
        match &self.conn {
            Conn::Local(l) => l.pending(),
            Conn::Stream(s) => s.pending(),
            Conn::Relp(r) => r.pending(),
        }
    }

    /// Reconnects (`reopen logs`); what was taken is sent on the new connection.
    pub fn reconnect(&mut self) -> io::Result<()> {
        match &mut self.conn {
            Conn::Local(l) => l.connect(),
            Conn::Stream(s) => s.connect(),
            Conn::Relp(r) => r.connect(),
        }
    }

    /// Sends everything taken; with acknowledgements, waits for them. Until `give_up`.
    pub fn drain(&mut self, give_up: &dyn Fn() -> bool) -> io::Result<()> {
        self.flush(give_up, Until::Acked)
    }

    /// The count of messages sent again since the last call (after a broken connection).
    pub fn take_resent(&mut self) -> u64 {
        match &mut self.conn {
            Conn::Local(_) => 0,
            Conn::Stream(s) => s.take_resent(),
            Conn::Relp(r) => r.take_resent(),
        }
    }

    /// Problems to report (each once).
    pub fn take_problems(&mut self) -> Vec<String> {
        std::mem::take(&mut self.problems)
    }

    /// Does the connection take another message before it sends?
    fn room(&self) -> bool {
        match &self.conn {
            Conn::Local(l) => !l.pending(),
            Conn::Stream(s) => s.room(),
            Conn::Relp(r) => r.room(),
        }
    }

    /// One try at sending what is queued.
    fn send(&mut self, until: Until) -> io::Result<Sent> {
        match &mut self.conn {
            Conn::Local(l) => match l.send() {
                Ok(true) => Ok(Sent::All),
                Ok(false) => Ok(Sent::Nothing),
                Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                    let n = l.discard();
                    self.problems.push(format!(
                        "a message of {n} bytes is larger than {} takes; it was not sent",
                        self.name
                    ));
                    Ok(Sent::All)
                }
                Err(e) => Err(e),
            },
            Conn::Stream(s) => s.send(),
            Conn::Relp(r) => {
                let unacked = match until {
                    Until::Written => usize::MAX,
                    // Down to half the window: writes go in batches, not one per ack.
                    Until::Room => self.opts.relp_window / 2,
                    Until::Acked => 0,
                };
                let sent = r.send(unacked);
                self.problems.extend(r.take_refused());
                sent
            }
        }
    }

    /// Sends what is queued, waiting at most `connect_timeout` for a receiver that takes
    /// nothing (or until `give_up`).
    fn flush(&mut self, give_up: &dyn Fn() -> bool, until: Until) -> io::Result<()> {
        let mut start = Instant::now();
        loop {
            match self.send(until)? {
                Sent::All => return Ok(()),
                Sent::Some => start = Instant::now(),
                Sent::Nothing => {}
            }
            if give_up() {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "given up"));
            }
            if start.elapsed() >= self.opts.connect_timeout {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the receiver took nothing for {:?}",
                        self.opts.connect_timeout
                    ),
                ));
            }
        }
    }

    /// The message of one line into `scratch`.
    fn compose(&mut self, target: Target, line: &[u8], meta: Meta) {
        let opts = &self.opts;
        let style = &self.style;
        let host_opt = opts.hostname.as_deref().map(str::as_bytes);
        let tagged = match style.app {
            None => message::split_tagged(line),
            Some(_) => None,
        };
        let (id, msg) = match tagged {
            Some(t) => (
                Ident {
                    app: t.tag,
                    procid: t.pid,
                    msgid: target.file_key().as_bytes(),
                    host: host_opt.unwrap_or(if t.host.is_empty() {
                        style.hostname.as_bytes()
                    } else {
                        t.host
                    }),
                },
                t.msg,
            ),
            None => (
                Ident {
                    app: style.app.unwrap_or("mtalog").as_bytes(),
                    procid: style.pid.as_bytes(),
                    msgid: target.file_key().as_bytes(),
                    host: host_opt.unwrap_or(style.hostname.as_bytes()),
                },
                line,
            ),
        };
        let pri = message::pri(opts.facility, meta.severity);
        self.scratch.clear();
        let (h, out) = (&mut self.header, &mut self.scratch);
        match &self.conn {
            Conn::Local(_) => h.local(out, pri, meta.time, &id, msg),
            Conn::Stream(_) | Conn::Relp(_) => h.rfc5424(out, pri, meta.time, &id, msg),
        }
    }
}

#[cfg(test)]
mod tests;
