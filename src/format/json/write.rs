//! The json_logger formatter: one event to one JSON object on one line, written by hand
//! (no serializer: the writer formats millions of lines a second and allocates nothing
//! per line), keys in the order of the schema (`docs/json-logger.md`).

use crate::event::{Event, Field, Kind, Timestamp, flags};
use crate::format::ec::phase_text;
use crate::format::text::{enhanced_code, reply_code, strip_one_newline};
use crate::format::{
    Formatter, Level, Out, Target, civil, push_i64, push_padded, push_u64, split_severity,
};

/// The first second a record's `time` can show (0000-01-01T00:00:00Z); earlier times are
/// written as this one.
const MIN_SEC: i64 = -62_167_219_200;
/// The last second a record's `time` can show (9999-12-31T23:59:59Z).
const MAX_SEC: i64 = 253_402_300_799;

/// json_logger formatter.
#[derive(Clone, Debug)]
pub struct Json {
    /// `","logger":"NAME","host":"HOST","pid":PID,"seq":`
    head: Vec<u8>,
    /// `,"event_id":"` and the boot id's 16 hex digits.
    event_id: Vec<u8>,
    /// The `seq` of the last record written.
    seq: u64,
    /// Where `error` records go (`Main`, or `Panic` when a paniclog is configured).
    errors: Target,
    /// Level of an error text without a severity prefix.
    default_level: Level,
    /// Byte sequences that were not UTF-8 since the last `take_replaced`.
    replaced: u64,
    /// The whole second `stamp` shows, and `YYYY-MM-DDThh:mm:ss` of it.
    stamp_sec: Option<i64>,
    stamp: [u8; 19],
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Is no byte of the little-endian word `w` one that a JSON string cannot hold as it is
/// (`"`, `\`, a control byte, DEL) or one that starts a check for UTF-8 (0x80 and up)?
/// (SWAR: "has a byte below 0x20" and "has a zero byte" after XOR with each special byte;
/// exact as a whole.)
#[inline]
fn plain_word(w: u64) -> bool {
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let mut hit = w & HI;
    hit |= w.wrapping_sub(LO * 0x20) & !w & HI;
    hit |= zero(w ^ (LO * u64::from(b'"')));
    hit |= zero(w ^ (LO * u64::from(b'\\')));
    hit |= zero(w ^ (LO * 0x7f));
    hit == 0
}

/// Is `bytes` printable ASCII without `"` and `\`? Eight bytes at a time (the last,
/// partial word as the overlapping final eight bytes).
#[inline]
fn is_plain(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n < 8 {
        return bytes
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    }
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 < n {
        if !plain_word(word(i)) {
            return false;
        }
        i += 8;
    }
    plain_word(word(n - 8))
}

/// Appends `bytes` as the inside of a JSON string (without the quotes) by the rule of the
/// module doc; returns how many sequences that were not UTF-8 became U+FFFD.
#[inline]
pub fn push_string(buf: &mut Vec<u8>, bytes: &[u8]) -> u64 {
    if is_plain(bytes) {
        buf.extend_from_slice(bytes);
        0
    } else {
        push_string_slow(buf, bytes)
    }
}

#[cold]
#[inline(never)]
fn push_string_slow(buf: &mut Vec<u8>, bytes: &[u8]) -> u64 {
    let mut replaced = 0;
    for chunk in bytes.utf8_chunks() {
        push_utf8(buf, chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            buf.extend_from_slice("\u{fffd}".as_bytes());
            replaced += 1;
        }
    }
    replaced
}

/// Appends valid UTF-8, escaped.
fn push_utf8(buf: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // (escape, bytes of input it stands for); a code point as `\uXXXX` when the short
        // form is empty.
        let (short, code, len): (&[u8], u32, usize) = match c {
            b'"' => (b"\\\"", 0, 1),
            b'\\' => (b"\\\\", 0, 1),
            b'\n' => (b"\\n", 0, 1),
            b'\r' => (b"\\r", 0, 1),
            b'\t' => (b"\\t", 0, 1),
            0x08 => (b"\\b", 0, 1),
            0x0c => (b"\\f", 0, 1),
            0..=0x1f | 0x7f => (b"", u32::from(c), 1),
            // C1 controls (U+0080..U+009F): C2 80..C2 9F.
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => (b"", u32::from(b[i + 1]), 2),
            // U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR: E2 80 A8/A9.
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => {
                (b"", 0x2000 | u32::from(b[i + 2] - 0x80), 3)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        buf.extend_from_slice(&b[start..i]);
        if short.is_empty() {
            buf.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                buf.push(HEX[(code >> shift) as usize & 15]);
            }
        } else {
            buf.extend_from_slice(short);
        }
        i += len;
        start = i;
    }
    buf.extend_from_slice(&b[start..]);
}

/// Appends `v` as 16 lower-case hex digits.
fn push_hex16(buf: &mut Vec<u8>, v: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [0u8; 16];
    for (i, d) in t.iter_mut().enumerate() {
        *d = HEX[(v >> (60 - 4 * i)) as usize & 15];
    }
    buf.extend_from_slice(&t);
}

/// Appends a duration in microseconds as seconds with up to six decimals, trailing zeros
/// dropped but always one decimal (`144.0`, `0.5`, `12.000001`): a JSON number that every
/// consumer reads as a floating-point one.
pub fn push_seconds(buf: &mut Vec<u8>, micros: u64) {
    push_u64(buf, micros / 1_000_000);
    buf.push(b'.');
    let mut frac = micros % 1_000_000;
    if frac == 0 {
        buf.push(b'0');
        return;
    }
    let mut width = 6;
    while frac % 10 == 0 {
        frac /= 10;
        width -= 1;
    }
    push_padded(buf, frac, width);
}

/// The reply code a text starts with, and the enhanced status code after it (or at the
/// start of a text without a reply code).
fn codes(text: &[u8]) -> (Option<u16>, Option<&[u8]>) {
    let code = reply_code(text);
    let mut rest = if code.is_some() {
        text.get(4..).unwrap_or(b"")
    } else {
        text
    };
    while let [b' ', tail @ ..] = rest {
        rest = tail;
    }
    (code, enhanced_code(rest))
}

/// The `"type"` of an event.
pub fn type_name(ev: &Event) -> &'static str {
    match ev.kind {
        Kind::Delivery if ev.has(flags::TRANSFER) => "transfer",
        Kind::Acct => "auth",
        k => k.name(),
    }
}

