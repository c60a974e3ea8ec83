//! The json_logger formatter: one event to one JSON object on one line, written by hand
//! (no serializer: the writer formats millions of lines a second and allocates nothing
//! per line), keys in the order of the schema (`docs/json-logger.md`).

use crate::event::{Event, Field, Kind, Timestamp, copy_short, flags};
use crate::format::ec::phase_text;
use crate::format::text::{enhanced_code, reply_code, strip_one_newline, u64_digits};
use crate::format::{Formatter, Level, Out, Target, civil, split_severity};

/// The first second a record's `time` can show (0000-01-01T00:00:00Z); earlier times are
/// written as this one.
const MIN_SEC: i64 = -62_167_219_200;
/// The last second a record's `time` can show (9999-12-31T23:59:59Z).
const MAX_SEC: i64 = 253_402_300_799;

/// json_logger formatter.
#[derive(Clone)]
pub struct Json {
    records: Records,
    /// Where a record of bounded size is built (see [`SCRATCH`]).
    scratch: Box<[u8; SCRATCH]>,
}

impl std::fmt::Debug for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Json")
            .field("seq", &self.records.seq)
            .finish_non_exhaustive()
    }
}

/// Bytes of the scratch array a record is built in when it surely fits: there every piece
/// is copied with fixed-size moves instead of a call to `memcpy`, and the record goes to
/// the output buffer in one copy. A longer record is written to the buffer directly.
const SCRATCH: usize = 4096;

/// Bytes of a record besides its text values and the logger's own head: the longest
/// type's keys, numbers, time and type.
const FIXED: usize = 768;

/// Where a record's bytes go: the output buffer, or the scratch array.
trait Sink {
    /// Appends bytes.
    fn put(&mut self, b: &[u8]);
    /// Appends one byte.
    fn byte(&mut self, b: u8);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// A record being built in the scratch array (its bound was checked first).
struct Scratch<'a> {
    buf: &'a mut [u8; SCRATCH],
    len: usize,
}

impl Sink for Scratch<'_> {
    #[inline(always)]
    fn put(&mut self, b: &[u8]) {
        let end = self.len + b.len();
        let dst = &mut self.buf[self.len..end];
        let n = b.len();
        if n > 32 && n <= 64 {
            // Two overlapping 32-byte moves: most values of a record are this short.
            dst[..32].copy_from_slice(&b[..32]);
            dst[n - 32..].copy_from_slice(&b[n - 32..]);
        } else {
            copy_short(dst, b);
        }
        self.len = end;
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }
}

/// The state the records are made from.
#[derive(Clone, Debug)]
struct Records {
    /// `","logger":"NAME","host":"HOST","pid":PID,"seq":`
    head: Vec<u8>,
    /// `,"event_id":"` and the boot id's 16 hex digits.
    event_id: Vec<u8>,
    /// The `seq` of the last record written.
    seq: u64,
    /// The next `seq` (`seq + 1`) as text.
    next: SeqText,
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

/// Is `b` a byte a JSON string cannot hold as it is, or one that starts a check for UTF-8?
#[inline(always)]
fn special(b: u8) -> bool {
    !(0x20..0x7f).contains(&b) | (b == b'"') | (b == b'\\')
}

/// Has the block any [`special`] byte? (Compiled to vector compares.)
#[inline(always)]
fn block_special(b: &[u8; 16]) -> bool {
    b.iter().fold(false, |bad, &c| bad | special(c))
}

/// Is `bytes` printable ASCII without `"` and `\`? Sixteen bytes at a time (the last,
/// partial block as the overlapping final sixteen bytes), or one or two words for shorter
/// values.
#[inline(always)]
fn is_plain(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n >= 16 {
        let block = |i: usize| -> &[u8; 16] { bytes[i..i + 16].try_into().expect("16 bytes") };
        let mut i = 0;
        while i + 16 < n {
            if block_special(block(i)) {
                return false;
            }
            i += 16;
        }
        return !block_special(block(n - 16));
    }
    if n >= 8 {
        let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        return plain_word(word(0)) && plain_word(word(n - 8));
    }
    !bytes.iter().any(|&b| special(b))
}

/// Appends `bytes` as the inside of a JSON string (without the quotes) by the rule of the
/// module doc; returns how many sequences that were not UTF-8 became U+FFFD.
pub fn push_string(buf: &mut Vec<u8>, bytes: &[u8]) -> u64 {
    put_string(buf, bytes)
}

#[inline(always)]
fn put_string<S: Sink>(buf: &mut S, bytes: &[u8]) -> u64 {
    if is_plain(bytes) {
        buf.put(bytes);
        0
    } else {
        put_string_slow(buf, bytes)
    }
}

#[cold]
#[inline(never)]
fn put_string_slow<S: Sink>(buf: &mut S, bytes: &[u8]) -> u64 {
    let mut replaced = 0;
    for chunk in bytes.utf8_chunks() {
        put_utf8(buf, chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            buf.put("\u{fffd}".as_bytes());
            replaced += 1;
        }
    }
    replaced
}

/// Appends valid UTF-8, escaped.
fn put_utf8<S: Sink>(buf: &mut S, b: &[u8]) {
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
        buf.put(&b[start..i]);
        if short.is_empty() {
            buf.put(b"\\u");
            for shift in [12, 8, 4, 0] {
                buf.byte(HEX[(code >> shift) as usize & 15]);
            }
        } else {
            buf.put(short);
        }
        i += len;
        start = i;
    }
    buf.put(&b[start..]);
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

/// A counter as its decimal and its 16-hex-digit text, incremented in place (an
/// odometer): every record's `seq` without a division.
#[derive(Clone, Debug)]
struct SeqText {
    /// Decimal digits, right-aligned; `dec[start..]` is the number.
    dec: [u8; 20],
    start: usize,
    /// 16 lower-case hex digits.
    hex: [u8; 16],
}

impl SeqText {
    fn one() -> SeqText {
        let mut t = SeqText {
            dec: [b'0'; 20],
            start: 19,
            hex: [b'0'; 16],
        };
        t.increment();
        t
    }

