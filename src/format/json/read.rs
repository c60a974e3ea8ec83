//! Reading json_logger lines back into events.
//!
//! A line is one flat JSON object (whitespace between tokens is allowed, as a shipper that
//! re-serializes records may add it). Keys the schema does not have are ignored, so a
//! reader of version 1 reads records that gained keys; a known key with a value of the
//! wrong type, a missing `v`, `time` or `type`, another schema version, nested values and
//! anything that is not JSON are errors. `auth` and `import` records are checked and make
//! no record (as ec_logger's acctlog and importlog lines).

use super::SCHEMA_VERSION;
use crate::event::{Event, Field, Kind, Timestamp, build, flags};
use crate::format::bounce::{BounceClass, Category};
use crate::format::read::{Ids, Rec, lossy, set_received};
use crate::format::text::{num, utc_epoch};

/// One value of a record.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// A string, unescaped (its bytes as the writer was given them, U+FFFD for what was
    /// not UTF-8).
    Str(Vec<u8>),
    /// A number, as written (checked against JSON's grammar).
    Num(&'a [u8]),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// The keys and values of one flat JSON object, in the order of the line.
pub type Object<'a> = Vec<(Vec<u8>, Value<'a>)>;

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected '{}' at byte {}",
                c as char,
                self.i.min(self.s.len())
            ))
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("bad \\u escape at byte {}", self.i))?;
        self.i += 4;
        Ok(h)
    }

    /// A string; the cursor is on its opening quote.
    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let start = self.i;
            while let Some(&b) = self.s.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.extend_from_slice(&self.s[start..self.i]);
            match self.peek() {
                None => return Err("unterminated string".into()),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let e = self.peek().ok_or("unterminated string")?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut c = self.hex4()?;
                            if (0xd800..0xdc00).contains(&c)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                let back = self.i;
                                self.i += 2;
                                let low = self.hex4()?;
                                if (0xdc00..0xe000).contains(&low) {
                                    c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
                                } else {
                                    self.i = back;
                                }
                            }
                            let ch = char::from_u32(c).unwrap_or('\u{fffd}');
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        _ => return Err(format!("unknown escape \\{}", e as char)),
                    }
                }
                Some(c) => return Err(format!("control byte 0x{c:02x} inside a string")),
            }
        }
    }

    /// A number (JSON's grammar), as written.
    fn number(&mut self) -> Result<&'a [u8], String> {
        let s = self.s;
        let start = self.i;
        let digits = |c: &mut Cursor<'_>| {
            let from = c.i;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.i += 1;
            }
            c.i - from
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        let n = digits(self);
        if n == 0 || (n > 1 && s[int_start] == b'0') {
            return Err(format!("bad number at byte {start}"));
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(format!("bad number at byte {start}"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(format!("bad number at byte {start}"));
            }
        }
        Ok(&s[start..self.i])
    }

    fn word(&mut self, w: &[u8]) -> bool {
        if self.s[self.i..].starts_with(w) {
            self.i += w.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value<'a>, String> {
        self.ws();
        match self.peek() {
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => Ok(Value::Num(self.number()?)),
            Some(b't') if self.word(b"true") => Ok(Value::Bool(true)),
            Some(b'f') if self.word(b"false") => Ok(Value::Bool(false)),
            Some(b'n') if self.word(b"null") => Ok(Value::Null),
            Some(b'{' | b'[') => Err("nested objects and arrays are not in the schema".into()),
            _ => Err(format!("expected a value at byte {}", self.i)),
        }
    }
}

/// Parses one flat JSON object (a whole line).
pub fn parse_object(line: &[u8]) -> Result<Object<'_>, String> {
    let mut c = Cursor { s: line, i: 0 };
    c.expect(b'{')?;
    let mut out = Vec::new();
    c.ws();
    if c.peek() == Some(b'}') {
        c.i += 1;
    } else {
        loop {
            c.ws();
            let k = c.string()?;
            c.expect(b':')?;
            let v = c.value()?;
            out.push((k, v));
            c.ws();
            match c.peek() {
                Some(b',') => c.i += 1,
                Some(b'}') => {
                    c.i += 1;
                    break;
                }
                _ => return Err(format!("expected ',' or '}}' at byte {}", c.i)),
            }
        }
    }
    c.ws();
    if c.i != line.len() {
        return Err(format!("text after the object at byte {}", c.i));
    }
    Ok(out)
}

