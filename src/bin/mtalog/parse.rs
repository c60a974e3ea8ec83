//! Reading the three formats back: recognising a line by its content and turning it into
//! the crate's [`Event`] (what the library would have been given to write that line).
//!
//! Every line is recognised on its own by how it starts, so a file (or standard input)
//! may hold lines of several files of one family:
//!
//! | start of the line | kind |
//! | --- | --- |
//! | `DIGITS@` | ec_logger mainlog (or acctlog / importlog) |
//! | `DIGITS: R="` / `DIGITS: Marker` | ec_logger rejectlog |
//! | `DIGITS:` | ec_logger paniclog |
//! | `Mmm dd hh:mm:ss HOST ` / `YYYY-MM-DDThh:mm:ss` | Postfix syslog line |
//! | `DD-Mon-YYYY hh:mm:ss.cc ` | Sun mail.log / connection.log |
//! | `[DD/Mon/YYYY:hh:mm:ss ±zzzz] ` | Sun service log |
//!
//! Some facts are on another line of the same message: an ec `D` line has no recipient
//! (it is on the `R` line of the same message id), a Postfix delivery line has no sender
//! or size (they are on the `qmgr` line of the same queue ID). The [`Parser`] remembers
//! them per message and forgets them when the message ends, so its memory follows the
//! number of messages in flight, not the size of the input.

use mtalog::event::{Event, Field, Kind, Timestamp, build, flags};
use mtalog::format::ec::PHASES;
use mtalog::format::imta::{self, Entry, ImtaOptions};
use mtalog::format::{FormatContext, Level};

use crate::fast::{Map, find, rfind};
use crate::time::{local_epoch, month, num};

/// The kind of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// ec_logger mainlog.
    EcMain,
    /// ec_logger rejectlog.
    EcReject,
    /// ec_logger paniclog.
    EcPanic,
    /// ec_logger acctlog.
    EcAcct,
    /// ec_logger importlog.
    EcImport,
    /// Postfix syslog line (mainlog or paniclog).
    Postfix,
    /// Sun `mail.log_current` / `connection.log_current`.
    ImtaMail,
    /// Sun service log.
    ImtaService,
}

/// The three formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Momentum ec_logger.
    Ec,
    /// Postfix.
    Postfix,
    /// Sun Messaging Server.
    Imta,
}

impl LineKind {
    /// The format family.
    pub fn family(self) -> Family {
        match self {
            LineKind::EcMain
            | LineKind::EcReject
            | LineKind::EcPanic
            | LineKind::EcAcct
            | LineKind::EcImport => Family::Ec,
            LineKind::Postfix => Family::Postfix,
            LineKind::ImtaMail | LineKind::ImtaService => Family::Imta,
        }
    }

    /// A name for messages.
    pub fn name(self) -> &'static str {
        match self {
            LineKind::EcMain => "ec_logger mainlog",
            LineKind::EcReject => "ec_logger rejectlog",
            LineKind::EcPanic => "ec_logger paniclog",
            LineKind::EcAcct => "ec_logger acctlog",
            LineKind::EcImport => "ec_logger importlog",
            LineKind::Postfix => "Postfix log",
            LineKind::ImtaMail => "Sun mail.log",
            LineKind::ImtaService => "Sun service log",
        }
    }
}

fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

/// Recognises a line by how it starts; `None` when it looks like none of the formats.
pub fn detect(line: &[u8]) -> Option<LineKind> {
    let digits = line.iter().take_while(|b| is_digit(**b)).count();
    if digits >= 9 {
        return match line.get(digits) {
            Some(b'@') => {
                let rest = &line[digits + 1..];
                // acctlog: `TS@T@...` with a one-letter type; importlog: `TS@ID@I@`.
                if rest.len() >= 2 && rest[1] == b'@' && b"NTZ?".contains(&rest[0]) {
                    Some(LineKind::EcAcct)
                } else if split_at_unescaped(rest, 3).get(1).map(|f| f.as_slice()) == Some(b"I")
                    && !rest.starts_with(b"@")
                {
                    Some(LineKind::EcImport)
                } else {
                    Some(LineKind::EcMain)
                }
            }
            Some(b':') => {
                let rest = &line[digits + 1..];
                if rest.starts_with(b" R=\"") || rest.starts_with(b" Marker ") {
                    Some(LineKind::EcReject)
                } else {
                    Some(LineKind::EcPanic)
                }
            }
            _ => None,
        };
    }
    if line.len() >= 16
        && month(&line[..3]).is_some()
        && line[3] == b' '
        && (is_digit(line[4]) || line[4] == b' ')
    {
        return Some(LineKind::Postfix);
    }
    if line.len() >= 20 && digits == 4 && line[4] == b'-' && line[10] == b'T' {
        return Some(LineKind::Postfix);
    }
    if line.len() >= 24
        && digits == 2
        && line[2] == b'-'
        && month(&line[3..6]).is_some()
        && line[6] == b'-'
        && line[11] == b' '
    {
        return Some(LineKind::ImtaMail);
    }
    if line.len() >= 28 && line[0] == b'[' && line[3] == b'/' && month(&line[4..7]).is_some() {
        return Some(LineKind::ImtaService);
    }
    None
}

// ---------------------------------------------------------------------------------------
// Records

/// What one line says: an event, and for diagnostics where it came from.
#[derive(Clone, Debug)]
pub struct Rec {
    /// The event (for a Postfix message, `MsgId` is its queue ID; for a Sun message, its
    /// queue file name or Message-ID and recipient).
    pub ev: Event,
    /// Which program or file reported a diagnostic (`Error` events).
    pub source: String,
}

/// The source of a reception known only from its first line.
pub const PARTIAL: &str = "(partial)";

/// The ids a line carries, for `trace`.
#[derive(Default, Debug)]
pub struct Ids {
    /// MTA message ids, batch and connection ids, queue ids, queue file names.
    pub ids: Vec<Vec<u8>>,
    /// Message-ID header (without angle brackets).
    pub message_id: Option<Vec<u8>>,
}

/// Strips one pair of angle brackets.
pub fn bare(a: &[u8]) -> &[u8] {
    match a {
        [b'<', inner @ .., b'>'] => inner,
        _ => a,
    }
}

/// Splits at `@` not preceded by a backslash escape, into at most `max` fields (the last
/// one keeps the rest raw), unescaping every field but the last raw one.
fn split_at_unescaped(s: &[u8], max: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(max.min(16));
    let mut cur = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if out.len() + 1 == max {
            cur.extend_from_slice(&s[i..]);
            break;
        }
        match s[i] {
            b'\\' if i + 1 < s.len() => {
                cur.push(b'\\');
                cur.push(s[i + 1]);
                i += 2;
            }
            b'@' => {
                out.push(std::mem::take(&mut cur));
                i += 1;
            }
            b => {
                cur.push(b);
                i += 1;
            }
        }
    }
    out.push(cur);
    out
}

/// Undoes ec_logger's escapes (`\@`, `\\`, `\n`, `\r`, `\t`, `\xHH`).
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() {
            match s[i + 1] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'x' if i + 3 < s.len() => {
                    let h = std::str::from_utf8(&s[i + 2..i + 4])
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    match h {
                        Some(v) => {
                            out.push(v);
                            i += 4;
                            continue;
                        }
                        None => out.extend_from_slice(&s[i..i + 2]),
                    }
                }
                c => out.push(c),
            }
            i += 2;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

fn ec_time(t: &[u8]) -> Result<Timestamp, String> {
    let n = num(t).ok_or_else(|| "time stamp is not a number".to_owned())?;
    Ok(if t.len() >= 15 {
        Timestamp::new((n / 1_000_000) as i64, (n % 1_000_000) as i64)
    } else {
        Timestamp::new(n as i64, 0)
    })
}

