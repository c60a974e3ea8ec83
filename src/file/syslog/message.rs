//! Syslog messages, pure: the priority of a line (facility and severity), the header
//! glibc's `syslog(3)` writes on a local socket, the RFC 5424 header, RFC 6587 octet
//! counting, and the split of a syslog-style line (`STAMP HOST TAG[PID]: MSG`, as
//! postfix_logger writes) into its parts. No I/O.

use crate::event::{Kind, Timestamp};
use crate::format::{
    Level, LocalZone, MONTHS, Zone, civil, push_offset_hhmm, push_padded, push_u64, split_severity,
};

/// Facility names and codes (RFC 5424 table 1, with the names syslog.conf uses).
pub const FACILITIES: [(&str, u8); 20] = [
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

/// The facility code of `name` (any case).
pub fn facility(name: &str) -> Option<u8> {
    FACILITIES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, c)| c)
}

/// Syslog severities (RFC 5424), the numbers a PRI carries.
pub mod severity {
    /// `crit`: the most severe mtalog sends (never `alert` or `emerg`, which many
    /// configurations broadcast to every terminal).
    pub const CRIT: u8 = 2;
    /// `err`.
    pub const ERR: u8 = 3;
    /// `warning`.
    pub const WARNING: u8 = 4;
    /// `notice`.
    pub const NOTICE: u8 = 5;
    /// `info`.
    pub const INFO: u8 = 6;
    /// `debug`.
    pub const DEBUG: u8 = 7;
}

/// The syslog severity of a `log_error` level: as Postfix logs its own diagnostics,
/// `fatal` and `panic` are `crit` like `critical`.
pub fn level_severity(level: Level) -> u8 {
    match level {
        Level::Debug => severity::DEBUG,
        Level::Info => severity::INFO,
        Level::Notice => severity::NOTICE,
        Level::Warning => severity::WARNING,
        Level::Error => severity::ERR,
        Level::Critical | Level::Fatal | Level::Panic => severity::CRIT,
    }
}

/// The syslog severity of an event: receptions, attempts, deliveries and records `info`;
/// transient failures and rejections `notice`; permanent failures `warning`; a
/// `log_error` text by its level prefix (`default` when it has none).
pub fn event_severity(kind: Kind, note: &[u8], default: Level) -> u8 {
    match kind {
        Kind::Reception | Kind::Attempt | Kind::Delivery | Kind::Acct | Kind::Import => {
            severity::INFO
        }
        Kind::TransientFailure | Kind::Rejection => severity::NOTICE,
        Kind::PermanentFailure => severity::WARNING,
        Kind::Error => level_severity(split_severity(note, default).0),
    }
}

/// What the writer knows of a line beyond its bytes: the severity and time of the event
/// that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Syslog severity, 0..=7.
    pub severity: u8,
    /// When the event happened.
    pub time: Timestamp,
}

impl Meta {
    /// Lines the writer made without an event (heartbeats) at `time`: `info`.
    pub fn info(time: Timestamp) -> Meta {
        Meta {
            severity: severity::INFO,
            time,
        }
    }

    /// [`Meta::info`], now: lines no mark names.
    pub fn now() -> Meta {
        Meta::info(Timestamp::now())
    }
}

/// The parts of a syslog-style line `STAMP HOST TAG[PID]: MSG`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tagged<'a> {
    /// The host token before the tag.
    pub host: &'a [u8],
    /// The tag (`postfix/smtp`).
    pub tag: &'a [u8],
    /// The process id between the brackets.
    pub pid: &'a [u8],
    /// The text after `]: `.
    pub msg: &'a [u8],
}

/// Splits a syslog-style line at its first `]: `: the tag is the word before the `[`,
/// the host the word before the tag. `None` when the line has no such shape.
pub fn split_tagged(line: &[u8]) -> Option<Tagged<'_>> {
    let end = line.windows(3).position(|w| w == b"]: ")?;
    let head = &line[..end];
    let sp = head.iter().rposition(|&b| b == b' ')?;
    let tag_pid = &head[sp + 1..];
    let open = tag_pid.iter().position(|&b| b == b'[')?;
    let (tag, pid) = (&tag_pid[..open], &tag_pid[open + 1..]);
    let before = &head[..sp];
    let host = &before[before.iter().rposition(|&b| b == b' ').map_or(0, |i| i + 1)..];
    let printable = |s: &[u8]| !s.is_empty() && s.iter().all(|b| (33..=126).contains(b));
    if !printable(tag) || !printable(pid) {
        return None;
    }
    Some(Tagged {
        host,
        tag,
        pid,
        msg: &line[end + 3..],
    })
}

