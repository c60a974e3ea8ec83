//! Momentum `ec_logger` formats: mainlog (R, D, X, T, P, heartbeat), rejectlog, paniclog,
//! acctlog and importlog (spec/momentum.md).
//!
//! Escaping (one rule for every file, so that one event is one line and no value can move
//! another field): in `@`-separated fields `@` and `\` get a `\` in front; control bytes
//! become `\n`, `\r`, `\t` or `\xHH` everywhere; the trailing free text of T/P, rejectlog
//! and paniclog lines keeps `@` raw but escapes `\` and control bytes; a single trailing
//! newline of a `log_error` text is the line end, not content. Inside rejectlog's quoted
//! values `"` and `\` are backslash-escaped; in its bare tokens (`E=`, `M=`) spaces and
//! quotes become `\xHH`; inside `CTXCONN=[...]`/`CTXMESS=[...]` `]` becomes `\x5d`.

use std::cell::Cell;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    FileSpec, FormatContext, Formatter, KindSetup, Out, Target, push_hex_escape, push_i64,
    push_secs_2dp, push_u64, strip_one_newline,
};
use crate::config::{ConfigError, Options};
use crate::event::{Event, Field, Kind, Timestamp, flags};

/// Momentum's documented default directory.
pub const DEFAULT_DIR: &str = "/var/log/ecelerity";

/// Reads ec_logger's own options: the five paths and their modes, `heartbeat` and
/// `log_hires_timestamp`. An unset `importlog` or `acctlog` is not written.
pub fn setup(o: &mut Options<'_>, _ctx: &FormatContext) -> Result<KindSetup, ConfigError> {
    let mut files = Vec::new();
    let table: [(Target, &str, &[&str], Option<&str>); 5] = [
        (
            Target::Main,
            "mainlog",
            &["mainlog_mode"],
            Some("mainlog.ec"),
        ),
        (
            Target::Reject,
            "rejectlog",
            &["rejectlog_mode"],
            Some("rejectlog.ec"),
        ),
        (
            Target::Panic,
            "paniclog",
            &["paniclog_mode"],
            Some("paniclog.ec"),
        ),
        (
            Target::Acct,
            "acctlog",
            &["acctlog_log_mode", "acctlog_mode"],
            None,
        ),
        (Target::Import, "importlog", &["importlog_mode"], None),
    ];
    for (target, key, mode_keys, default) in table {
        let mode = o.mode(mode_keys, 0o644)?;
        let path = match (o.path(key)?, default) {
            (Some(p), _) => p,
            (None, Some(d)) => PathBuf::from(DEFAULT_DIR).join(d),
            (None, None) => continue,
        };
        files.push(FileSpec { target, path, mode });
    }
    let heartbeat = o.duration(&["heartbeat"], Duration::from_secs(60))?;
    let hires = o.boolean("log_hires_timestamp", false)?;
    Ok(KindSetup {
        files,
        formatter: Box::new(Ec::new(hires)),
        heartbeat: (!heartbeat.is_zero()).then_some(heartbeat),
        records: true,
    })
}

/// The fields the line of each event kind reads, as bits `1 << Field as u64`: the hooks
/// copy only these out of the host's objects ([`crate::format::fields_used`]). The
/// `Protocol` field is always kept (the hooks derive the ESMTP flag from it).
pub fn fields_used(kind: Kind) -> u64 {
    use Field::*;
    let bits = |fs: &[Field]| fs.iter().fold(0u64, |m, f| m | 1 << *f as u64);
    let ids = bits(&[MsgId, BatchId, ConnId, AcceptConnId, Protocol]);
    let mail = ids | bits(&[DomainName, BindingGroup, Binding, MxIp]);
    match kind {
        Kind::Reception => ids | bits(&[MailFrom, RcptTo, PeerIp, BindingGroup, Binding]),
        Kind::Delivery | Kind::Attempt => mail,
        Kind::TransientFailure | Kind::PermanentFailure => mail | bits(&[Note]),
        Kind::Rejection => bits(&[
            PeerIp,
            LocalIp,
            AcceptConnId,
            ConnId,
            Protocol,
            VPathway,
            VPathwayGroup,
            VModule,
            VCtxConn,
            VCtxMess,
            Note,
        ]),
        Kind::Error | Kind::Acct | Kind::Import => u64::MAX,
    }
}

/// The id printed when the host gave none.
pub const NULL_ID: &[u8] = b"00/00-00000-00000000";