/// The `"auth"` word of an acctlog type byte (`N`, `T`, `Z`; anything else is `unknown`).
pub fn auth_word(code: i32) -> &'static str {
    match code {
        78 => "authentication",
        84 => "timeout",
        90 => "authorization",
        _ => "unknown",
    }
}

impl Json {
    /// A formatter for the logger `logger` on `host`, process `pid`, whose event ids start
    /// with `boot`; `error` records go to `errors`, an error text without a severity prefix
    /// has `default_level`.
    pub fn new(
        logger: &str,
        host: &str,
        pid: u32,
        boot: u64,
        errors: Target,
        default_level: Level,
    ) -> Json {
        let mut head = b"\",\"logger\":\"".to_vec();
        push_string(&mut head, logger.as_bytes());
        head.extend_from_slice(b"\",\"host\":\"");
        push_string(&mut head, host.as_bytes());
        head.extend_from_slice(b"\",\"pid\":");
        push_u64(&mut head, u64::from(pid));
        head.extend_from_slice(b",\"seq\":");
        let mut event_id = b",\"event_id\":\"".to_vec();
        push_hex16(&mut event_id, boot);
        Json {
            head,
            event_id,
            seq: 0,
            errors,
            default_level,
            replaced: 0,
            stamp_sec: None,
            stamp: [0; 19],
        }
    }

    /// The `seq` of the last record written (0 before the first).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Appends `time`: RFC 3339, UTC, microseconds.
    fn push_time(&mut self, buf: &mut Vec<u8>, t: Timestamp) {
        let (sec, usec) = if t.sec < MIN_SEC {
            (MIN_SEC, 0)
        } else if t.sec > MAX_SEC {
            (MAX_SEC, 999_999)
        } else {
            (t.sec, t.usec)
        };
        if self.stamp_sec != Some(sec) {
            let c = civil(sec, 0);
            let two = |d: &mut [u8], v: u32| {
                d[0] = b'0' + (v / 10 % 10) as u8;
                d[1] = b'0' + (v % 10) as u8;
            };
            let mut s = *b"0000-00-00T00:00:00";
            let year = c.year as u32;
            two(&mut s[0..2], year / 100);
            two(&mut s[2..4], year % 100);
            two(&mut s[5..7], c.month);
            two(&mut s[8..10], c.day);
            two(&mut s[11..13], c.hour);
            two(&mut s[14..16], c.min);
            two(&mut s[17..19], c.sec);
            self.stamp = s;
            self.stamp_sec = Some(sec);
        }
        buf.extend_from_slice(&self.stamp);
        buf.push(b'.');
        push_padded(buf, u64::from(usec), 6);
        buf.push(b'Z');
    }