/// What a message says besides its text: APP-NAME, PROCID, MSGID and HOSTNAME.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ident<'a> {
    /// APP-NAME (RFC 5424) or the TAG of the local header.
    pub app: &'a [u8],
    /// PROCID: the process id.
    pub procid: &'a [u8],
    /// MSGID (RFC 5424 only): the file the line would have gone to.
    pub msgid: &'a [u8],
    /// HOSTNAME (RFC 5424 only).
    pub host: &'a [u8],
}

/// Builds message headers in a time zone (the local one: [`Header::default`]).
pub struct Header {
    zone: Box<dyn Zone>,
    /// The RFC 5424 date and time to the second (`2026-11-23T11:08:57`) of `stamp_sec`,
    /// and its offset (`+01:00`): most messages share their second with the one before.
    stamp_sec: Option<i64>,
    stamp: Vec<u8>,
    offset: Vec<u8>,
}

impl Default for Header {
    fn default() -> Header {
        Header::new(Box::new(LocalZone::default()))
    }
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Header").finish_non_exhaustive()
    }
}

impl Header {
    /// Headers with times in `zone`.
    pub fn new(zone: Box<dyn Zone>) -> Header {
        Header {
            zone,
            stamp_sec: None,
            stamp: Vec::with_capacity(24),
            offset: Vec::with_capacity(8),
        }
    }

    /// Appends `<PRI>Mmm dd hh:mm:ss APP[PID]: MSG`, as glibc's `syslog(3)` sends it to a
    /// local socket (local time, day padded with a space, no host name).
    pub fn local(&mut self, out: &mut Vec<u8>, pri: u8, time: Timestamp, id: &Ident, msg: &[u8]) {
        push_pri(out, pri);
        let c = civil(time.sec, self.zone.offset_at(time.sec));
        out.extend_from_slice(MONTHS[(c.month - 1) as usize].as_bytes());
        out.push(b' ');
        if c.day < 10 {
            out.push(b' ');
        }
        push_u64(out, u64::from(c.day));
        out.push(b' ');
        push_hms(out, c.hour, c.min, c.sec);
        out.push(b' ');
        out.extend_from_slice(id.app);
        out.push(b'[');
        out.extend_from_slice(id.procid);
        out.extend_from_slice(b"]: ");
        out.extend_from_slice(msg);
    }

    /// Appends an RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`
    /// (local time with its offset and microseconds; no structured data).
    pub fn rfc5424(&mut self, out: &mut Vec<u8>, pri: u8, time: Timestamp, id: &Ident, msg: &[u8]) {
        push_pri(out, pri);
        out.extend_from_slice(b"1 ");
        if self.stamp_sec != Some(time.sec) {
            let offset = self.zone.offset_at(time.sec);
            let c = civil(time.sec, offset);
            let st = &mut self.stamp;
            st.clear();
            push_padded(st, c.year.clamp(0, 9999) as u64, 4);
            st.push(b'-');
            push_padded(st, u64::from(c.month), 2);
            st.push(b'-');
            push_padded(st, u64::from(c.day), 2);
            st.push(b'T');
            push_hms(st, c.hour, c.min, c.sec);
            self.offset.clear();
            push_offset_hhmm(&mut self.offset, offset, true);
            self.stamp_sec = Some(time.sec);
        }
        out.extend_from_slice(&self.stamp);
        out.push(b'.');
        push_padded(out, u64::from(time.usec), 6);
        out.extend_from_slice(&self.offset);
        for (field, max) in [
            (id.host, 255),
            (id.app, 48),
            (id.procid, 128),
            (id.msgid, 32),
        ] {
            out.push(b' ');
            push_field(out, field, max);
        }
        out.extend_from_slice(b" - ");
        out.extend_from_slice(msg);
    }
}

/// The PRI value of `facility` and `severity`.
pub fn pri(facility: u8, severity: u8) -> u8 {
    facility * 8 + severity
}

fn push_pri(out: &mut Vec<u8>, pri: u8) {
    out.push(b'<');
    push_u64(out, u64::from(pri));
    out.push(b'>');
}

fn push_hms(out: &mut Vec<u8>, h: u32, m: u32, s: u32) {
    push_padded(out, u64::from(h), 2);
    out.push(b':');
    push_padded(out, u64::from(m), 2);
    out.push(b':');
    push_padded(out, u64::from(s), 2);
}

/// An RFC 5424 header field: printable US-ASCII, at most `max` bytes; `-` when empty.
/// Other bytes become `_` (the values come from validated options and lines mtalog made).
fn push_field(out: &mut Vec<u8>, v: &[u8], max: usize) {
    if v.is_empty() {
        out.push(b'-');
        return;
    }
    out.extend(
        v.iter()
            .take(max)
            .map(|&b| if (33..=126).contains(&b) { b } else { b'_' }),
    );
}