fn secs_2dp(s: &[u8]) -> Option<u64> {
    let (a, b) = match s.iter().position(|&c| c == b'.') {
        Some(p) => (&s[..p], &s[p + 1..]),
        None => (s, &b""[..]),
    };
    let whole = num(a)?;
    let mut frac = 0u64;
    let mut scale = 1_000_000u64;
    for &d in b.iter().take(6) {
        if !d.is_ascii_digit() {
            return None;
        }
        scale /= 10;
        frac += (d - b'0') as u64 * scale;
    }
    Some(whole * 1_000_000 + frac)
}

fn set_received(ev: &mut Event, micros: u64) {
    ev.received = Timestamp::new(ev.time.sec, ev.time.usec as i64 - micros as i64);
    ev.flags |= flags::HAS_RECEIVED;
}

fn domain_of(addr: &[u8]) -> &[u8] {
    let a = bare(addr);
    match a.iter().rposition(|&b| b == b'@') {
        Some(i) => &a[i + 1..],
        None => &[],
    }
}

// ---------------------------------------------------------------------------------------
// The parser

#[derive(Default)]
struct EcMsg {
    rcpt: Vec<u8>,
    from: Vec<u8>,
}

#[derive(Default)]
struct PfMsg {
    client_name: Vec<u8>,
    client_ip: Vec<u8>,
    client: bool,
    message_id: Vec<u8>,
    from: Vec<u8>,
    size: u64,
    sized: bool,
    /// Time of the `client=` / `uid=` line (0 when none was seen).
    received: i64,
    /// Time of the `qmgr` line while its reception is not yet out (else 0).
    queued: i64,
    nrcpt: u32,
}

/// The reception of a Postfix message, from what its first lines said.
fn pf_reception(qid: &[u8], m: &PfMsg, rcpt: &[u8]) -> Rec {
    let mut fields: Vec<(Field, &[u8])> = vec![
        (Field::MsgId, qid),
        (Field::MailFrom, &m.from),
        (Field::RcptTo, rcpt),
        (Field::MessageIdHeader, &m.message_id),
        (Field::DomainName, domain_of(rcpt)),
    ];
    if m.client {
        if m.client_name != b"unknown" {
            fields.push((Field::PeerName, &m.client_name));
        }
        fields.push((Field::PeerIp, &m.client_ip));
        fields.push((Field::Protocol, b"esmtp"));
    } else {
        fields.push((Field::Protocol, b"local"));
    }
    let mut ev = build(Kind::Reception, fields);
    ev.time = Timestamp::new(m.queued, 0);
    ev.received = ev.time;
    ev.size = m.size;
    ev.nrcpt = m.nrcpt;
    ev.flags |= flags::HAS_RECEIVED | flags::ESMTP;
    if m.client {
        ev.flags |= flags::HAS_ACCEPT;
    }
    Rec {
        ev,
        source: String::new(),
    }
}

/// Turns lines into records; one parser reads all the files of one run, so that a message
/// started in one file and ended in the next (rotation) is followed.
pub struct Parser {
    ec: Map<Vec<u8>, EcMsg>,
    pf: Map<Vec<u8>, PfMsg>,
    imta_opts: ImtaOptions,
    /// Sun messages received and not yet ended, by name: reception time and the id
    /// given to each (several recipients may share a name).
    imta_recv: Map<Vec<u8>, std::collections::VecDeque<(Timestamp, Vec<u8>)>>,
    imta_seq: u64,
    now: i64,
    year: i64,
    stamp_cache: (Vec<u8>, i64),
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

/// A `FormatContext` for tools (nothing of it shows in parsed lines).
pub fn tool_context() -> FormatContext {
    FormatContext {
        error_default_level: Level::Error,
        pid: std::process::id(),
        hostname: mtalog::sys::hostname(),
    }
}

impl Parser {
    /// A parser with no messages in flight.
    pub fn new() -> Parser {
        let now = Timestamp::now().sec;
        let c = mtalog::format::civil(now, mtalog::sys::utc_offset(now));
        Parser {
            ec: Map::default(),
            pf: Map::default(),
            imta_opts: ImtaOptions::defaults(&tool_context()),
            imta_recv: Map::default(),
            imta_seq: 0,
            now,
            year: c.year,
            stamp_cache: (Vec::new(), 0),
        }
    }

    /// Looks at the first lines of a new file to learn the optional fields of Sun
    /// mail.log lines (they are not marked in the lines themselves).
    pub fn begin_file(&mut self, sample: &[Vec<u8>]) {
        let lines: Vec<&str> = sample
            .iter()
            .filter(|l| detect(l) == Some(LineKind::ImtaMail))
            .filter_map(|l| std::str::from_utf8(l).ok())
            .collect();
        if !lines.is_empty()
            && let Some(o) = infer_imta_options(&lines, &self.imta_opts)
        {
            self.imta_opts = o;
        }
    }

    /// Parses one line (without its newline): its kind, and the records it makes (none
    /// for lines that carry no event of their own, such as heartbeats).
    pub fn line(&mut self, line: &[u8], out: &mut Vec<Rec>) -> Result<LineKind, String> {
        let kind = detect(line).ok_or_else(|| "not a line of any known log format".to_owned())?;
        match kind {
            LineKind::EcMain => self.ec_main(line, out)?,
            LineKind::EcReject => ec_reject(line, out)?,
            LineKind::EcPanic => ec_panic(line, out)?,
            LineKind::EcAcct => ec_acct(line)?,
            LineKind::EcImport => ec_import(line)?,
            LineKind::Postfix => self.postfix(line, out)?,
            LineKind::ImtaMail => self.imta_mail(line, out)?,
            LineKind::ImtaService => self.imta_service(line, out)?,
        }
        Ok(kind)
    }

    // -- ec_logger ------------------------------------------------------------------------