    fn decimal(&self) -> &[u8] {
        &self.dec[self.start..]
    }

    fn increment(&mut self) {
        for i in (0..20).rev() {
            if self.dec[i] != b'9' {
                self.dec[i] += 1;
                self.start = self.start.min(i);
                break;
            }
            self.dec[i] = b'0';
        }
        for d in self.hex.iter_mut().rev() {
            match *d {
                b'9' => {
                    *d = b'a';
                    break;
                }
                b'f' => *d = b'0',
                c => {
                    *d = c + 1;
                    break;
                }
            }
        }
    }
}

/// Appends a duration in microseconds as seconds with up to six decimals, trailing zeros
/// dropped but always one decimal (`144.0`, `0.5`, `12.000001`): a JSON number that every
/// consumer reads as a floating-point one.
pub fn push_seconds(buf: &mut Vec<u8>, micros: u64) {
    put_seconds(buf, micros);
}

fn put_seconds<S: Sink>(buf: &mut S, micros: u64) {
    put_u64(buf, micros / 1_000_000);
    let mut frac = *b".000000";
    let mut v = micros % 1_000_000;
    for d in frac[1..].iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let mut end = frac.len();
    while end > 2 && frac[end - 1] == b'0' {
        end -= 1;
    }
    buf.put(&frac[..end]);
}

/// Appends the decimal form of `n`.
#[inline]
fn put_u64<S: Sink>(buf: &mut S, n: u64) {
    let (digits, start) = u64_digits(n);
    buf.put(&digits[start..]);
}

/// Appends the decimal form of `n` (with `-` when negative).
fn put_i64<S: Sink>(buf: &mut S, n: i64) {
    if n < 0 {
        buf.byte(b'-');
    }
    put_u64(buf, n.unsigned_abs());
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
        put_u64(&mut head, u64::from(pid));
        head.extend_from_slice(b",\"seq\":");
        let mut event_id = b",\"event_id\":\"".to_vec();
        push_hex16(&mut event_id, boot);
        Json {
            records: Records {
                head,
                event_id,
                seq: 0,
                next: SeqText::one(),
                errors,
                default_level,
                replaced: 0,
                stamp_sec: None,
                stamp: [0; 19],
            },
            scratch: Box::new([0; SCRATCH]),
        }
    }

    /// The `seq` of the last record written (0 before the first).
    pub fn seq(&self) -> u64 {
        self.records.seq
    }