/// Appends the RFC 6587 octet-counting frame of `msg`: `LEN SP MSG`.
pub fn octet_counted(out: &mut Vec<u8>, msg: &[u8]) {
    push_u64(out, msg.len() as u64);
    out.push(b' ');
    out.extend_from_slice(msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp {
        sec: 1_795_432_137, // 2026-11-23 11:08:57 UTC
        usec: 602_848,
    };

    fn utc() -> Header {
        Header::new(Box::new(crate::format::FixedZone(0)))
    }

    #[test]
    fn facilities_by_name() {
        assert_eq!(facility("mail"), Some(2));
        assert_eq!(facility("LOCAL7"), Some(23));
        assert_eq!(facility("authpriv"), Some(10));
        assert_eq!(facility("mial"), None);
        assert_eq!(pri(2, severity::INFO), 22);
    }

    #[test]
    fn severities_follow_the_event() {
        let d = Level::Error;
        assert_eq!(event_severity(Kind::Delivery, b"", d), 6);
        assert_eq!(event_severity(Kind::Reception, b"", d), 6);
        assert_eq!(event_severity(Kind::TransientFailure, b"", d), 5);
        assert_eq!(event_severity(Kind::Rejection, b"", d), 5);
        assert_eq!(event_severity(Kind::PermanentFailure, b"", d), 4);
        assert_eq!(event_severity(Kind::Error, b"warning: disk", d), 4);
        assert_eq!(event_severity(Kind::Error, b"no prefix", d), 3);
        assert_eq!(event_severity(Kind::Error, b"no prefix", Level::Notice), 5);
        assert_eq!(event_severity(Kind::Error, b"panic: x", d), 2);
        assert_eq!(event_severity(Kind::Error, b"fatal: x", d), 2);
        assert_eq!(event_severity(Kind::Error, b"debug: x", d), 7);
        assert_eq!(event_severity(Kind::Error, b"info: x", d), 6);
    }

    #[test]
    fn a_postfix_line_splits_into_its_parts() {
        let line =
            b"Nov 23 11:01:39 mx postfix/smtpd[10540]: 188B0B62C3: client=localhost[127.0.0.1]";
        let t = split_tagged(line).unwrap();
        assert_eq!(t.host, b"mx");
        assert_eq!(t.tag, b"postfix/smtpd");
        assert_eq!(t.pid, b"10540");
        assert_eq!(t.msg, b"188B0B62C3: client=localhost[127.0.0.1]");
        // RFC 3339 stamps, and a `]: ` later in the text.
        let line = b"2026-11-23T11:08:57.602848+00:00 vm postfix/qmgr[7]: X: a]: b";
        let t = split_tagged(line).unwrap();
        assert_eq!(
            (t.host, t.tag, t.pid),
            (&b"vm"[..], &b"postfix/qmgr"[..], &b"7"[..])
        );
        assert_eq!(t.msg, b"X: a]: b");
        assert_eq!(split_tagged(b"no tag here"), None);
        assert_eq!(split_tagged(b"a b []: x"), None);
    }

    #[test]
    fn the_local_header_is_glibcs() {
        {
            let mut h = utc();
            let mut out = Vec::new();
            let id = Ident {
                app: b"postfix/smtp",
                procid: b"42",
                msgid: b"mainlog",
                host: b"mx",
            };
            h.local(&mut out, 22, T, &id, b"ABC: to=<a@b>");
            assert_eq!(out, b"<22>Nov 23 11:08:57 postfix/smtp[42]: ABC: to=<a@b>");
            out.clear();
            let early = Timestamp {
                sec: T.sec - 20 * 86_400,
                usec: 0,
            };
            h.local(&mut out, 22, early, &id, b"x");
            assert_eq!(out, b"<22>Nov  3 11:08:57 postfix/smtp[42]: x");
        }
    }

    #[test]
    fn the_rfc5424_header() {
        {
            let mut h = utc();
            let mut out = Vec::new();
            let id = Ident {
                app: b"ecelerity",
                procid: b"42",
                msgid: b"mainlog",
                host: b"mx.example.test",
            };
            h.rfc5424(&mut out, 20, T, &id, b"1795432137@x@D@...");
            assert_eq!(
                out,
                b"<20>1 2026-11-23T11:08:57.602848+00:00 mx.example.test ecelerity 42 mainlog - 1795432137@x@D@..."
            );
            out.clear();
            let id = Ident {
                app: b"",
                procid: b"1 2",
                msgid: b"",
                host: b"h",
            };
            h.rfc5424(&mut out, 0, T, &id, b"");
            assert_eq!(out, b"<0>1 2026-11-23T11:08:57.602848+00:00 h - 1_2 - - ");
        }
    }

    #[test]
    fn octet_counting() {
        let mut out = Vec::new();
        octet_counted(&mut out, b"<22>1 x");
        octet_counted(&mut out, "é".as_bytes());
        assert_eq!(out, "7 <22>1 x2 é".as_bytes());
    }
}