    fn ec_main(&mut self, line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
        let f = split_at_unescaped(line, 14);
        if f.len() < 5 {
            return Err(format!("{} fields, expected at least 5", f.len()));
        }
        let time = ec_time(&f[0])?;
        let letter = f[4].as_slice();
        let want = match letter {
            b"M1" if f[1].is_empty() && f[2].is_empty() && f[3].is_empty() => 5,
            b"R" => 14,
            b"D" | b"X" | b"A" => 12,
            b"T" | b"P" => 14,
            _ => {
                return Err(format!(
                    "unknown record type '{}'",
                    String::from_utf8_lossy(letter)
                ));
            }
        };
        if f.len() != want {
            return Err(format!(
                "{} record has {} fields, expected {want}",
                String::from_utf8_lossy(letter),
                f.len()
            ));
        }
        if want == 5 {
            return Ok(());
        }
        let u: Vec<Vec<u8>> = f[..want - usize::from(matches!(letter, b"T" | b"P"))]
            .iter()
            .map(|x| unescape(x))
            .collect();
        let id = u[1].clone();
        let ids = [
            (Field::MsgId, &u[1][..]),
            (Field::BatchId, &u[2][..]),
            (Field::ConnId, &u[3][..]),
        ];
        // The fields of a D/X/A/T/P line: ids, envelope, binding, domain, MX, note.
        let outbound = |rcpt: &'_ [u8], from: &'_ [u8], mx: &'_ [u8], note: &'_ [u8]| {
            let mut fields: Vec<(Field, Vec<u8>)> =
                ids.iter().map(|(f, v)| (*f, v.to_vec())).collect();
            fields.extend([
                (Field::MailFrom, from.to_vec()),
                (Field::RcptTo, rcpt.to_vec()),
                (Field::BindingGroup, u[7].clone()),
                (Field::Binding, u[8].clone()),
                (Field::DomainName, u[5].clone()),
                (Field::MxIp, mx.to_vec()),
                (Field::Note, note.to_vec()),
            ]);
            fields
        };
        let number = |i: usize, what: &str| -> Result<u64, String> {
            num(&u[i]).ok_or_else(|| format!("{what} '{}' is not a number", lossy(&u[i])))
        };
        let mut ev;
        match letter {
            b"R" => {
                let rcpt = join_addr(&u[5], &u[6]);
                let from = join_addr(&u[7], &u[8]);
                let size = number(10, "size")?;
                let mut fields: Vec<(Field, &[u8])> = ids.to_vec();
                fields.extend([
                    (Field::MailFrom, &from[..]),
                    (Field::RcptTo, &rcpt[..]),
                    (Field::BindingGroup, &u[12][..]),
                    (Field::Binding, &u[13][..]),
                    (Field::DomainName, &u[6][..]),
                    (Field::Protocol, &u[11][..]),
                ]);
                if u[9] != b"unknown" {
                    fields.push((Field::PeerIp, &u[9][..]));
                }
                ev = build(Kind::Reception, fields);
                ev.size = size;
                ev.flags |= flags::HAS_ACCEPT;
                if find(&u[11], b"esmtp").is_some() {
                    ev.flags |= flags::ESMTP;
                }
                self.ec.insert(id, EcMsg { rcpt, from });
            }
            b"D" | b"X" | b"A" => {
                let size = number(6, "size")?;
                let retries = number(9, "retries")?;
                let qt = secs_2dp(&u[10])
                    .ok_or_else(|| format!("queue time '{}' is not a number", lossy(&u[10])))?;
                let (rcpt, from) = self.ec_envelope(&id, letter != b"A");
                let fields = outbound(&rcpt, &from, &u[11], &[]);
                let kind = if letter == b"A" {
                    Kind::Attempt
                } else {
                    Kind::Delivery
                };
                ev = build(kind, fields.iter().map(|(f, v)| (*f, &v[..])).collect());
                ev.size = size;
                ev.bytes_sent = size;
                ev.retries = retries as u32;
                if letter == b"X" {
                    ev.flags |= flags::TRANSFER;
                }
                ev.time = time;
                if qt > 0 {
                    set_received(&mut ev, qt);
                }
            }
            _ => {
                // T / P
                let bytes = number(6, "bytes")?;
                let stage = number(9, "stage")?;
                let retries = number(10, "retries")?;
                let qt = secs_2dp(&u[11])
                    .ok_or_else(|| format!("queue time '{}' is not a number", lossy(&u[11])))?;
                let text = unescape(&f[13]);
                let (rcpt, from) = self.ec_envelope(&id, letter == b"P");
                let fields = outbound(&rcpt, &from, &u[12], &text);
                let kind = if letter == b"T" {
                    Kind::TransientFailure
                } else {
                    Kind::PermanentFailure
                };
                ev = build(kind, fields.iter().map(|(f, v)| (*f, &v[..])).collect());
                ev.bytes_sent = bytes;
                ev.stage = stage as i32;
                ev.retries = retries as u32;
                ev.time = time;
                if qt > 0 {
                    set_received(&mut ev, qt);
                }
            }
        }
        ev.time = time;
        if ev.kind == Kind::Reception {
            ev.received = time;
            ev.flags |= flags::HAS_RECEIVED;
        }
        out.push(Rec {
            ev,
            source: String::new(),
        });
        Ok(())
    }

    /// The recipient and sender of an ec message id (from its `R` line); forgotten when
    /// `end` (the message is done).
    fn ec_envelope(&mut self, id: &[u8], end: bool) -> (Vec<u8>, Vec<u8>) {
        let m = if end {
            self.ec.remove(id).map(|m| (m.rcpt, m.from))
        } else {
            self.ec.get(id).map(|m| (m.rcpt.clone(), m.from.clone()))
        };
        m.unwrap_or_default()
    }

    // -- Postfix --------------------------------------------------------------------------

    fn postfix_time(&mut self, line: &[u8]) -> Result<(Timestamp, usize), String> {
        if line[4] == b'-' {
            // YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)
            let sp = line
                .iter()
                .position(|&b| b == b' ')
                .ok_or("no space after the time stamp")?;
            let s = &line[..sp];
            let bad = || format!("bad RFC 3339 time stamp '{}'", lossy(s));
            if s.len() < 20 || s[7] != b'-' || s[13] != b':' || s[16] != b':' {
                return Err(bad());
            }
            let n = |a: usize, b: usize| num(&s[a..b]).ok_or_else(bad);
            let (y, mo, d, h, mi, se) = (
                n(0, 4)?,
                n(5, 7)?,
                n(8, 10)?,
                n(11, 13)?,
                n(14, 16)?,
                n(17, 19)?,
            );
            let mut p = 19;
            let mut usec = 0u64;
            if s[p] == b'.' {
                let st = p + 1;
                p = st;
                while p < s.len() && is_digit(s[p]) {
                    p += 1;
                }
                let frac = &s[st..p];
                let mut v = num(frac).ok_or_else(bad)?;
                for _ in frac.len()..6 {
                    v *= 10;
                }
                for _ in 6..frac.len() {
                    v /= 10;
                }
                usec = v;
            }
            let off: i64 = match &s[p..] {
                b"Z" => 0,
                [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                    let hh = num(&[*h1, *h2]).ok_or_else(bad)? as i64;
                    let mm = num(&[*m1, *m2]).ok_or_else(bad)? as i64;
                    let o = hh * 3600 + mm * 60;
                    if *sign == b'-' { -o } else { o }
                }
                _ => return Err(bad()),
            };
            let t = crate::time::utc_epoch(
                y as i64, mo as u32, d as u32, h as u32, mi as u32, se as u32,
            ) - off;
            return Ok((Timestamp::new(t, usec as i64), sp + 1));
        }
        // Mmm dd hh:mm:ss (day space-padded or not)
        let mut p = 4;
        if line[p] == b' ' {
            p += 1;
        }
        let ds = p;
        while p < line.len() && is_digit(line[p]) {
            p += 1;
        }
        let day = num(&line[ds..p]).filter(|d| (1..=31).contains(d));
        let tm = line.get(p + 1..p + 9);
        let ok = line.get(p) == Some(&b' ') && line.get(p + 9) == Some(&b' ');
        let (Some(day), Some(tm), true) = (day, tm, ok) else {
            return Err("bad time stamp".into());
        };
        let stamp = &line[..p + 9];
        if self.stamp_cache.0 == stamp {
            return Ok((Timestamp::new(self.stamp_cache.1, 0), p + 10));
        }
        let bad = || format!("bad time '{}'", lossy(tm));
        if tm[2] != b':' || tm[5] != b':' {
            return Err(bad());
        }
        let h = num(&tm[..2]).ok_or_else(bad)?;
        let mi = num(&tm[3..5]).ok_or_else(bad)?;
        let s = num(&tm[6..8]).ok_or_else(bad)?;
        let mo = month(&line[..3]).ok_or("bad month")?;
        let mut t = local_epoch(self.year, mo, day as u32, h as u32, mi as u32, s as u32);
        if t > self.now + 86_400 * 2 {
            t = local_epoch(self.year - 1, mo, day as u32, h as u32, mi as u32, s as u32);
        }
        self.stamp_cache = (stamp.to_vec(), t);
        Ok((Timestamp::new(t, 0), p + 10))
    }