/// An R record's reception protocol (field 11): `xfer` for a message from another cluster
/// node, `esmtp` for SMTP whatever the host calls it (`smtp`, `esmtps`, `lmtp`, ... or
/// nothing), `rest` for HTTP injection; other names (`ecstream`, `internal`, ...) as the
/// host gives them, in lower case.
fn push_protocol(buf: &mut Vec<u8>, ev: &Event) {
    let proto = ev.get(Field::Protocol);
    let starts = |p: &[u8], prefix: &[u8]| {
        p.len() >= prefix.len() && p[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    let known: Option<&[u8]> = if ev.has(flags::TRANSFER) {
        Some(b"xfer")
    } else if proto.is_empty()
        || starts(proto, b"smtp")
        || starts(proto, b"esmtp")
        || starts(proto, b"lmtp")
    {
        Some(b"esmtp")
    } else if starts(proto, b"http") || proto.eq_ignore_ascii_case(b"rest") {
        Some(b"rest")
    } else {
        None
    };
    match known {
        Some(name) => buf.extend_from_slice(name),
        None => {
            for &b in proto {
                push_field(buf, &[b.to_ascii_lowercase()]);
            }
        }
    }
}

/// `MC_STATE_*` phase texts; other values print `unknown`.
pub const PHASES: [&str; 22] = [
    "just connected",
    "sending banner",
    "awaiting ehlo/helo",
    "sending ehlo/helo response",
    "awaiting mailfrom",
    "sending mailfrom response",
    "awaiting rcptto",
    "sending rcptto response",
    "data phase",
    "reading body",
    "sending body response",
    "async body handler",
    "async body response",
    "relaying denied",
    "extension 1",
    "extension 2",
    "extension 3",
    "extension 4",
    "concurrency limit",
    "rcptto list response",
    "rcptto list final response",
    "esmtp setup phase",
];

/// The rejectlog `P=` text of a phase value.
pub fn phase_text(phase: i32) -> &'static str {
    usize::try_from(phase)
        .ok()
        .and_then(|p| PHASES.get(p))
        .copied()
        .unwrap_or("unknown")
}

/// ec_logger formatter.
#[derive(Clone, Debug)]
pub struct Ec {
    /// Microsecond timestamps (`log_hires_timestamp = true`).
    pub hires: bool,
    /// The last whole second written and its digits: consecutive lines mostly share it.
    last_sec: Cell<(i64, [u8; 24], u8)>,
}

impl Default for Ec {
    fn default() -> Self {
        Ec::new(false)
    }
}

/// Appends the escape of one byte that needs one (see [`needs_escape`]).
fn push_escape(buf: &mut Vec<u8>, b: u8) {
    match b {
        b'@' => buf.extend_from_slice(b"\\@"),
        b'\\' => buf.extend_from_slice(b"\\\\"),
        b'\n' => buf.extend_from_slice(b"\\n"),
        b'\r' => buf.extend_from_slice(b"\\r"),
        b'\t' => buf.extend_from_slice(b"\\t"),
        _ => push_hex_escape(buf, b),
    }
}

/// Does `b` need an escape: control bytes, DEL, `\`, and `@` when `at_too`?
#[inline]
fn needs_escape(b: u8, at_too: bool) -> bool {
    b < 0x20 || b == 0x7f || b == b'\\' || (at_too && b == b'@')
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Is no byte of the little-endian word `w` one that [`needs_escape`]? (SWAR: "has a byte
/// below 0x20" and "has a zero byte" after XOR with each special byte; exact as a whole.)
#[inline]
fn clean_word(w: u64, at_too: bool) -> bool {
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let mut hit = w.wrapping_sub(LO * 0x20) & !w & HI;
    hit |= zero(w ^ (LO * b'\\' as u64));
    hit |= zero(w ^ (LO * 0x7f));
    if at_too {
        hit |= zero(w ^ (LO * b'@' as u64));
    }
    hit == 0
}

/// The escaping loop. A field is first checked a word at a time (its last, partial word as
/// the overlapping final eight bytes) and, when clean, copied whole in one go; a field
/// with a byte to escape goes to the byte loop, which copies clean runs whole.
#[inline]
fn push_escaped(buf: &mut Vec<u8>, bytes: &[u8], at_too: bool) {
    if is_clean(bytes, at_too) {
        buf.extend_from_slice(bytes);
    } else {
        push_escaped_bytes(buf, bytes, at_too);
    }
}

/// Does no byte of `bytes` need an escape? Eight bytes at a time.
#[inline]
fn is_clean(bytes: &[u8], at_too: bool) -> bool {
    let n = bytes.len();
    if n < 8 {
        return !bytes.iter().any(|&b| needs_escape(b, at_too));
    }
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 < n {
        if !clean_word(word(i), at_too) {
            return false;
        }
        i += 8;
    }
    clean_word(word(n - 8), at_too)
}

#[cold]
#[inline(never)]
fn push_escaped_bytes(buf: &mut Vec<u8>, bytes: &[u8], at_too: bool) {
    let mut start = 0;
    for (j, &b) in bytes.iter().enumerate() {
        if needs_escape(b, at_too) {
            buf.extend_from_slice(&bytes[start..j]);
            push_escape(buf, b);
            start = j + 1;
        }
    }
    buf.extend_from_slice(&bytes[start..]);
}

/// Appends an `@`-separated field: `@` and `\` escaped, control bytes escaped.
pub fn push_field(buf: &mut Vec<u8>, bytes: &[u8]) {
    push_escaped(buf, bytes, true);
}

/// Appends a trailing free text: `\` and control bytes escaped, `@` raw.
pub fn push_text(buf: &mut Vec<u8>, bytes: &[u8]) {
    push_escaped(buf, bytes, false);
}

fn push_quoted(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.push(b'"');
    for &b in bytes {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            _ => push_escaped(buf, &[b], false),
        }
    }
    buf.push(b'"');
}

fn push_token(buf: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b' ' | b'"' | b'\\' | 0..=0x1f | 0x7f => push_hex_escape(buf, b),
            _ => buf.push(b),
        }
    }
}

