//! The ec_logger formatter: one event to its mainlog, rejectlog, paniclog, acctlog or
//! importlog line, escaped by the rule of the module doc.

use std::cell::Cell;

use super::{NULL_ID, phase_text};
use crate::event::{Event, Field, Kind, Timestamp, flags};
use crate::format::text::split_address;
use crate::format::{
    Formatter, Out, Target, push_hex_escape, push_i64, push_secs_2dp, push_u64, strip_one_newline,
};

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
pub(super) fn push_escape(buf: &mut Vec<u8>, b: u8) {
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
pub(super) fn needs_escape(b: u8, at_too: bool) -> bool {
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
pub(super) fn push_escaped(buf: &mut Vec<u8>, bytes: &[u8], at_too: bool) {
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

    pub(super) fn push_ts(&self, buf: &mut Vec<u8>, t: Timestamp) {
        let t = t.clamped();
        if self.hires {
            let us = t.as_micros() as u64;
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
        // The stage table runs 0 to 22, 22 being "unknown state".
        let stage = if (0..=22).contains(&ev.stage) {
            ev.stage
        } else {
            22
        };
        push_u64(buf, stage as u64);
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