    fn postfix(&mut self, line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
        let (time, p) = self.postfix_time(line)?;
        let rest = &line[p..];
        let hs = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or("no program after the host name")?;
        let rest = &rest[hs + 1..];
        let te = rest
            .iter()
            .position(|&b| b == b'[' || b == b':')
            .ok_or("no program tag")?;
        let program = &rest[..te];
        let service = match program.iter().rposition(|&b| b == b'/') {
            Some(i) => &program[i + 1..],
            None => program,
        };
        let mut rest = &rest[te..];
        if rest.first() == Some(&b'[') {
            let e = rest
                .iter()
                .position(|&b| b == b']')
                .ok_or("unterminated [pid]")?;
            if num(&rest[1..e]).is_none() {
                return Err("pid is not a number".into());
            }
            rest = &rest[e + 1..];
        }
        let text = rest
            .strip_prefix(b": ")
            .ok_or("no ': ' after the program tag")?;

        // Diagnostics: `warning: ...` and friends.
        for word in ["warning", "error", "fatal", "panic"] {
            if text.starts_with(word.as_bytes())
                && text.get(word.len()..word.len() + 2) == Some(b": ")
            {
                let mut ev = build(Kind::Error, vec![(Field::Note, text)]);
                ev.time = time;
                out.push(Rec {
                    ev,
                    source: lossy(service),
                });
                return Ok(());
            }
        }
        if service == b"postlog" {
            let mut note = b"info: ".to_vec();
            note.extend_from_slice(text);
            let mut ev = build(Kind::Error, vec![(Field::Note, &note)]);
            ev.time = time;
            out.push(Rec {
                ev,
                source: lossy(service),
            });
            return Ok(());
        }
        let Some(colon) = find(text, b": ") else {
            return Ok(()); // some other Postfix notice
        };
        let qid = &text[..colon];
        if !qid.iter().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(());
        }
        let body = &text[colon + 2..];
        if let Some(v) = body.strip_prefix(b"client=") {
            let (name, ip, _) = split_host(v.split(|&b| b == b',').next().unwrap_or(v));
            let m = self.pf_msg(qid);
            m.client = true;
            m.client_name = name.to_vec();
            m.client_ip = ip.to_vec();
            m.received = time.sec;
        } else if body.starts_with(b"uid=") || body.starts_with(b"sender=") {
            self.pf_msg(qid).received = time.sec;
        } else if let Some(v) = body.strip_prefix(b"message-id=") {
            self.pf_msg(qid).message_id = bare(v).to_vec();
        } else if body.starts_with(b"from=<") {
            let (from, after) = bracketed(&body[5..]).ok_or("unterminated from=<")?;
            if after.starts_with(b", status=expired") {
                return Ok(());
            }
            let size = after
                .strip_prefix(b", size=")
                .ok_or("from=<...> without size=")?;
            let se = size
                .iter()
                .position(|b| !is_digit(*b))
                .unwrap_or(size.len());
            let n = num(&size[..se]).ok_or("size is not a number")?;
            let nrcpt = find_value(after, b"nrcpt=").and_then(num).unwrap_or(0);
            let m = self.pf_msg(qid);
            if m.sized {
                return Ok(());
            }
            m.sized = true;
            m.size = n;
            m.from = from.to_vec();
            m.nrcpt = nrcpt as u32;
            m.queued = time.sec;
        } else if body.starts_with(b"to=<") {
            // The reception goes out with the first recipient (a Postfix reception has
            // none of its own; ec and Sun lines need one).
            if let Some(m) = self.pf.get_mut(qid)
                && m.queued != 0
            {
                let rcpt = bracketed(&body[3..]).map_or(&b""[..], |r| r.0);
                out.push(pf_reception(qid, m, rcpt));
                m.queued = 0;
            }
            out.push(Rec {
                ev: self.postfix_result(qid, body, time)?,
                source: String::new(),
            });
        } else if body == b"removed" {
            if let Some(m) = self.pf.remove(qid)
                && m.queued != 0
            {
                out.push(pf_reception(qid, &m, b""));
            }
        } else if let Some(r) = body.strip_prefix(b"reject: ") {
            out.push(Rec {
                ev: postfix_reject(qid, r, time)?,
                source: String::new(),
            });
        }
        Ok(())
    }

    /// At the end of the input: the receptions of Postfix messages with no delivery line
    /// yet, and those whose reception started (`client=`) but whose `qmgr` line is not in
    /// the input (cut off), as receptions marked [`PARTIAL`] in their source: pflogsumm
    /// counts them received, with no sender or size.
    pub fn finish(&mut self, out: &mut Vec<Rec>) {
        for (qid, m) in self.pf.drain() {
            if m.queued != 0 {
                out.push(pf_reception(&qid, &m, b""));
            } else if m.received != 0 && !m.sized {
                let mut ev = build(Kind::Reception, vec![(Field::MsgId, &qid)]);
                ev.time = Timestamp::new(m.received, 0);
                out.push(Rec {
                    ev,
                    source: PARTIAL.into(),
                });
            }
        }
    }

    /// The state of a Postfix queue ID (made when new, without copying the key otherwise).
    fn pf_msg(&mut self, qid: &[u8]) -> &mut PfMsg {
        if !self.pf.contains_key(qid) {
            self.pf.insert(qid.to_vec(), PfMsg::default());
        }
        self.pf.get_mut(qid).expect("just inserted")
    }

    fn postfix_result(
        &mut self,
        qid: &[u8],
        body: &[u8],
        time: Timestamp,
    ) -> Result<Event, String> {
        let (rcpt, mut rest) = bracketed(&body[3..]).ok_or("unterminated to=<")?;
        let mut orig: &[u8] = b"";
        if let Some(r) = rest.strip_prefix(b", orig_to=") {
            let (o, r2) = bracketed(r).ok_or("unterminated orig_to=<")?;
            orig = o;
            rest = r2;
        }
        let rest = rest
            .strip_prefix(b", relay=")
            .ok_or("no relay= after to=<...>")?;
        let (relay, rest) = split_comma(rest);
        let rest = rest
            .strip_prefix(b"delay=")
            .ok_or("no delay= after relay=")?;
        let (delay, mut rest) = split_comma(rest);
        let delay = secs_2dp(delay).ok_or("delay is not a number")?;
        if let Some(r) = rest.strip_prefix(b"delays=") {
            rest = split_comma(r).1;
        }
        if let Some(r) = rest.strip_prefix(b"dsn=") {
            rest = split_comma(r).1;
        }
        let rest = rest
            .strip_prefix(b"status=")
            .ok_or("no status= in the delivery line")?;
        let se = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let status = &rest[..se];
        let reason = rest[se..]
            .strip_prefix(b" (")
            .and_then(|r| r.strip_suffix(b")"))
            .unwrap_or(b"");
        let kind = match status {
            b"sent" => Kind::Delivery,
            b"deferred" => Kind::TransientFailure,
            b"bounced" | b"expired" => Kind::PermanentFailure,
            _ => return Err(format!("unknown status '{}'", lossy(status))),
        };
        let (mx_host, mx_ip, port) = if relay == b"none" {
            (&b""[..], &b""[..], 0)
        } else {
            split_host(relay)
        };
        // The reply text as the MTA reported it.
        let mut note = reason;
        let mut command: &[u8] = b"";
        if let Some(r) = note.strip_prefix(b"host ")
            && let Some(p) = find(r, b" said: ")
        {
            note = &r[p + 7..];
            if let Some(q) = rfind(note, b" (in reply to")
                && note.ends_with(b" command)")
            {
                command = &note[q + 14..note.len() - 9];
                note = &note[..q];
            }
        } else if let Some(r) = note.strip_prefix(b"connect to ")
            && let Some(p) = find(r, b": ")
        {
            note = &r[p + 2..];
        }
        let (from, size) = match self.pf.get(qid) {
            Some(m) => (m.from.clone(), m.size),
            None => (Vec::new(), 0),
        };
        let mut fields: Vec<(Field, &[u8])> = vec![
            (Field::MsgId, qid),
            (Field::MailFrom, &from),
            (Field::RcptTo, rcpt),
            (Field::Orcpt, orig),
            (Field::DomainName, domain_of(rcpt)),
            (Field::MxHost, mx_host),
            (Field::MxIp, mx_ip),
            (Field::SmtpCommand, command),
            (Field::Note, note),
        ];
        if mx_host == b"unknown" {
            fields[5].1 = b"";
        }
        let mut ev = build(kind, fields);
        ev.time = time;
        ev.size = size;
        if kind == Kind::Delivery {
            ev.bytes_sent = size;
        }
        ev.mx_port = port;
        set_received(&mut ev, delay);
        Ok(ev)
    }

    // -- Sun ------------------------------------------------------------------------------