fn push_ctx(buf: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b']' => push_hex_escape(buf, b),
            _ => push_escaped(buf, &[b], false),
        }
    }
}

/// Strips one pair of enclosing angle brackets from an address.
pub fn bare_address(a: &[u8]) -> &[u8] {
    match a {
        [b'<', inner @ .., b'>'] => inner,
        _ => a,
    }
}

/// Splits an address at its last `@` into (localpart, domain).
pub fn split_address(a: &[u8]) -> (&[u8], &[u8]) {
    let a = bare_address(a);
    match a.iter().rposition(|&b| b == b'@') {
        Some(i) => (&a[..i], &a[i + 1..]),
        None => (a, &[]),
    }
}

fn or_null(id: &[u8]) -> &[u8] {
    if id.is_empty() { NULL_ID } else { id }
}

fn push_endpoint(buf: &mut Vec<u8>, ip: &[u8], port: u16) {
    let mut s = Vec::with_capacity(ip.len() + 8);
    if !ip.is_empty() {
        if ip.contains(&b':') {
            s.push(b'[');
            s.extend_from_slice(ip);
            s.push(b']');
        } else {
            s.extend_from_slice(ip);
        }
        s.push(b':');
        push_u64(&mut s, port as u64);
    }
    push_quoted(buf, &s);
}

impl Ec {
    /// A formatter with whole-second (`hires` false) or microsecond timestamps.
    pub fn new(hires: bool) -> Ec {
        Ec {
            hires,
            last_sec: Cell::new((0, [0; 24], 0)),
        }
    }

    fn push_ts(&self, buf: &mut Vec<u8>, t: Timestamp) {
        if self.hires {
            let us = t.as_micros().max(0) as u64;
            push_u64(buf, us);
        } else {
            let (sec, digits, len) = self.last_sec.get();
            if sec == t.sec && len > 0 {
                buf.extend_from_slice(&digits[..len as usize]);
                return;
            }
            let start = buf.len();
            push_i64(buf, t.sec);
            let mut d = [0; 24];
            let n = buf.len() - start;
            d[..n].copy_from_slice(&buf[start..]);
            self.last_sec.set((t.sec, d, n as u8));
        }
    }

    pub(crate) fn push_ids(&self, buf: &mut Vec<u8>, ev: &Event) {
        self.push_ts(buf, ev.time);
        buf.push(b'@');
        push_field(buf, or_null(ev.get(Field::MsgId)));
        buf.push(b'@');
        let batch = ev.get(Field::BatchId);
        push_field(
            buf,
            if batch.is_empty() {
                or_null(ev.get(Field::MsgId))
            } else {
                batch
            },
        );
        buf.push(b'@');
        let conn = ev.get(Field::ConnId);
        let conn = if conn.is_empty() {
            ev.get(Field::AcceptConnId)
        } else {
            conn
        };
        push_field(buf, or_null(conn));
        buf.push(b'@');
    }

    fn queue_time(ev: &Event, buf: &mut Vec<u8>) {
        let micros = if ev.has(flags::HAS_RECEIVED) {
            ev.time.micros_since(ev.received)
        } else {
            0
        };
        push_secs_2dp(buf, micros);
    }