    /// Appends one record of `ev` to `buf`.
    pub fn record(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        let r = &mut self.records;
        let bound = FIXED + r.head.len() + r.event_id.len() + 6 * ev.text_len();
        if bound <= SCRATCH {
            let mut s = Scratch {
                buf: &mut self.scratch,
                len: 0,
            };
            r.write(ev, &mut s);
            buf.extend_from_slice(&s.buf[..s.len]);
        } else {
            r.write(ev, buf);
        }
        // Counted once the record is whole: a record that could not be formatted is
        // taken back by the writer and leaves no gap.
        r.seq += 1;
        r.next.increment();
    }
}

impl Records {
    /// Appends `time`: RFC 3339, UTC, microseconds.
    fn push_time<S: Sink>(&mut self, buf: &mut S, t: Timestamp) {
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
        buf.put(&self.stamp);
        let mut frac = *b".000000Z";
        let mut v = usec;
        for d in frac[1..7].iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        buf.put(&frac);
    }

    /// `,"KEY":"VALUE"` (`key` is `,"KEY":"`), absent when `v` is empty.
    #[inline(always)]
    fn string<S: Sink>(&mut self, buf: &mut S, key: &[u8], v: &[u8]) {
        if v.is_empty() {
            return;
        }
        buf.put(key);
        self.replaced += put_string(buf, v);
        buf.byte(b'"');
    }

    /// Writes one record of `ev` (`seq` is counted by the caller).
    fn write<S: Sink>(&mut self, ev: &Event, buf: &mut S) {
        buf.put(b"{\"v\":1,\"time\":\"");
        self.push_time(buf, ev.time);
        buf.put(b"\",\"type\":\"");
        buf.put(type_name(ev).as_bytes());
        buf.put(&self.head);
        buf.put(self.next.decimal());
        buf.put(&self.event_id);
        buf.put(&self.next.hex);
        buf.byte(b'"');
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
        buf.put(b"}\n");
    }

    /// `id` .. `binding_group`: what every message record starts with.
    fn message<S: Sink>(&mut self, ev: &Event, buf: &mut S) {
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
        buf.put(b",\"size\":");
        put_u64(buf, ev.size);
        self.string(buf, b",\"binding\":\"", ev.get(Field::Binding));
        self.string(buf, b",\"binding_group\":\"", ev.get(Field::BindingGroup));
    }

    /// `protocol` .. `helo`: the session of a reception or rejection.
    fn session<S: Sink>(&mut self, ev: &Event, buf: &mut S) {
        self.string(buf, b",\"protocol\":\"", ev.get(Field::Protocol));
        self.string(buf, b",\"peer_ip\":\"", ev.get(Field::PeerIp));
        if ev.peer_port != 0 {
            buf.put(b",\"peer_port\":");
            put_u64(buf, u64::from(ev.peer_port));
        }
        self.string(buf, b",\"local_ip\":\"", ev.get(Field::LocalIp));
        if ev.local_port != 0 {
            buf.put(b",\"local_port\":");
            put_u64(buf, u64::from(ev.local_port));
        }
        self.string(buf, b",\"helo\":\"", ev.get(Field::Helo));
    }

    fn reception<S: Sink>(&mut self, ev: &Event, buf: &mut S) {
        self.message(ev, buf);
        self.session(ev, buf);
        self.string(buf, b",\"note\":\"", ev.get(Field::Note));
    }

    fn outbound<S: Sink>(&mut self, ev: &Event, buf: &mut S) {
        self.message(ev, buf);
        buf.put(b",\"retries\":");
        put_u64(buf, u64::from(ev.retries));
        if ev.has(flags::HAS_RECEIVED) {
            buf.put(b",\"queue_time\":");
            put_seconds(buf, ev.time.micros_since(ev.received));
        }
        self.string(buf, b",\"domain\":\"", ev.get(Field::DomainName));
        self.string(buf, b",\"mx\":\"", ev.get(Field::MxHost));
        self.string(buf, b",\"mx_ip\":\"", ev.get(Field::MxIp));
        let note = ev.get(Field::Note);
        self.string(buf, b",\"response\":\"", note);
        self.codes(buf, note, None);
    }

    /// `code` and `dsn` of a reply text; `fallback` is the code when the text has none.
    fn codes<S: Sink>(&mut self, buf: &mut S, text: &[u8], fallback: Option<u16>) {
        let (code, dsn) = codes(text);
        if let Some(c) = code.or(fallback) {
            buf.put(b",\"code\":");
            put_u64(buf, u64::from(c));
        }
        if let Some(d) = dsn {
            self.string(buf, b",\"dsn\":\"", d);
        }
    }