/// Parses a `time` value: RFC 3339 (`2026-12-07T05:40:01.123456Z`; any offset, up to
/// microseconds kept).
pub fn parse_time(s: &[u8]) -> Option<Timestamp> {
    if s.len() < 20 {
        return None;
    }
    let n = |a: usize, b: usize| num(&s[a..b]);
    let seps = s[4] == b'-'
        && s[7] == b'-'
        && matches!(s[10], b'T' | b't' | b' ')
        && s[13] == b':'
        && s[16] == b':';
    if !seps {
        return None;
    }
    let (y, mo, d) = (n(0, 4)?, n(5, 7)? as u32, n(8, 10)? as u32);
    let (h, mi, sec) = (n(11, 13)? as u32, n(14, 16)? as u32, n(17, 19)? as u32);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut usec = 0u32;
    if let [b'.', tail @ ..] = rest {
        let k = tail.iter().take_while(|b| b.is_ascii_digit()).count();
        if k == 0 {
            return None;
        }
        let mut scale = 100_000;
        for &dgt in &tail[..k.min(6)] {
            usec += u32::from(dgt - b'0') * scale;
            scale /= 10;
        }
        rest = &tail[k..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), a, b, b':', c, d] => {
            let hh = num(&[*a, *b])? as i64;
            let mm = num(&[*c, *d])? as i64;
            let o = hh * 3600 + mm * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let epoch = utc_epoch(y as i64, mo, d, h, mi, sec) - offset;
    Some(Timestamp::new(epoch, i64::from(usec)))
}

/// A record's values, by key.
struct Record<'o, 'a> {
    obj: &'o Object<'a>,
}

impl Record<'_, '_> {
    fn get(&self, key: &str) -> Option<&Value<'_>> {
        self.obj
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// A string value (empty when absent).
    fn str(&self, key: &str) -> Result<&[u8], String> {
        match self.get(key) {
            None => Ok(b""),
            Some(Value::Str(s)) => Ok(s),
            Some(_) => Err(format!("\"{key}\" is not a string")),
        }
    }

    /// A non-negative whole number (`None` when absent).
    fn uint(&self, key: &str) -> Result<Option<u64>, String> {
        self.whole(key)
    }

    /// A whole number (`None` when absent).
    fn int(&self, key: &str) -> Result<Option<i64>, String> {
        self.whole(key)
    }

    /// A whole number of type `T` (`None` when absent): one that `T` cannot hold is an
    /// error, as a fraction is.
    fn whole<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Num(n)) => std::str::from_utf8(n)
                .ok()
                .and_then(|n| n.parse().ok())
                .map(Some)
                .ok_or_else(|| format!("\"{key}\" is not a whole number: {}", lossy(n))),
            Some(_) => Err(format!("\"{key}\" is not a number")),
        }
    }

    /// A number of seconds with up to six decimals, as microseconds (`None` when absent).
    fn seconds(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Num(n)) => crate::format::read::secs_2dp(n)
                .map(Some)
                .ok_or_else(|| format!("\"{key}\" is not a number of seconds: {}", lossy(n))),
            Some(_) => Err(format!("\"{key}\" is not a number")),
        }
    }
}

/// The text fields of message records, by key.
const MESSAGE: [(&str, Field); 7] = [
    ("id", Field::MsgId),
    ("batch_id", Field::BatchId),
    ("conn_id", Field::ConnId),
    ("sender", Field::MailFrom),
    ("rcpt", Field::RcptTo),
    ("binding", Field::Binding),
    ("binding_group", Field::BindingGroup),
];

