//! Reading ec_logger lines back into events.
//!
//! An ec `D` line has no recipient: it is on the `R` line of the same message id. The
//! [`Reader`] remembers the envelope per message and forgets it when the message ends, so
//! its memory follows the number of messages in flight, not the size of the input.

use super::PHASES;
use crate::event::{Field, Kind, Timestamp, build, flags};
use crate::format::read::{
    Ids, LineKind, Map, Rec, find, leading_digits, lossy, secs_2dp, set_received,
};
use crate::format::text::num;

/// What is wrong with a numeric field, in the words of the person reading the log:
/// `what` names the field, `expected` says what belongs there.
fn wrong_number(what: &str, v: &[u8], expected: &str) -> String {
    let shown = lossy(v);
    if v.is_empty() {
        format!("the {what} is empty; expected {expected}")
    } else if v.starts_with(b"-") {
        format!("the {what} is negative ({shown}); expected {expected}")
    } else {
        format!("the {what} '{shown}' is not {expected}")
    }
}

/// The kind of an ec_logger line (by how it starts), `None` for a line of another format.
pub fn line_kind(line: &[u8]) -> Option<LineKind> {
    let digits = leading_digits(line);
    if digits == 0 {
        return None;
    }
    match line.get(digits) {
        Some(b'@') => {
            let rest = &line[digits + 1..];
            // acctlog: `TS@T@...` with a one-letter type, 6 to 8 fields; importlog:
            // `TS@ID@I@...`, 6 fields. A mainlog line has 5, 12 or at least 14 (its ids
            // may be one letter too).
            let (ats, n) = separators(rest);
            let acct_or_import = (4..=6).contains(&n);
            if acct_or_import && ats[0] == 1 && b"NTZ?".contains(&rest[0]) {
                Some(LineKind::EcAcct)
            } else if acct_or_import && ats[0] > 0 && &rest[ats[0]..ats[1]] == b"@I" {
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
    }
}

#[derive(Default)]
struct Msg {
    rcpt: Vec<u8>,
    from: Vec<u8>,
}

/// The ec_logger reader: the envelope of each message in flight, from its `R` line.
#[derive(Default)]
pub struct Reader {
    msgs: Map<Vec<u8>, Msg>,
}

impl Reader {
    /// A reader with no messages in flight.
    pub fn new() -> Reader {
        Reader::default()
    }

    /// Are no messages in flight?
    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// Parses one line of `kind` (an ec_logger kind, from [`line_kind`]) into the records
    /// it makes (none for heartbeats, acctlog and importlog lines, which are only checked).
    pub fn line(&mut self, kind: LineKind, line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
        match kind {
            LineKind::EcMain => self.main(line, out),
            LineKind::EcReject => reject(line, out),
            LineKind::EcPanic => panic(line, out),
            LineKind::EcAcct => acct(line),
            LineKind::EcImport => import(line),
            _ => Err(format!("not an ec_logger line but a {}", kind.name())),
        }
    }

    fn main(&mut self, line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
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
        let number = |i: usize, what: &str, expected: &str| -> Result<u64, String> {
            num(&u[i]).ok_or_else(|| wrong_number(what, &u[i], expected))
        };
        let queue_time = |i: usize| -> Result<u64, String> {
            secs_2dp(&u[i]).ok_or_else(|| wrong_number("queue time", &u[i], "seconds, e.g. 12.34"))
        };
        let mut ev;
        match letter {
            b"R" => {
                let rcpt = join_addr(&u[5], &u[6]);
                let from = join_addr(&u[7], &u[8]);
                let size = number(10, "message size", "a number of bytes")?;
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
                self.msgs.insert(id, Msg { rcpt, from });
            }
            b"D" | b"X" | b"A" => {
                let size = number(6, "message size", "a number of bytes")?;
                let retries = number(9, "retry count", "a whole number")?;
                let qt = queue_time(10)?;
                let (rcpt, from) = self.envelope(&id, letter != b"A");
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
                let bytes = number(6, "bytes sent", "a number of bytes")?;
                let stage = number(9, "connection stage", "a stage number from 0 to 21")?;
                let retries = number(10, "retry count", "a whole number")?;
                let qt = queue_time(11)?;
                let text = unescape(&f[13]);
                let (rcpt, from) = self.envelope(&id, letter == b"P");
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
    fn envelope(&mut self, id: &[u8], end: bool) -> (Vec<u8>, Vec<u8>) {
        let m = if end {
            self.msgs.remove(id).map(|m| (m.rcpt, m.from))
        } else {
            self.msgs.get(id).map(|m| (m.rcpt.clone(), m.from.clone()))
        };
        m.unwrap_or_default()
    }
}

/// The ids a line of `kind` carries (for `trace`).
pub fn ids(kind: LineKind, line: &[u8]) -> Ids {
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
        _ => {}
    }
    ids
}

/// The time stamp a line starts with.
pub fn time(line: &[u8]) -> Option<Timestamp> {
    ec_time(&line[..leading_digits(line)]).ok()
}

/// Splits at `@` not preceded by a backslash escape, into at most `max` fields (the last
/// one keeps the rest raw), unescaping every field but the last raw one.
/// The positions of the first 8 unescaped `@` of `s`, and how many there are (8 for 8 or
/// more).
fn separators(s: &[u8]) -> ([usize; 8], usize) {
    let (mut at, mut n, mut i) = ([0; 8], 0, 0);
    while i < s.len() && n < at.len() {
        match s[i] {
            b'\\' => i += 1,
            b'@' => {
                at[n] = i;
                n += 1;
            }
            _ => {}
        }
        i += 1;
    }
    (at, n)
}

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

fn join_addr(local: &[u8], domain: &[u8]) -> Vec<u8> {
    if domain.is_empty() {
        return local.to_vec();
    }
    [local, b"@", domain].concat()
}

fn reject(line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
    let d = leading_digits(line);
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

fn panic(line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
    let d = leading_digits(line);
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

fn acct(line: &[u8]) -> Result<(), String> {
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

fn import(line: &[u8]) -> Result<(), String> {
    let f = split_at_unescaped(line, 7);
    if f.len() != 6 {
        return Err(format!(
            "importlog record has {} fields, expected 6",
            f.len()
        ));
    }
    ec_time(&f[0])?;
    let result = f[4].strip_prefix(b"-").unwrap_or(&f[4]);
    num(result).ok_or("importlog result is not a number")?;
    Ok(())
}