    fn imta_mail(&mut self, line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
        let s = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_owned())?;
        let e = imta::parse_line(s, &self.imta_opts)?;
        let time = imta_time(&e.date, &e.time)?;
        if let Some(ev) = self.imta_event(&e, time) {
            out.push(Rec {
                ev,
                source: String::new(),
            });
        }
        Ok(())
    }

    fn imta_event(&mut self, e: &Entry, time: Timestamp) -> Option<Event> {
        let code = e.code.as_bytes();
        let action = code[0];
        let mods = &code[1..];
        let addr = |a: &str| -> Vec<u8> {
            if a == "<>" {
                Vec::new()
            } else {
                a.as_bytes().to_vec()
            }
        };
        let from = addr(&e.from);
        let to = addr(&e.to);
        let key: Vec<u8> = match (&e.filename, &e.message_id) {
            (Some(f), _) if !f.is_empty() => f.as_bytes().to_vec(),
            (_, Some(m)) if !m.is_empty() => [m.as_bytes(), b"|", &to].concat(),
            _ => [&from[..], b"|", &to].concat(),
        };
        let mid = e
            .message_id
            .as_deref()
            .map(|m| bare(m.as_bytes()).to_vec())
            .unwrap_or_default();
        let size = e.size.unwrap_or(0) * self.imta_opts.block_size;
        let diag = e.diagnostic.clone().unwrap_or_default();
        // The message's id: its queue file name when logged, else its name and a number,
        // so that two recipients with the same address stay apart.
        let (recv, key) = match action {
            b'E' if !e.is_connection() => {
                let id = if e.filename.as_deref().is_some_and(|f| !f.is_empty()) {
                    key.clone()
                } else {
                    self.imta_seq += 1;
                    [&key[..], b"#", self.imta_seq.to_string().as_bytes()].concat()
                };
                let q = self.imta_recv.entry(key).or_default();
                q.push_back((time, id.clone()));
                (None, id)
            }
            b'Q' => match self.imta_recv.get(&key).and_then(|q| q.front()) {
                Some((t, id)) => (Some(*t), id.clone()),
                None => (None, key),
            },
            b'D' | b'R' | b'K' => {
                let q = self.imta_recv.get_mut(&key);
                let front = q.and_then(|q| q.pop_front());
                if self.imta_recv.get(&key).is_some_and(|q| q.is_empty()) {
                    self.imta_recv.remove(&key);
                }
                match front {
                    Some((t, id)) => (Some(t), id),
                    None => (None, key),
                }
            }
            _ => (None, key),
        };
        if e.is_connection() {
            if action != b'X' {
                return None;
            }
            let t = e.transport.as_deref().unwrap_or("");
            let parts: Vec<&str> = t.split('|').collect();
            let peer = parts.get(3).copied().unwrap_or("");
            let mut ev = build(
                Kind::Rejection,
                vec![
                    (Field::PeerIp, peer.as_bytes()),
                    (Field::Note, e.extra.as_deref().unwrap_or("").as_bytes()),
                ],
            );
            ev.peer_port = parts.get(4).and_then(|p| p.parse().ok()).unwrap_or(0);
            ev.time = time;
            ev.flags |= flags::HAS_ACCEPT;
            return Some(ev);
        }
        let filename = e.filename.as_deref().unwrap_or("").as_bytes();
        // The fields every message entry has, plus `extra`.
        let base = |kind: Kind, extra: Vec<(Field, &[u8])>| {
            let mut f: Vec<(Field, &[u8])> = vec![
                (Field::MsgId, &key),
                (Field::MailFrom, &from),
                (Field::RcptTo, &to),
                (Field::MessageIdHeader, &mid),
                (Field::SpoolPath, filename),
                (Field::DomainName, domain_of(&to)),
            ];
            f.extend(extra);
            build(kind, f)
        };
        let mut ev = match action {
            b'E' => {
                let (helo, name, ip) = conn_info(e.connection.as_deref().unwrap_or(""));
                let proto: &[u8] = if mods.contains(&b'E') {
                    b"esmtp"
                } else {
                    b"smtp"
                };
                let mut ev = base(
                    Kind::Reception,
                    vec![
                        (Field::PeerIp, ip),
                        (Field::PeerName, name),
                        (Field::Helo, helo),
                        (Field::Protocol, proto),
                    ],
                );
                ev.size = size;
                ev.flags |= flags::HAS_ACCEPT | flags::HAS_RECEIVED;
                if mods.contains(&b'E') {
                    ev.flags |= flags::ESMTP;
                }
                ev.received = time;
                ev
            }
            b'D' | b'Q' | b'R' | b'K' => {
                let (mx, mx_ip, port, note) = smtp_status(&diag);
                let kind = match action {
                    b'D' => Kind::Delivery,
                    b'Q' => Kind::TransientFailure,
                    _ => Kind::PermanentFailure,
                };
                let mut ev = base(
                    kind,
                    vec![
                        (Field::MxHost, mx),
                        (Field::MxIp, mx_ip),
                        (Field::Note, note),
                    ],
                );
                ev.size = size;
                if kind == Kind::Delivery {
                    ev.bytes_sent = size;
                }
                ev.mx_port = port;
                ev.time = time;
                if let Some(r) = recv {
                    ev.received = r;
                    ev.flags |= flags::HAS_RECEIVED;
                }
                ev
            }
            b'J' | b'B' => {
                let (helo, name, ip) = conn_info(e.connection.as_deref().unwrap_or(""));
                let mut ev = build(
                    Kind::Rejection,
                    vec![
                        (Field::PeerIp, ip),
                        (Field::PeerName, name),
                        (Field::Helo, helo),
                        (Field::VMailFrom, &from),
                        (Field::VRcptTo, &to),
                        (Field::Note, diag.as_bytes()),
                    ],
                );
                ev.phase = if action == b'B' {
                    2
                } else if to.is_empty() {
                    4
                } else {
                    6
                };
                ev.flags |= flags::HAS_ACCEPT;
                if mods.contains(&b'E') {
                    ev.flags |= flags::ESMTP;
                }
                ev
            }
            _ => return None,
        };
        if mods.contains(&b'S') {
            ev.flags |= flags::TLS;
        }
        ev.time = time;
        Some(ev)
    }

    fn imta_service(&mut self, line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
        let s = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_owned())?;
        let e = imta::parse_service_line(s)?;
        let d = e.date.as_bytes();
        let bad = || format!("bad date '{}'", e.date);
        let n = |a: usize, b: usize| num(&d[a..b]).ok_or_else(bad);
        let mo = month(&d[3..6]).ok_or_else(bad)?;
        let off = n(22, 24)? as i64 * 3600 + n(24, 26)? as i64 * 60;
        let off = if d[21] == b'-' { -off } else { off };
        let t = crate::time::utc_epoch(
            n(7, 11)? as i64,
            mo,
            n(0, 2)? as u32,
            n(12, 14)? as u32,
            n(15, 17)? as u32,
            n(18, 20)? as u32,
        ) - off;
        if e.text.starts_with("Log created (") {
            return Ok(());
        }
        let level = match e.level.as_str() {
            "Critical" => "critical",
            "Error" => "error",
            "Warning" => "warning",
            "Notice" => "notice",
            "Information" => "info",
            _ => "debug",
        };
        let note = format!("{level}: {}", e.text);
        let mut ev = build(Kind::Error, vec![(Field::Note, note.as_bytes())]);
        ev.time = Timestamp::new(t, 0);
        out.push(Rec {
            ev,
            source: e.process,
        });
        Ok(())
    }

    /// The ids a line carries (for `trace`); no state is kept.
    pub fn ids(&self, kind: LineKind, line: &[u8]) -> Ids {
        let mut ids = Ids::default();
        match kind {
            LineKind::EcMain => {
                let f = split_at_unescaped(line, 6);
                for x in f.iter().skip(1).take(3) {
                    ids.ids.push(unescape(x));
                }
            }
            LineKind::EcImport => {
                let f = split_at_unescaped(line, 5);
                ids.ids.push(unescape(&f[1]));
                if let Some(n) = f.get(3) {
                    ids.ids.push(unescape(n));
                }
            }
            LineKind::EcReject => {
                if let Some(p) = find(line, b" C=\"") {
                    let r = &line[p + 4..];
                    let e = r.iter().position(|&b| b == b'"').unwrap_or(r.len());
                    ids.ids.push(r[..e].to_vec());
                }
            }
            LineKind::Postfix => {
                let Some(p) = find(line, b"]: ") else {
                    return ids;
                };
                let text = &line[p + 3..];
                if let Some(c) = find(text, b": ") {
                    ids.ids.push(text[..c].to_vec());
                    if let Some(m) = text[c + 2..].strip_prefix(b"message-id=") {
                        ids.message_id = Some(bare(m).to_vec());
                    }
                }
            }
            LineKind::ImtaMail => {
                if let Ok(s) = std::str::from_utf8(line)
                    && let Ok(e) = imta::parse_line(s, &self.imta_opts)
                {
                    if let Some(f) = e.filename {
                        ids.ids.push(f.into_bytes());
                    }
                    if let Some(m) = e.message_id {
                        ids.message_id = Some(bare(m.as_bytes()).to_vec());
                    }
                }
            }
            _ => {}
        }
        ids
    }

    /// The time of a line (for putting files in order); `None` when it has none.
    pub fn time_of(&mut self, line: &[u8]) -> Option<Timestamp> {
        match detect(line)? {
            LineKind::Postfix => self.postfix_time(line).ok().map(|t| t.0),
            LineKind::ImtaMail => {
                let s = std::str::from_utf8(line).ok()?;
                imta_time(s.get(..11)?, s.get(12..23)?).ok()
            }
            LineKind::ImtaService => {
                let mut out = Vec::new();
                self.imta_service(line, &mut out).ok()?;
                out.first().map(|r| r.ev.time)
            }
            _ => {
                let d = line.iter().take_while(|b| is_digit(**b)).count();
                ec_time(&line[..d]).ok()
            }
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn join_addr(local: &[u8], domain: &[u8]) -> Vec<u8> {
    if domain.is_empty() {
        return local.to_vec();
    }
    [local, b"@", domain].concat()
}

/// `<value>` at the start of `s`: the value and what follows the `>`.
fn bracketed(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = s.strip_prefix(b"<")?;
    let e = s.iter().position(|&b| b == b'>')?;
    Some((&s[..e], &s[e + 1..]))
}

fn split_comma(s: &[u8]) -> (&[u8], &[u8]) {
    match find(s, b", ") {
        Some(p) => (&s[..p], &s[p + 2..]),
        None => (s, &[]),
    }
}

fn find_value<'a>(s: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let p = find(s, key)?;
    let v = &s[p + key.len()..];
    let e = v.iter().position(|&b| !is_digit(b)).unwrap_or(v.len());
    Some(&v[..e])
}

/// `NAME[IP]` or `NAME[IP]:PORT`.
fn split_host(s: &[u8]) -> (&[u8], &[u8], u16) {
    let Some(o) = s.iter().position(|&b| b == b'[') else {
        return (s, &[], 0);
    };
    let c = s.iter().rposition(|&b| b == b']').unwrap_or(s.len());
    let port = s
        .get(c + 1..)
        .and_then(|p| p.strip_prefix(b":"))
        .and_then(num)
        .unwrap_or(0) as u16;
    (&s[..o], &s[o + 1..c.max(o + 1)], port)
}

fn postfix_reject(qid: &[u8], r: &[u8], time: Timestamp) -> Result<Event, String> {
    let sp = r
        .iter()
        .position(|&b| b == b' ')
        .ok_or("no stage after reject:")?;
    let stage = &r[..sp];
    let phase = match stage {
        b"CONNECT" => 0,
        b"EHLO" | b"HELO" => 2,
        b"MAIL" => 4,
        b"RCPT" => 6,
        b"DATA" => 8,
        b"END-OF-MESSAGE" => 9,
        _ => return Err(format!("unknown reject stage '{}'", lossy(stage))),
    };
    let r = r[sp..]
        .strip_prefix(b" from ")
        .ok_or("no 'from' after the stage")?;
    let c = find(r, b": ").ok_or("no ': ' after the client")?;
    let (name, ip, _) = split_host(&r[..c]);
    let r = &r[c + 2..];
    let semi = r
        .iter()
        .rposition(|&b| b == b';')
        .ok_or("no ';' before from=<...>")?;
    let reply = &r[..semi];
    let tail = &r[semi + 1..];
    let tag = |k: &[u8]| -> &[u8] {
        find(tail, k)
            .and_then(|p| bracketed(&tail[p + k.len() - 1..]))
            .map(|(v, _)| v)
            .unwrap_or(b"")
    };
    let code = num(reply.get(..3).unwrap_or(b"")).unwrap_or(0) as i32;
    let mut fields: Vec<(Field, &[u8])> = vec![
        (Field::PeerIp, ip),
        (Field::Helo, tag(b" helo=<")),
        (Field::VMailFrom, tag(b" from=<")),
        (Field::VRcptTo, tag(b" to=<")),
        (Field::Note, reply),
    ];
    if name != b"unknown" {
        fields.push((Field::PeerName, name));
    }
    if qid != b"NOQUEUE" {
        fields.push((Field::MsgId, qid));
    }
    let mut ev = build(Kind::Rejection, fields);
    ev.time = time;
    ev.phase = phase;
    ev.code = code;
    ev.flags |= flags::HAS_ACCEPT;
    if find(tail, b" proto=ESMTP").is_some() {
        ev.flags |= flags::ESMTP;
    }
    Ok(ev)
}

fn ec_reject(line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
    let d = line.iter().take_while(|b| is_digit(**b)).count();
    let time = ec_time(&line[..d])?;
    let mut r = &line[d + 1..];
    if r.starts_with(b" Marker ") {
        return Ok(());
    }
    let mut quoted = |key: &[u8]| -> Result<Vec<u8>, String> {
        let k = [b" ", key, b"=\""].concat();
        r = r
            .strip_prefix(&k[..])
            .ok_or_else(|| format!("expected {}=\"...\"", lossy(key)))?;
        let mut v = Vec::new();
        let mut i = 0;
        while i < r.len() {
            match r[i] {
                b'\\' if i + 1 < r.len() => {
                    v.push(b'\\');
                    v.push(r[i + 1]);
                    i += 2;
                }
                b'"' => {
                    r = &r[i + 1..];
                    return Ok(unescape(&v));
                }
                b => {
                    v.push(b);
                    i += 1;
                }
            }
        }
        Err(format!("unterminated {}=\"", lossy(key)))
    };
    let peer = quoted(b"R")?;
    let local = quoted(b"L")?;
    let conn = quoted(b"C")?;
    let path = quoted(b"PATH")?;
    let group = quoted(b"PATH_GRP")?;
    let phase_text = quoted(b"P")?;
    let phase = PHASES
        .iter()
        .position(|p| p.as_bytes() == phase_text)
        .map_or(-1, |p| p as i32);
    let mut token = |key: &[u8]| -> Result<Vec<u8>, String> {
        let k = [b" ", key, b"="].concat();
        r = r
            .strip_prefix(&k[..])
            .ok_or_else(|| format!("expected {}=", lossy(key)))?;
        let e = r.iter().position(|&b| b == b' ').unwrap_or(r.len());
        let v = unescape(&r[..e]);
        r = &r[e..];
        Ok(v)
    };
    let code = token(b"E")?;
    let code: i32 = std::str::from_utf8(&code)
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or("E= is not a number")?;
    let module = token(b"M")?;
    let mut ctx = |key: &[u8]| -> Result<Vec<u8>, String> {
        let k = [b" ", key, b"=["].concat();
        r = r
            .strip_prefix(&k[..])
            .ok_or_else(|| format!("expected {}=[...]", lossy(key)))?;
        let e = r
            .iter()
            .position(|&b| b == b']')
            .ok_or_else(|| format!("unterminated {}=[", lossy(key)))?;
        let v = unescape(&r[..e]);
        r = &r[e + 1..];
        Ok(v)
    };
    let cc = ctx(b"CTXCONN")?;
    let cm = ctx(b"CTXMESS")?;
    let text = unescape(r.strip_prefix(b" ").unwrap_or(r));
    let (pip, pport) = endpoint(&peer);
    let (lip, lport) = endpoint(&local);
    let mut ev = build(
        Kind::Rejection,
        vec![
            (Field::PeerIp, pip),
            (Field::LocalIp, lip),
            (Field::AcceptConnId, &conn),
            (Field::VModule, &module),
            (Field::VPathway, &path),
            (Field::VPathwayGroup, &group),
            (Field::VCtxConn, &cc),
            (Field::VCtxMess, &cm),
            (Field::Note, &text),
        ],
    );
    ev.time = time;
    ev.peer_port = pport;
    ev.local_port = lport;
    ev.phase = phase;
    ev.code = code;
    ev.flags |= flags::HAS_ACCEPT;
    out.push(Rec {
        ev,
        source: String::new(),
    });
    Ok(())
}

fn endpoint(s: &[u8]) -> (&[u8], u16) {
    let Some(c) = s.iter().rposition(|&b| b == b':') else {
        return (s, 0);
    };
    let ip = &s[..c];
    let ip = ip
        .strip_prefix(b"[")
        .and_then(|i| i.strip_suffix(b"]"))
        .unwrap_or(ip);
    (ip, num(&s[c + 1..]).unwrap_or(0) as u16)
}

fn ec_panic(line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
    let d = line.iter().take_while(|b| is_digit(**b)).count();
    let time = ec_time(&line[..d])?;
    let text = unescape(&line[d + 1..]);
    let mut ev = build(Kind::Error, vec![(Field::Note, &text)]);
    ev.time = time;
    out.push(Rec {
        ev,
        source: "paniclog".into(),
    });
    Ok(())
}

fn ec_acct(line: &[u8]) -> Result<(), String> {
    let f = split_at_unescaped(line, 9);
    if !(6..=8).contains(&f.len()) {
        return Err(format!(
            "acctlog record has {} fields, expected 6 to 8",
            f.len()
        ));
    }
    ec_time(&f[0])?;
    Ok(())
}

fn ec_import(line: &[u8]) -> Result<(), String> {
    let f = split_at_unescaped(line, 7);
    if f.len() != 6 {
        return Err(format!(
            "importlog record has {} fields, expected 6",
            f.len()
        ));
    }
    ec_time(&f[0])?;
    num(&f[4]).ok_or("importlog result is not a number")?;
    Ok(())
}

fn imta_time(date: &str, time: &str) -> Result<Timestamp, String> {
    let d = date.as_bytes();
    let t = time.as_bytes();
    let bad = || format!("bad time stamp '{date} {time}'");
    if d.len() != 11 || t.len() != 11 {
        return Err(bad());
    }
    let n = |b: &[u8]| num(b).ok_or_else(bad);
    let mo = month(&d[3..6]).ok_or_else(bad)?;
    let sec = local_epoch(
        n(&d[7..])? as i64,
        mo,
        n(&d[..2])? as u32,
        n(&t[..2])? as u32,
        n(&t[3..5])? as u32,
        n(&t[6..8])? as u32,
    );
    Ok(Timestamp::new(sec, n(&t[9..])? as i64 * 10_000))
}

/// `helo (rdns [ip])` / `helo ([ip])`.
fn conn_info(s: &str) -> (&[u8], &[u8], &[u8]) {
    let Some((helo, rest)) = s.split_once(" (") else {
        return (s.as_bytes(), b"", b"");
    };
    let rest = rest.strip_suffix(')').unwrap_or(rest);
    let (name, ip) = match rest.rsplit_once(' ') {
        Some((n, ip)) => (n, ip),
        None => ("", rest),
    };
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    let ip = ip.strip_prefix("IPv6:").unwrap_or(ip);
    (helo.as_bytes(), name.as_bytes(), ip.as_bytes())
}

/// `[dns;MX ][(TCP|lip|lport|mxip|mxport) ]smtp;NOTE` or a plain note.
fn smtp_status(d: &str) -> (&[u8], &[u8], u16, &[u8]) {
    let mut rest = d;
    let mut mx = "";
    let mut ip = "";
    let mut port = 0;
    if let Some(r) = rest.strip_prefix("dns;") {
        let (m, r2) = r.split_once(' ').unwrap_or((r, ""));
        mx = m;
        rest = r2;
    }
    if let Some(r) = rest.strip_prefix("(TCP|") {
        let (t, r2) = r.split_once(") ").unwrap_or((r, ""));
        let p: Vec<&str> = t.split('|').collect();
        ip = p.get(2).copied().unwrap_or("");
        port = p.get(3).and_then(|x| x.parse().ok()).unwrap_or(0);
        rest = r2;
    }
    if let Some(r) = rest.strip_prefix("smtp;") {
        return (mx.as_bytes(), ip.as_bytes(), port, r.as_bytes());
    }
    if mx.is_empty() && ip.is_empty() {
        (b"", b"", 0, d.as_bytes())
    } else {
        (mx.as_bytes(), ip.as_bytes(), port, rest.as_bytes())
    }
}

// ---------------------------------------------------------------------------------------
// Sun options from the lines themselves

const IMTA_FLAGS: usize = 14;

fn imta_candidate(bits: u32, fmt3: bool, base: &ImtaOptions) -> ImtaOptions {
    let b = |i: u32| bits & (1 << i) != 0;
    let mut o = base.clone();
    o.log_message_id = b(0);
    o.log_process = b(1);
    o.log_node = b(2);
    o.log_filename = b(3);
    o.log_username = b(4);
    o.log_connection = if b(5) { imta::CONN_INFO } else { 0 }
        | if b(6) { imta::CONN_TRANSPORT } else { 0 }
        | if b(7) { imta::CONN_APPLICATION } else { 0 };
    o.log_notary = b(8);
    o.log_reason = b(9);
    o.log_reception_note = b(10);
    o.log_diagnostics = !b(11);
    o.log_envelope_id = b(12);
    o.log_queue_time = b(13);
    o.log_format = if fmt3 { 3 } else { 1 };
    o
}

/// Whether the optional fields of a parsed entry look like what imta_logger writes there.
fn plausible(e: &Entry) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    // `pid.seq` or `pid.thread.seq`, pid and thread in hex.
    let is_hexdot = |p: &str| {
        p.rsplit_once('.').is_some_and(|(ids, seq)| {
            digits(seq)
                && ids.split('.').count() <= 2
                && ids
                    .split('.')
                    .all(|h| !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()))
        })
    };
    // `*` and the SMTP AUTH user, or a system user name (no dots, brackets, `@`, ...).
    let is_user = |u: &str| {
        u.is_empty()
            || u.starts_with('*')
            || (!digits(u) && !u.contains(['.', '(', '[', '<', '|', ';', ':', '@']))
    };
    e.process.as_deref().is_none_or(is_hexdot)
        && e.message_id
            .as_deref()
            .is_none_or(|m| m.is_empty() || (m.starts_with('<') && m.ends_with('>')))
        && e.username.as_deref().is_none_or(is_user)
        && e.notary
            .as_deref()
            .is_none_or(|n| n.is_empty() || digits(n))
        && e.envelope_id
            .as_deref()
            .is_none_or(|v| !v.starts_with('<') && !v.contains(['|', ';']))
        && e.queue_time
            .as_deref()
            .is_none_or(|q| q.is_empty() || digits(q))
        && e.transport.as_deref().is_none_or(|t| t.starts_with("TCP|"))
        && e.application
            .as_deref()
            .is_none_or(|a| a.starts_with("SMTP"))
        && e.node.as_deref().is_none_or(|n| !n.contains('|'))
        && e.filename
            .as_deref()
            .is_none_or(|f| !f.starts_with('<') && !f.contains(';'))
}