    /// `,"KEY":"VALUE"` (`key` is `,"KEY":"`), absent when `v` is empty.
    #[inline]
    fn string(&mut self, buf: &mut Vec<u8>, key: &[u8], v: &[u8]) {
        if v.is_empty() {
            return;
        }
        buf.extend_from_slice(key);
        self.replaced += push_string(buf, v);
        buf.push(b'"');
    }

    /// Appends one record of `ev`.
    pub fn record(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        // Counted once the record is whole: a record that could not be formatted is
        // taken back by the writer and leaves no gap.
        let seq = self.seq + 1;
        buf.extend_from_slice(b"{\"v\":1,\"time\":\"");
        self.push_time(buf, ev.time);
        buf.extend_from_slice(b"\",\"type\":\"");
        buf.extend_from_slice(type_name(ev).as_bytes());
        buf.extend_from_slice(&self.head);
        push_u64(buf, seq);
        buf.extend_from_slice(&self.event_id);
        push_hex16(buf, seq);
        buf.push(b'"');
        match ev.kind {
            Kind::Reception => self.reception(ev, buf),
            Kind::Delivery | Kind::Attempt | Kind::TransientFailure | Kind::PermanentFailure => {
                self.outbound(ev, buf)
            }
            Kind::Rejection => self.rejection(ev, buf),
            Kind::Error => self.error(ev, buf),
            Kind::Acct => self.acct(ev, buf),
            Kind::Import => self.import(ev, buf),
        }
        buf.extend_from_slice(b"}\n");
        self.seq = seq;
    }

    /// `id` .. `binding_group`: what every message record starts with.
    fn message(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        self.string(buf, b",\"id\":\"", ev.get(Field::MsgId));
        self.string(buf, b",\"batch_id\":\"", ev.get(Field::BatchId));
        let conn = ev.get(Field::ConnId);
        let conn = if conn.is_empty() {
            ev.get(Field::AcceptConnId)
        } else {
            conn
        };
        self.string(buf, b",\"conn_id\":\"", conn);
        self.string(buf, b",\"sender\":\"", ev.get(Field::MailFrom));
        self.string(buf, b",\"rcpt\":\"", ev.get(Field::RcptTo));
        buf.extend_from_slice(b",\"size\":");
        push_u64(buf, ev.size);
        self.string(buf, b",\"binding\":\"", ev.get(Field::Binding));
        self.string(buf, b",\"binding_group\":\"", ev.get(Field::BindingGroup));
    }

    /// `protocol` .. `helo`: the session of a reception or rejection.
    fn session(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        self.string(buf, b",\"protocol\":\"", ev.get(Field::Protocol));
        self.string(buf, b",\"peer_ip\":\"", ev.get(Field::PeerIp));
        if ev.peer_port != 0 {
            buf.extend_from_slice(b",\"peer_port\":");
            push_u64(buf, u64::from(ev.peer_port));
        }
        self.string(buf, b",\"local_ip\":\"", ev.get(Field::LocalIp));
        if ev.local_port != 0 {
            buf.extend_from_slice(b",\"local_port\":");
            push_u64(buf, u64::from(ev.local_port));
        }
        self.string(buf, b",\"helo\":\"", ev.get(Field::Helo));
    }

    fn reception(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        self.message(ev, buf);
        self.session(ev, buf);
        self.string(buf, b",\"note\":\"", ev.get(Field::Note));
    }