    fn rejection<S: Sink>(&mut self, ev: &Event, buf: &mut S) {
        let conn = ev.get(Field::AcceptConnId);
        let conn = if conn.is_empty() {
            ev.get(Field::ConnId)
        } else {
            conn
        };
        self.string(buf, b",\"conn_id\":\"", conn);
        self.session(ev, buf);
        buf.put(b",\"phase\":");
        put_i64(buf, i64::from(ev.phase));
        buf.put(b",\"phase_text\":\"");
        buf.put(phase_text(ev.phase).as_bytes());
        buf.byte(b'"');
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

    fn error<S: Sink>(&mut self, ev: &Event, buf: &mut S) {
        let text = strip_one_newline(ev.get(Field::Note));
        let (level, text, _) = split_severity(text, self.default_level);
        buf.put(b",\"level\":\"");
        buf.put(level.name().as_bytes());
        buf.byte(b'"');
        self.string(buf, b",\"text\":\"", text);
    }

    fn acct<S: Sink>(&mut self, ev: &Event, buf: &mut S) {
        buf.put(b",\"auth\":\"");
        buf.put(auth_word(ev.code).as_bytes());
        buf.byte(b'"');
        self.string(buf, b",\"listener\":\"", ev.get(Field::AcctListener));
        self.string(buf, b",\"peer\":\"", ev.get(Field::AcctPeer));
        self.string(buf, b",\"user\":\"", ev.get(Field::AcctUser));
        buf.put(b",\"result\":");
        put_i64(buf, i64::from(ev.phase));
        self.string(buf, b",\"command\":\"", ev.get(Field::AcctCommand));
        self.string(buf, b",\"role\":\"", ev.get(Field::AcctRole));
    }

    fn import<S: Sink>(&mut self, ev: &Event, buf: &mut S) {
        self.string(buf, b",\"id\":\"", ev.get(Field::MsgId));
        self.string(buf, b",\"new_id\":\"", ev.get(Field::ImportNewId));
        buf.put(b",\"result\":");
        put_i64(buf, i64::from(ev.phase));
        self.string(buf, b",\"spool_dir\":\"", ev.get(Field::ImportDir));
    }
}

impl Formatter for Json {
    fn format(&mut self, ev: &Event, out: &mut Out) {
        let target = if ev.kind == Kind::Error {
            self.records.errors
        } else {
            Target::Main
        };
        self.record(ev, out.buf(target));
    }

    fn take_replaced(&mut self) -> u64 {
        std::mem::take(&mut self.records.replaced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FIELD_COUNT, build};

    /// Records right at the bound of the scratch array, of bytes that take the most room
    /// (`\u0001`: six bytes each), of every type and with the longest numbers, fit it.
    #[test]
    fn the_scratch_bound_holds_for_the_widest_records() {
        let logger = "l".repeat(40);
        for kind in Kind::ALL {
            let mut f = Json::new(
                &logger,
                "h.example",
                u32::MAX,
                1,
                Target::Main,
                Level::Error,
            );
            let r = &f.records;
            let room = (SCRATCH - FIXED - r.head.len() - r.event_id.len()) / 6;
            let per = room / FIELD_COUNT;
            let v = vec![1u8; per];
            let mut ev = build(kind, Field::ALL.iter().map(|&f| (f, &v[..])).collect());
            ev.time = Timestamp::new(i64::MAX, 0);
            ev.received = Timestamp::new(i64::MIN, 0);
            ev.flags = u8::MAX;
            (ev.size, ev.retries, ev.phase, ev.code) = (u64::MAX, u32::MAX, i32::MIN, 999);
            (ev.peer_port, ev.local_port) = (u16::MAX, u16::MAX);
            for _ in 0..3 {
                f.records.next.dec = *b"99999999999999999999";
                f.records.next.start = 0;
                let mut out = Vec::new();
                f.record(&ev, &mut out);
                assert!(out.len() <= SCRATCH, "{kind:?}: {}", out.len());
                assert!(out.ends_with(b"}\n"));
            }
        }
    }

    #[test]
    fn the_seq_odometer_counts_like_format() {
        let mut t = super::SeqText::one();
        for n in 1..=70_000u64 {
            assert_eq!(t.decimal(), n.to_string().as_bytes());
            assert_eq!(t.hex, *format!("{n:016x}").as_bytes());
            t.increment();
        }
    }
}