    /// mainlog R line.
    pub fn reception(&self, ev: &Event, buf: &mut Vec<u8>) {
        self.push_ids(buf, ev);
        buf.extend_from_slice(b"R@");
        let (rl, rd) = split_address(ev.get(Field::RcptTo));
        let (fl, fd) = split_address(ev.get(Field::MailFrom));
        for part in [rl, rd, fl, fd] {
            push_field(buf, part);
            buf.push(b'@');
        }
        let ip = ev.get(Field::PeerIp);
        push_field(buf, if ip.is_empty() { b"unknown" } else { ip });
        buf.push(b'@');
        push_u64(buf, ev.size);
        buf.push(b'@');
        push_protocol(buf, ev);
        buf.push(b'@');
        push_field(buf, ev.get(Field::BindingGroup));
        buf.push(b'@');
        push_field(buf, ev.get(Field::Binding));
        buf.push(b'\n');
    }

    /// mainlog D / X line (and `A` for `log_attempts = true`).
    pub fn delivery(&self, ev: &Event, letter: &[u8], buf: &mut Vec<u8>) {
        self.push_ids(buf, ev);
        buf.extend_from_slice(letter);
        buf.push(b'@');
        push_field(buf, ev.get(Field::DomainName));
        buf.push(b'@');
        push_u64(buf, ev.size);
        buf.push(b'@');
        push_field(buf, ev.get(Field::BindingGroup));
        buf.push(b'@');
        push_field(buf, ev.get(Field::Binding));
        buf.push(b'@');
        push_u64(buf, ev.retries as u64);
        buf.push(b'@');
        Self::queue_time(ev, buf);
        buf.push(b'@');
        push_field(buf, ev.get(Field::MxIp));
        buf.push(b'\n');
    }

    /// mainlog T / P line.
    pub fn failure(&self, ev: &Event, letter: u8, buf: &mut Vec<u8>) {
        self.push_ids(buf, ev);
        buf.push(letter);
        buf.push(b'@');
        push_field(buf, ev.get(Field::DomainName));
        buf.push(b'@');
        push_u64(buf, ev.bytes_sent);
        buf.push(b'@');
        push_field(buf, ev.get(Field::BindingGroup));
        buf.push(b'@');
        push_field(buf, ev.get(Field::Binding));
        buf.push(b'@');
        push_i64(buf, ev.stage as i64);
        buf.push(b'@');
        push_u64(buf, ev.retries as u64);
        buf.push(b'@');
        Self::queue_time(ev, buf);
        buf.push(b'@');
        push_field(buf, ev.get(Field::MxIp));
        buf.push(b'@');
        push_text(buf, strip_one_newline(ev.get(Field::Note)));
        buf.push(b'\n');
    }

    /// rejectlog line.
    pub fn rejection(&self, ev: &Event, buf: &mut Vec<u8>) {
        self.push_ts(buf, ev.time);
        buf.extend_from_slice(b": R=");
        push_endpoint(buf, ev.get(Field::PeerIp), ev.peer_port);
        buf.extend_from_slice(b" L=");
        push_endpoint(buf, ev.get(Field::LocalIp), ev.local_port);
        buf.extend_from_slice(b" C=");
        let conn = ev.get(Field::AcceptConnId);
        push_quoted(
            buf,
            if conn.is_empty() {
                ev.get(Field::ConnId)
            } else {
                conn
            },
        );
        buf.extend_from_slice(b" PATH=");
        push_quoted(buf, ev.get(Field::VPathway));
        buf.extend_from_slice(b" PATH_GRP=");
        push_quoted(buf, ev.get(Field::VPathwayGroup));
        buf.extend_from_slice(b" P=\"");
        buf.extend_from_slice(phase_text(ev.phase).as_bytes());
        buf.extend_from_slice(b"\" E=");
        let text = strip_one_newline(ev.get(Field::Note));
        let code = if ev.code != 0 {
            ev.code
        } else {
            match text {
                [a @ b'1'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9', ..] => {
                    (*a - b'0') as i32 * 100 + (*b - b'0') as i32 * 10 + (*c - b'0') as i32
                }
                _ => 0,
            }
        };
        push_i64(buf, code as i64);
        buf.extend_from_slice(b" M=");
        push_token(buf, ev.get(Field::VModule));
        buf.extend_from_slice(b" CTXCONN=[");
        push_ctx(buf, ev.get(Field::VCtxConn));
        buf.extend_from_slice(b"] CTXMESS=[");
        push_ctx(buf, ev.get(Field::VCtxMess));
        buf.extend_from_slice(b"] ");
        push_text(buf, text);
        buf.push(b'\n');
    }