/// The text fields of a session (receptions and rejections), by key.
const SESSION: [(&str, Field); 4] = [
    ("protocol", Field::Protocol),
    ("peer_ip", Field::PeerIp),
    ("local_ip", Field::LocalIp),
    ("helo", Field::Helo),
];

/// The text fields of rejections besides the session's, by key.
const REJECTION: [(&str, Field); 9] = [
    ("conn_id", Field::AcceptConnId),
    ("sender", Field::VMailFrom),
    ("rcpt", Field::VRcptTo),
    ("module", Field::VModule),
    ("pathway", Field::VPathway),
    ("pathway_group", Field::VPathwayGroup),
    ("ctx_conn", Field::VCtxConn),
    ("ctx_mess", Field::VCtxMess),
    ("text", Field::Note),
];

fn port(r: &Record<'_, '_>, key: &str) -> Result<u16, String> {
    match r.uint(key)? {
        None => Ok(0),
        Some(p) => u16::try_from(p).map_err(|_| format!("\"{key}\" {p} is not a port")),
    }
}

/// Is `proto` an ESMTP protocol name (`esmtp`, `esmtps`, `esmtpa`, ...)?
fn is_esmtp(proto: &[u8]) -> bool {
    proto.len() >= 5 && proto[..5].eq_ignore_ascii_case(b"esmtp")
}

/// Parses one json_logger line into the records it makes (none for `auth` and `import`).
pub fn line(line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
    let obj = parse_object(line)?;
    let r = Record { obj: &obj };
    match r.uint("v")? {
        Some(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "schema version {v}, this reader knows {SCHEMA_VERSION}"
            ));
        }
        None => return Err("no \"v\" (schema version)".into()),
    }
    let time = match r.get("time") {
        Some(Value::Str(t)) => {
            parse_time(t).ok_or_else(|| format!("\"time\" {} is not RFC 3339", lossy(t)))?
        }
        _ => return Err("no \"time\"".into()),
    };
    let ty = r.str("type")?;
    let mut texts: Vec<(Field, &[u8])> = Vec::new();
    let mut source = String::new();
    let kind = match ty {
        b"reception" => Kind::Reception,
        b"delivery" | b"transfer" => Kind::Delivery,
        b"attempt" => Kind::Attempt,
        b"transient_failure" => Kind::TransientFailure,
        b"permanent_failure" => Kind::PermanentFailure,
        b"rejection" => Kind::Rejection,
        b"error" => Kind::Error,
        b"auth" => {
            r.str("auth")?;
            r.int("result")?
                .ok_or("an auth record without \"result\"")?;
            return Ok(());
        }
        b"import" => {
            r.str("id")?;
            r.int("result")?
                .ok_or("an import record without \"result\"")?;
            return Ok(());
        }
        b"" => return Err("no \"type\"".into()),
        other => return Err(format!("unknown record type \"{}\"", lossy(other))),
    };
    let error_text;
    match kind {
        Kind::Rejection => {
            for (k, f) in SESSION.iter().chain(&REJECTION) {
                texts.push((*f, r.str(k)?));
            }
        }
        Kind::Error => {
            let level = r.str("level")?;
            let text = r.str("text")?;
            error_text = if level.is_empty() {
                text.to_vec()
            } else {
                [level, b": ", text].concat()
            };
            texts.push((Field::Note, &error_text));
            source = lossy(r.str("logger")?);
        }
        _ => {
            for (k, f) in &MESSAGE {
                texts.push((*f, r.str(k)?));
            }
            if kind == Kind::Reception {
                for (k, f) in &SESSION {
                    texts.push((*f, r.str(k)?));
                }
                texts.push((Field::Note, r.str("note")?));
            } else {
                texts.push((Field::DomainName, r.str("domain")?));
                texts.push((Field::MxHost, r.str("mx")?));
                texts.push((Field::MxIp, r.str("mx_ip")?));
                texts.push((Field::Note, r.str("response")?));
            }
        }
    }
    texts.retain(|(_, v)| !v.is_empty());
    let mut ev: Event = build(kind, texts);
    ev.time = time;
    match kind {
        Kind::Reception | Kind::Rejection => {
            ev.flags |= flags::HAS_ACCEPT;
            if is_esmtp(ev.get(Field::Protocol)) {
                ev.flags |= flags::ESMTP;
            }
            ev.peer_port = port(&r, "peer_port")?;
            ev.local_port = port(&r, "local_port")?;
            if kind == Kind::Reception {
                ev.size = r.uint("size")?.unwrap_or(0);
                ev.received = time;
                ev.flags |= flags::HAS_RECEIVED;
            } else {
                let phase = r.int("phase")?.ok_or("a rejection without \"phase\"")?;
                ev.phase = i32::try_from(phase).map_err(|_| "\"phase\" is out of range")?;
                ev.code = r.uint("code")?.map_or(0, |c| c.min(999) as i32);
            }
        }
        Kind::Error => {}
        _ => {
            ev.size = r.uint("size")?.unwrap_or(0);
            if kind == Kind::Delivery {
                ev.bytes_sent = ev.size;
            }
            ev.retries = r.uint("retries")?.unwrap_or(0).min(u64::from(u32::MAX)) as u32;
            if ty == b"transfer" {
                ev.flags |= flags::TRANSFER;
            }
            if let Some(q) = r.seconds("queue_time")? {
                set_received(&mut ev, q);
            }
            if matches!(kind, Kind::TransientFailure | Kind::PermanentFailure) {
                ev.class = class_of(&r)?.map_or(0, BounceClass::code);
            }
        }
    }
    if r.get("note").is_some() || r.get("response").is_some() {
        ev.flags |= flags::HAS_NOTE;
    }
    out.push(Rec { ev, source });
    Ok(())
}