/// The options that read every sample line with plausible fields, preferring the fewest
/// optional fields (those that swallow the rest of a line last; ties go to the commoner
/// options).
pub fn infer_imta_options(lines: &[&str], base: &ImtaOptions) -> Option<ImtaOptions> {
    let fmt3 = lines.iter().any(|l| {
        // `N:` length prefixes after the size field
        l.split(' ').any(|w| {
            w.split_once(':').is_some_and(|(n, rest)| {
                !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && rest.starts_with("rfc822;")
            })
        })
    });
    let mut order: Vec<u32> = (0..(1u32 << IMTA_FLAGS)).collect();
    // A field that swallows the rest of the line (the reception note of `E`, or no
    // diagnostic at all) explains anything, so it comes last.
    const WEIGHT: [u32; IMTA_FLAGS] = [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 8, 8, 2, 2];
    let cost = |b: u32| -> u32 {
        (0..IMTA_FLAGS)
            .filter(|i| b & (1 << i) != 0)
            .map(|i| WEIGHT[i])
            .sum()
    };
    order.sort_by_key(|b| (cost(*b), *b));
    // The first candidate that reads every line; failing that (a damaged line in the
    // sample), the one that reads the most.
    let mut best: Option<(usize, ImtaOptions)> = None;
    'cand: for bits in order {
        let o = imta_candidate(bits, fmt3, base);
        let allowed = best.as_ref().map_or(lines.len(), |b| b.0);
        let mut bad = 0;
        for l in lines {
            match imta::parse_line(l, &o) {
                Ok(e) if plausible(&e) => {}
                _ => {
                    bad += 1;
                    if bad >= allowed {
                        continue 'cand;
                    }
                }
            }
        }
        if bad == 0 {
            return Some(o);
        }
        best = Some((bad, o));
    }
    best.map(|b| b.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_format() {
        let cases: [(&str, LineKind); 9] = [
            (
                "1700000000@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@R@alice@dest.example@news@sender.example@192.0.2.10@4821@esmtp@group-a@vip-1",
                LineKind::EcMain,
            ),
            ("1700000060@@@@M1", LineKind::EcMain),
            (
                "1700000100: R=\"203.0.113.9:51234\" L=\"\" C=\"\" PATH=\"\" PATH_GRP=\"\" P=\"unknown\" E=421 M= CTXCONN=[] CTXMESS=[] 421 busy",
                LineKind::EcReject,
            ),
            (
                "1700000005:scriptlet: something went wrong",
                LineKind::EcPanic,
            ),
            (
                "1700000201@Z@*:2025@198.51.100.77:40112@admin@1@summary@operators",
                LineKind::EcAcct,
            ),
            (
                "1700000400@32/10-04242-0001E5F5@I@32/10-04242-0001E5F5@1@/var/spool/restore",
                LineKind::EcImport,
            ),
            (
                "Nov  3 09:15:03 mta1 postfix/qmgr[4242]: 3F2A91C0B7: removed",
                LineKind::Postfix,
            ),
            (
                "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com",
                LineKind::ImtaMail,
            ),
            (
                "[07/Mar/2024:09:15:02 +0000] mx1 ecelerity[18972]: General Error: cannot resolve relay: timeout",
                LineKind::ImtaService,
            ),
        ];
        for (l, k) in cases {
            assert_eq!(detect(l.as_bytes()), Some(k), "{l}");
        }
        assert_eq!(detect(b"hello world"), None);
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn ec_delivery_gets_its_recipient_from_the_reception() {
        let mut p = Parser::new();
        let mut out = Vec::new();
        p.line(b"1700000000@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@R@alice@dest.example@news@sender.example@192.0.2.10@4821@esmtp@group-a@vip-1", &mut out).unwrap();
        p.line(b"1700000042@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@D@dest.example@4821@group-a@vip-1@0@44.06@198.51.100.25", &mut out).unwrap();
        assert_eq!(out.len(), 2);
        let d = &out[1].ev;
        assert_eq!(d.kind, Kind::Delivery);
        assert_eq!(d.get(Field::RcptTo), b"alice@dest.example");
        assert_eq!(d.get(Field::MailFrom), b"news@sender.example");
        assert_eq!(d.time.micros_since(d.received), 44_060_000);
        assert!(p.ec.is_empty());
    }

    #[test]
    fn bad_ec_lines_say_why() {
        let mut p = Parser::new();
        let mut out = Vec::new();
        let e = p.line(b"1700000000@a@b@c@Q@x", &mut out).unwrap_err();
        assert!(e.contains("unknown record type"), "{e}");
        let e = p.line(b"1700000000@a@b@c@D@x@1", &mut out).unwrap_err();
        assert!(e.contains("expected 12"), "{e}");
    }

    #[test]
    fn rfc3339_postfix_and_hires_ec_stamps() {
        let mut p = Parser::new();
        let t = p
            .time_of(b"2026-11-23T12:00:01.5+01:00 mx postfix/qmgr[1]: ABC: removed")
            .unwrap();
        assert_eq!((t.sec, t.usec), (1_795_431_601, 500_000));
        let t = p.time_of(b"1700000060000005@@@@M1").unwrap();
        assert_eq!((t.sec, t.usec), (1_700_000_060, 5));
    }

    /// Lines the library writes with a set of Sun options are read back with those
    /// options inferred from the lines alone.
    fn sun_lines(o: &ImtaOptions) -> Vec<String> {
        use mtalog::format::{Formatter, Out};
        let mut f = imta::Imta::new(o.clone());
        let mut out = Out::default();
        for (kind, note) in [
            (Kind::Reception, &b""[..]),
            (Kind::TransientFailure, b"451 4.7.1 later"),
            (Kind::Delivery, b"250 2.0.0 ok"),
            (Kind::PermanentFailure, b"550 5.1.1 unknown user"),
        ] {
            let mut ev = build(
                kind,
                vec![
                    (Field::MsgId, b"60/00-31337-EF0F3556"),
                    (Field::MailFrom, b"alice@example.org"),
                    (Field::RcptTo, b"bob@example.com"),
                    (Field::MessageIdHeader, b"<a1@example.org>"),
                    (Field::DomainName, b"example.com"),
                    (Field::MxHost, b"mx.example.com"),
                    (Field::MxIp, b"203.0.113.10"),
                    (Field::PeerIp, b"192.0.2.25"),
                    (Field::Helo, b"mail.example.org"),
                    (Field::Note, note),
                ],
            );
            ev.time = Timestamp::new(1_709_802_902, 0);
            ev.received = Timestamp::new(1_709_802_812, 0);
            ev.flags |= flags::HAS_RECEIVED;
            ev.size = 3000;
            f.format(&ev, &mut out);
        }
        String::from_utf8(out.bufs[0].clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn sun_options_are_inferred_from_the_lines() {
        let base = ImtaOptions::defaults(&tool_context());
        let mut variants = vec![base.clone()];
        let mut o = base.clone();
        o.log_message_id = true;
        variants.push(o.clone());
        o.log_filename = true;
        o.log_process = true;
        o.log_connection = imta::CONN_INFO | imta::CONN_TRANSPORT;
        variants.push(o.clone());
        o.log_format = 3;
        variants.push(o.clone());
        o.log_format = 1;
        o.log_username = true;
        o.log_notary = true;
        o.log_envelope_id = true;
        o.log_queue_time = true;
        o.process_user = "mailsrv".into();
        variants.push(o);
        for want in variants {
            let lines = sun_lines(&want);
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let got = infer_imta_options(&refs, &base).expect("some options read the lines");
            // One damaged line does not change the answer.
            let mut damaged = refs.clone();
            damaged.insert(1, "07-Mar-2024 09:15:02.00 garbage");
            assert_eq!(infer_imta_options(&damaged, &base).as_ref(), Some(&got));
            assert_eq!(
                (
                    got.log_message_id,
                    got.log_filename,
                    got.log_process,
                    got.log_connection,
                    got.log_format,
                    (got.log_username, got.log_notary),
                    (got.log_envelope_id, got.log_queue_time),
                ),
                (
                    want.log_message_id,
                    want.log_filename,
                    want.log_process,
                    want.log_connection,
                    want.log_format,
                    (want.log_username, want.log_notary),
                    (want.log_envelope_id, want.log_queue_time),
                ),
                "{lines:#?}"
            );
            let mut p = Parser::new();
            p.begin_file(
                &lines
                    .iter()
                    .map(|l| l.as_bytes().to_vec())
                    .collect::<Vec<_>>(),
            );
            let mut out = Vec::new();
            for l in &lines {
                p.line(l.as_bytes(), &mut out).unwrap();
            }
            assert_eq!(out.len(), 4);
            assert_eq!(out[2].ev.get(Field::RcptTo), b"bob@example.com");
        }
    }
}