    /// paniclog line: `<epoch>:<text>`.
    pub fn error(&self, ev: &Event, buf: &mut Vec<u8>) {
        self.push_ts(buf, ev.time);
        buf.push(b':');
        push_text(buf, strip_one_newline(ev.get(Field::Note)));
        buf.push(b'\n');
    }

    /// acctlog line (N, Z, T, ?).
    pub fn acct(&self, ev: &Event, buf: &mut Vec<u8>) {
        self.push_ts(buf, ev.time);
        buf.push(b'@');
        let ty = match ev.code {
            78 | 84 | 90 => ev.code as u8, // N, T, Z
            _ => b'?',
        };
        buf.push(ty);
        for f in [Field::AcctListener, Field::AcctPeer, Field::AcctUser] {
            buf.push(b'@');
            push_field(buf, ev.get(f));
        }
        buf.push(b'@');
        push_i64(buf, ev.phase as i64);
        if ty == b'Z' {
            buf.push(b'@');
            push_field(buf, ev.get(Field::AcctCommand));
            let role = ev.get(Field::AcctRole);
            if !role.is_empty() {
                buf.push(b'@');
                push_field(buf, role);
            }
        }
        buf.push(b'\n');
    }

    /// importlog line.
    pub fn import(&self, ev: &Event, buf: &mut Vec<u8>) {
        self.push_ts(buf, ev.time);
        buf.push(b'@');
        let orig = or_null(ev.get(Field::MsgId));
        push_field(buf, orig);
        buf.extend_from_slice(b"@I@");
        let new = ev.get(Field::ImportNewId);
        push_field(buf, if new.is_empty() { orig } else { new });
        buf.push(b'@');
        push_i64(buf, ev.phase as i64);
        buf.push(b'@');
        push_field(buf, ev.get(Field::ImportDir));
        buf.push(b'\n');
    }
}

impl Formatter for Ec {
    fn format(&mut self, ev: &Event, out: &mut Out) {
        match ev.kind {
            Kind::Reception => self.reception(ev, out.buf(Target::Main)),
            Kind::Delivery => {
                let letter: &[u8] = if ev.has(flags::TRANSFER) { b"X" } else { b"D" };
                self.delivery(ev, letter, out.buf(Target::Main))
            }
            Kind::Attempt => self.delivery(ev, b"A", out.buf(Target::Main)),
            Kind::TransientFailure => self.failure(ev, b'T', out.buf(Target::Main)),
            Kind::PermanentFailure => self.failure(ev, b'P', out.buf(Target::Main)),
            Kind::Rejection => self.rejection(ev, out.buf(Target::Reject)),
            Kind::Error => self.error(ev, out.buf(Target::Panic)),
            Kind::Acct => self.acct(ev, out.buf(Target::Acct)),
            Kind::Import => self.import(ev, out.buf(Target::Import)),
        }
    }