/// A failure's `bounce_class`, when there, checked with its `bounce_category`: one of
/// Momentum's class codes, and its category. It becomes the event's recorded class
/// ([`Event::class`]): a record converted from a Momentum bouncelog keeps the class
/// Momentum gave it.
fn class_of(r: &Record<'_, '_>) -> Result<Option<BounceClass>, String> {
    let class = match r.uint("bounce_class")? {
        None => None,
        Some(c) => Some(
            u8::try_from(c)
                .ok()
                .and_then(BounceClass::from_code)
                .ok_or_else(|| format!("\"bounce_class\" {c} is not one of Momentum's"))?,
        ),
    };
    let category = r.str("bounce_category")?;
    if category.is_empty() {
        return Ok(class);
    }
    match class {
        Some(c) if c.category().name().as_bytes() == category => Ok(class),
        Some(c) => Err(format!(
            "\"bounce_category\" \"{}\" is not the category of class {} ({})",
            lossy(category),
            c.code(),
            c.category().name()
        )),
        None if [
            Category::Hard,
            Category::Soft,
            Category::Block,
            Category::Admin,
            Category::Undetermined,
        ]
        .iter()
        .any(|k| k.name().as_bytes() == category) =>
        {
            Ok(None)
        }
        None => Err(format!(
            "\"bounce_category\" \"{}\" is not one of Momentum's",
            lossy(category)
        )),
    }
}

/// The ids a line carries (for `trace`): `id`, `batch_id`, `conn_id`, `new_id`.
pub fn ids(line: &[u8]) -> Ids {
    let mut ids = Ids::default();
    if let Ok(obj) = parse_object(line) {
        for (k, v) in obj {
            if let (b"id" | b"batch_id" | b"conn_id" | b"new_id", Value::Str(s)) = (&k[..], v) {
                if !s.is_empty() && !ids.ids.contains(&s) {
                    ids.ids.push(s);
                }
            }
        }
    }
    ids
}

/// The `time` of a line.
pub fn time(line: &[u8]) -> Option<Timestamp> {
    let obj = parse_object(line).ok()?;
    obj.iter().find_map(|(k, v)| match (&k[..], v) {
        (b"time", Value::Str(t)) => parse_time(t),
        _ => None,
    })
}