    fn outbound(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        self.message(ev, buf);
        buf.extend_from_slice(b",\"retries\":");
        push_u64(buf, u64::from(ev.retries));
        if ev.has(flags::HAS_RECEIVED) {
            buf.extend_from_slice(b",\"queue_time\":");
            push_seconds(buf, ev.time.micros_since(ev.received));
        }
        self.string(buf, b",\"domain\":\"", ev.get(Field::DomainName));
        self.string(buf, b",\"mx\":\"", ev.get(Field::MxHost));
        self.string(buf, b",\"mx_ip\":\"", ev.get(Field::MxIp));
        let note = ev.get(Field::Note);
        self.string(buf, b",\"response\":\"", note);
        self.codes(buf, note, None);
    }

    /// `code` and `dsn` of a reply text; `fallback` is the code when the text has none.
    fn codes(&mut self, buf: &mut Vec<u8>, text: &[u8], fallback: Option<u16>) {
        let (code, dsn) = codes(text);
        if let Some(c) = code.or(fallback) {
            buf.extend_from_slice(b",\"code\":");
            push_u64(buf, u64::from(c));
        }
        if let Some(d) = dsn {
            self.string(buf, b",\"dsn\":\"", d);
        }
    }

    fn rejection(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        let conn = ev.get(Field::AcceptConnId);
        let conn = if conn.is_empty() {
            ev.get(Field::ConnId)
        } else {
            conn
        };
        self.string(buf, b",\"conn_id\":\"", conn);
        self.session(ev, buf);
        buf.extend_from_slice(b",\"phase\":");
        push_i64(buf, i64::from(ev.phase));
        buf.extend_from_slice(b",\"phase_text\":\"");
        buf.extend_from_slice(phase_text(ev.phase).as_bytes());
        buf.push(b'"');
        self.string(buf, b",\"sender\":\"", ev.get(Field::VMailFrom));
        self.string(buf, b",\"rcpt\":\"", ev.get(Field::VRcptTo));
        self.string(buf, b",\"module\":\"", ev.get(Field::VModule));
        self.string(buf, b",\"pathway\":\"", ev.get(Field::VPathway));
        self.string(buf, b",\"pathway_group\":\"", ev.get(Field::VPathwayGroup));
        self.string(buf, b",\"ctx_conn\":\"", ev.get(Field::VCtxConn));
        self.string(buf, b",\"ctx_mess\":\"", ev.get(Field::VCtxMess));
        let text = strip_one_newline(ev.get(Field::Note));
        self.string(buf, b",\"text\":\"", text);
        let fallback = u16::try_from(ev.code).ok().filter(|&c| c > 0);
        self.codes(buf, text, fallback);
    }

    fn error(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        let text = strip_one_newline(ev.get(Field::Note));
        let (level, text, _) = split_severity(text, self.default_level);
        buf.extend_from_slice(b",\"level\":\"");
        buf.extend_from_slice(level.name().as_bytes());
        buf.push(b'"');
        self.string(buf, b",\"text\":\"", text);
    }

    fn acct(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        buf.extend_from_slice(b",\"auth\":\"");
        buf.extend_from_slice(auth_word(ev.code).as_bytes());
        buf.push(b'"');
        self.string(buf, b",\"listener\":\"", ev.get(Field::AcctListener));
        self.string(buf, b",\"peer\":\"", ev.get(Field::AcctPeer));
        self.string(buf, b",\"user\":\"", ev.get(Field::AcctUser));
        buf.extend_from_slice(b",\"result\":");
        push_i64(buf, i64::from(ev.phase));
        self.string(buf, b",\"command\":\"", ev.get(Field::AcctCommand));
        self.string(buf, b",\"role\":\"", ev.get(Field::AcctRole));
    }

    fn import(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        self.string(buf, b",\"id\":\"", ev.get(Field::MsgId));
        self.string(buf, b",\"new_id\":\"", ev.get(Field::ImportNewId));
        buf.extend_from_slice(b",\"result\":");
        push_i64(buf, i64::from(ev.phase));
        self.string(buf, b",\"spool_dir\":\"", ev.get(Field::ImportDir));
    }
}

impl Formatter for Json {
    fn format(&mut self, ev: &Event, out: &mut Out) {
        let target = if ev.kind == Kind::Error {
            self.errors
        } else {
            Target::Main
        };
        self.record(ev, out.buf(target));
    }

    fn take_replaced(&mut self) -> u64 {
        std::mem::take(&mut self.replaced)
    }
}