    fn heartbeat(&mut self, now: Timestamp, out: &mut Out) {
        let m = out.buf(Target::Main);
        self.push_ts(m, now);
        m.extend_from_slice(b"@@@@M1\n");
        let r = out.buf(Target::Reject);
        self.push_ts(r, now);
        r.extend_from_slice(b": Marker 1\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build;

    fn line(ev: &Event) -> String {
        let mut out = Out::default();
        Ec::default().format(ev, &mut out);
        let all: Vec<u8> = out.bufs.concat();
        String::from_utf8(all).unwrap()
    }

    #[test]
    fn escaping_matches_the_byte_rule_at_every_position() {
        // Every special byte (and a neighbour of each) at every position of fields of 0 to
        // 40 bytes: the word-at-a-time check must agree with the byte rule.
        for at_too in [false, true] {
            for len in 0..=40usize {
                for pos in 0..len.max(1) {
                    for special in [0u8, b'\n', 0x1f, 0x20, b'@', b'A', b'\\', 0x7f, 0x80, 0xff] {
                        let mut field = vec![b'x'; len];
                        if len > 0 {
                            field[pos] = special;
                        }
                        let mut want = Vec::new();
                        for &b in &field {
                            if needs_escape(b, at_too) {
                                push_escape(&mut want, b);
                            } else {
                                want.push(b);
                            }
                        }
                        let mut got = b"prefix".to_vec();
                        push_escaped(&mut got, &field, at_too);
                        assert_eq!(&got[6..], &want[..], "{len} {pos} {special:#x} {at_too}");
                    }
                }
            }
        }
    }

    #[test]
    fn timestamps_repeat_and_change() {
        let f = Ec::new(false);
        let mut b = Vec::new();
        for sec in [0, 0, 1_700_000_000, 1_700_000_000, 1_700_000_001, -5, -5, 0] {
            b.clear();
            f.push_ts(&mut b, Timestamp { sec, usec: 7 });
            assert_eq!(b, sec.to_string().as_bytes());
        }
    }

    fn msg(kind: Kind, extra: Vec<(Field, &'static [u8])>) -> Event {
        let mut f: Vec<(Field, &[u8])> = vec![
            (Field::MsgId, b"60/00-31337-EF0F3556"),
            (Field::BatchId, b"60/00-31337-EF0F3556"),
            (Field::ConnId, b"1A/20-31337-821F3556"),
            (Field::MailFrom, b"news@sender.example"),
            (Field::RcptTo, b"alice@dest.example"),
            (Field::BindingGroup, b"group-a"),
            (Field::Binding, b"vip-1"),
            (Field::DomainName, b"dest.example"),
            (Field::MxIp, b"198.51.100.25"),
        ];
        f.extend(extra);
        let mut ev = build(kind, f);
        ev.time = Timestamp {
            sec: 1_700_000_042,
            usec: 0,
        };
        ev.received = Timestamp {
            sec: 1_699_999_997,
            usec: 940_000,
        };
        ev.flags |= flags::HAS_RECEIVED;
        ev.size = 4821;
        ev
    }

    #[test]
    fn delivery_line_matches_the_spec_example() {
        let ev = msg(Kind::Delivery, vec![]);
        assert_eq!(
            line(&ev),
            "1700000042@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@D@dest.example@4821@group-a@vip-1@0@44.06@198.51.100.25\n"
        );
    }

    #[test]
    fn transfer_is_x() {
        let mut ev = msg(Kind::Delivery, vec![]);
        ev.flags |= flags::TRANSFER;
        assert!(line(&ev).contains("@X@dest.example@"));
    }

    #[test]
    fn reception_line() {
        let mut ev = msg(
            Kind::Reception,
            vec![(Field::PeerIp, b"192.0.2.10"), (Field::Protocol, b"ESMTP")],
        );
        ev.time = Timestamp {
            sec: 1_700_000_000,
            usec: 0,
        };
        assert_eq!(
            line(&ev),
            "1700000000@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@R@alice@dest.example@news@sender.example@192.0.2.10@4821@esmtp@group-a@vip-1\n"
        );
    }

    #[test]
    fn reception_protocols_are_the_spec_names() {
        let proto = |p: &'static [u8], transfer: bool| {
            let mut ev = msg(Kind::Reception, vec![(Field::Protocol, p)]);
            if transfer {
                ev.flags |= flags::TRANSFER;
            }
            let l = line(&ev);
            l.split('@').nth(11).unwrap().to_owned()
        };
        for (host, want) in [
            (&b""[..], "esmtp"),
            (b"esmtp", "esmtp"),
            (b"SMTP", "esmtp"),
            (b"ESMTPSA", "esmtp"),
            (b"lmtp", "esmtp"),
            (b"HTTP", "rest"),
            (b"https", "rest"),
            (b"rest", "rest"),
            (b"ecstream", "ecstream"),
            (b"Internal", "internal"),
            (b"xfer", "xfer"),
        ] {
            assert_eq!(
                proto(host, false),
                want,
                "{:?}",
                String::from_utf8_lossy(host)
            );
        }
        // A message from another cluster node arrived by transfer, whatever the listener.
        assert_eq!(proto(b"esmtp", true), "xfer");
    }

    #[test]
    fn null_sender_and_missing_ids() {
        let mut ev = build(Kind::Reception, vec![(Field::RcptTo, b"<bob@x.example>")]);
        ev.time = Timestamp { sec: 5, usec: 0 };
        assert_eq!(
            line(&ev),
            "5@00/00-00000-00000000@00/00-00000-00000000@00/00-00000-00000000@R@bob@x.example@@@unknown@0@esmtp@@\n"
        );
    }

    #[test]
    fn transient_and_permanent_failures() {
        let mut ev = msg(
            Kind::TransientFailure,
            vec![(Field::Note, b"421 4.7.0 try again later")],
        );
        ev.stage = 4;
        ev.time = Timestamp {
            sec: 1_700_000_012,
            usec: 0,
        };
        ev.received = Timestamp {
            sec: 1_699_999_997,
            usec: 790_000,
        };
        assert_eq!(
            line(&ev),
            "1700000012@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@T@dest.example@0@group-a@vip-1@4@0@14.21@198.51.100.25@421 4.7.0 try again later\n"
        );
        let mut ev = msg(
            Kind::PermanentFailure,
            vec![(Field::Note, b"550 5.1.1 user@unknown\r\n")],
        );
        ev.stage = 9;
        ev.retries = 2;
        ev.bytes_sent = 4821;
        assert!(line(&ev).ends_with(
            "@P@dest.example@4821@group-a@vip-1@9@2@44.06@198.51.100.25@550 5.1.1 user@unknown\n"
        ));
    }

    #[test]
    fn hostile_values_cannot_add_fields_or_lines() {
        let ev = msg(
            Kind::Reception,
            vec![
                (Field::PeerIp, b"1.2.3.4@evil\n1700000000@x@y@z@D"),
                (Field::Protocol, b"es\\mtp"),
            ],
        );
        let l = line(&ev);
        assert_eq!(l.matches('\n').count(), 1);
        // An unescaped-@ split still gives exactly 14 fields.
        let fields = split_unescaped(l.trim_end());
        assert_eq!(fields.len(), 14, "{l}");
        assert_eq!(fields[9], "1.2.3.4\\@evil\\n1700000000\\@x\\@y\\@z\\@D");
        assert_eq!(fields[11], "es\\\\mtp");
    }

    fn split_unescaped(l: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut esc = false;
        for c in l.chars() {
            if esc {
                out.last_mut().unwrap().push(c);
                esc = false;
            } else if c == '\\' {
                out.last_mut().unwrap().push(c);
                esc = true;
            } else if c == '@' {
                out.push(String::new());
            } else {
                out.last_mut().unwrap().push(c);
            }
        }
        out
    }

    #[test]
    fn localparts_escape_at_and_backslash() {
        let ev = msg(Kind::Reception, vec![]);
        let mut ev2 = build(
            Kind::Reception,
            vec![
                (Field::MailFrom, br#""a@b\c"@x.example"#),
                (Field::RcptTo, b"r@y.example"),
            ],
        );
        ev2.time = ev.time;
        let l = line(&ev2);
        assert!(
            l.contains("@R@r@y.example@\"a\\@b\\\\c\"@x.example@"),
            "{l}"
        );
    }

    #[test]
    fn rejectlog_line() {
        let mut ev = build(
            Kind::Rejection,
            vec![
                (Field::PeerIp, b"203.0.113.9"),
                (Field::LocalIp, b"192.0.2.1"),
                (Field::AcceptConnId, b"E0/00-31337-F51F3556"),
                (Field::VModule, b"scriptlet"),
                (Field::VPathway, b"default"),
                (Field::VPathwayGroup, b"default"),
                (Field::VCtxConn, b"pathway=default,ehlo_domain=mx.client.example,ehlo_string=\"EHLO mx.client.example\""),
                (Field::VCtxMess, b"mailfrom_localpart=bob"),
                (Field::Note, b"550 5.7.1 relaying denied"),
            ],
        );
        ev.time = Timestamp {
            sec: 1_700_000_100,
            usec: 0,
        };
        ev.peer_port = 51234;
        ev.local_port = 25;
        ev.phase = 6;
        ev.code = 550;
        assert_eq!(
            line(&ev),
            "1700000100: R=\"203.0.113.9:51234\" L=\"192.0.2.1:25\" C=\"E0/00-31337-F51F3556\" PATH=\"default\" PATH_GRP=\"default\" P=\"awaiting rcptto\" E=550 M=scriptlet CTXCONN=[pathway=default,ehlo_domain=mx.client.example,ehlo_string=\"EHLO mx.client.example\"] CTXMESS=[mailfrom_localpart=bob] 550 5.7.1 relaying denied\n"
        );
    }

    #[test]
    fn rejectlog_unknown_phase_ipv6_and_code_from_text() {
        let mut ev = build(
            Kind::Rejection,
            vec![
                (Field::PeerIp, b"2001:db8::1"),
                (Field::VModule, b"a b"),
                (Field::VCtxConn, b"x=]y"),
                (Field::Note, b"421 busy\n"),
            ],
        );
        ev.phase = 99;
        ev.peer_port = 25;
        let l = line(&ev);
        assert_eq!(
            l,
            "0: R=\"[2001:db8::1]:25\" L=\"\" C=\"\" PATH=\"\" PATH_GRP=\"\" P=\"unknown\" E=421 M=a\\x20b CTXCONN=[x=\\x5dy] CTXMESS=[] 421 busy\n"
        );
        assert_eq!(phase_text(-1), "unknown");
        assert_eq!(phase_text(21), "esmtp setup phase");
        assert_eq!(phase_text(22), "unknown");
    }

    #[test]
    fn paniclog_strips_one_newline_and_escapes_the_rest() {
        let mut ev = build(
            Kind::Error,
            vec![(Field::Note, b"scriptlet: line1\nline2\t\x01\n")],
        );
        ev.time = Timestamp {
            sec: 1_700_000_005,
            usec: 0,
        };
        assert_eq!(line(&ev), "1700000005:scriptlet: line1\\nline2\\t\\x01\n");
    }

    #[test]
    fn acct_and_import() {
        let mut ev = build(
            Kind::Acct,
            vec![
                (Field::AcctListener, b"*:2025"),
                (Field::AcctPeer, b"198.51.100.77:40112"),
                (Field::AcctUser, b"admin"),
                (Field::AcctCommand, b"summary"),
                (Field::AcctRole, b"operators"),
            ],
        );
        ev.time = Timestamp {
            sec: 1_700_000_201,
            usec: 0,
        };
        ev.code = b'Z' as i32;
        ev.phase = 1;
        assert_eq!(
            line(&ev),
            "1700000201@Z@*:2025@198.51.100.77:40112@admin@1@summary@operators\n"
        );
        ev.code = b'N' as i32;
        assert_eq!(
            line(&ev),
            "1700000201@N@*:2025@198.51.100.77:40112@admin@1\n"
        );
        ev.code = b'q' as i32;
        assert!(line(&ev).starts_with("1700000201@?@"));
        let mut ev = build(
            Kind::Import,
            vec![
                (Field::MsgId, b"32/10-04242-0001E5F5"),
                (Field::ImportDir, b"/var/spool/restore"),
            ],
        );
        ev.time = Timestamp {
            sec: 1_700_000_400,
            usec: 0,
        };
        ev.phase = 1;
        assert_eq!(
            line(&ev),
            "1700000400@32/10-04242-0001E5F5@I@32/10-04242-0001E5F5@1@/var/spool/restore\n"
        );
    }

    #[test]
    fn lines_read_only_the_fields_the_hooks_copy() {
        use crate::event::FIELD_COUNT;
        let all = Field::ALL;
        assert_eq!(all.len(), FIELD_COUNT);
        let values: Vec<String> = all
            .iter()
            .map(|f| format!("v{}@x.example", *f as u8))
            .collect();
        for kind in Kind::ALL {
            let make = |mask: u64| {
                let fields = all
                    .iter()
                    .zip(&values)
                    .filter(|(f, _)| mask & 1 << **f as u64 != 0)
                    .map(|(f, v)| (*f, v.as_bytes()))
                    .collect();
                let mut ev = build(kind, fields);
                ev.time = Timestamp { sec: 7, usec: 0 };
                ev.flags = flags::HAS_RECEIVED | flags::TLS | flags::ESMTP | flags::HAS_ACCEPT;
                ev.code = b'Z' as i32;
                line(&ev)
            };
            assert_eq!(make(u64::MAX), make(fields_used(kind)), "{kind:?}");
        }
    }

    #[test]
    fn escaping_agrees_with_the_byte_rule_at_every_position() {
        for at_too in [false, true] {
            for b in 0..=255u8 {
                for len in [1usize, 7, 8, 9, 17] {
                    for pos in 0..len {
                        let mut v = vec![b'a'; len];
                        v[pos] = b;
                        let mut fast = Vec::new();
                        push_escaped(&mut fast, &v, at_too);
                        let mut slow = Vec::new();
                        for &c in &v {
                            if needs_escape(c, at_too) {
                                push_escape(&mut slow, c);
                            } else {
                                slow.push(c);
                            }
                        }
                        assert_eq!(fast, slow, "byte {b:#x} at {pos} of {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn heartbeats_and_hires() {
        let mut out = Out::default();
        let mut f = Ec::new(true);
        f.heartbeat(
            Timestamp {
                sec: 1_700_000_060,
                usec: 5,
            },
            &mut out,
        );
        assert_eq!(out.bufs[Target::Main as usize], b"1700000060000005@@@@M1\n");
        assert_eq!(
            out.bufs[Target::Reject as usize],
            b"1700000060000005: Marker 1\n"
        );
        let mut out = Out::default();
        Ec::default().heartbeat(
            Timestamp {
                sec: 1_700_000_060,
                usec: 5,
            },
            &mut out,
        );
        assert_eq!(out.bufs[Target::Main as usize], b"1700000060@@@@M1\n");
    }
}
