//! Reading Postfix lines back into events.
//!
//! A Postfix delivery line has no sender or size: they are on the `qmgr` line of the same
//! queue ID. The [`Reader`] remembers them per queue ID and forgets them when the message
//! is removed, so its memory follows the number of messages in flight.

use super::Stage;
use crate::event::{Event, Field, Kind, Timestamp, build, flags};
use crate::format::read::{
    Ids, Map, PARTIAL, Rec, find, leading_digits, lossy, rfind, secs_2dp, set_received,
};
use crate::format::text::{bare_address, local_epoch, month, num, split_address, utc_epoch};

/// Is `line` a Postfix syslog line (`Mmm dd hh:mm:ss HOST ` or `YYYY-MM-DDThh:mm:ss`)?
pub fn is_line(line: &[u8]) -> bool {
    (line.len() >= 16
        && month(&line[..3]).is_some()
        && line[3] == b' '
        && (line[4].is_ascii_digit() || line[4] == b' '))
        || (line.len() >= 20 && leading_digits(line) == 4 && line[4] == b'-' && line[10] == b'T')
}

/// The start of a Postfix syslog line as it is written: the wall-clock time stamp (no time
/// zone applied) and what follows the host name. pflogsumm reads lines this way, and so
/// does `mtalog report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The year of an RFC 3339 stamp; `None` for a traditional stamp (it has none).
    pub year: Option<i64>,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    /// 0..=23
    pub hour: u32,
    /// 0..=59
    pub min: u32,
    /// 0..=60
    pub sec: u32,
    /// The host name.
    pub host: &'a [u8],
    /// Everything after the host name and its space (`postfix/smtpd[123]: ...`).
    pub rest: &'a [u8],
}

/// Splits a Postfix syslog line (`Mmm dd hh:mm:ss HOST REST` with the day space-padded or
/// not, or `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm) HOST REST`) into its [`Header`]; `None`
/// when it is not one.
pub fn header(line: &[u8]) -> Option<Header<'_>> {
    let d2 = |b: &[u8]| -> Option<u32> {
        (b.len() == 2 && b.iter().all(u8::is_ascii_digit))
            .then(|| u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0'))
    };
    let (year, month, day, hms, after) =
        if line.len() >= 20 && leading_digits(line) == 4 && line[4] == b'-' && line[10] == b'T' {
            let sp = line.iter().position(|&b| b == b' ')?;
            let s = &line[..sp];
            if s.len() < 20 || s[7] != b'-' {
                return None;
            }
            let mut p = 19;
            if s[p] == b'.' {
                p += 1;
                let st = p;
                while p < s.len() && s[p].is_ascii_digit() {
                    p += 1;
                }
                if p == st {
                    return None;
                }
            }
            match &s[p..] {
                b"Z" => {}
                [b'+' | b'-', h1, h2, b':', m1, m2] => {
                    d2(&[*h1, *h2])?;
                    d2(&[*m1, *m2])?;
                }
                _ => return None,
            }
            (
                Some(num(&s[..4])? as i64),
                d2(&s[5..7])?,
                d2(&s[8..10])?,
                &s[11..19],
                sp + 1,
            )
        } else {
            if line.len() < 16 || line[3] != b' ' {
                return None;
            }
            let month = month(&line[..3])?;
            let mut p = 4;
            if line[p] == b' ' {
                p += 1;
            }
            let ds = p;
            while p < line.len() && p - ds < 2 && line[p].is_ascii_digit() {
                p += 1;
            }
            let day = num(&line[ds..p])? as u32;
            if line.get(p) != Some(&b' ') || line.get(p + 9) != Some(&b' ') {
                return None;
            }
            (None, month, day, &line[p + 1..p + 9], p + 10)
        };
    if hms[2] != b':' || hms[5] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let rest = &line[after..];
    let hs = rest.iter().position(|&b| b == b' ')?;
    if hs == 0 {
        return None;
    }
    Some(Header {
        year,
        month,
        day,
        hour: d2(&hms[..2])?,
        min: d2(&hms[3..5])?,
        sec: d2(&hms[6..8])?,
        host: &rest[..hs],
        rest: &rest[hs + 1..],
    })
}

#[derive(Default)]
struct Msg {
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
fn reception(qid: &[u8], m: &Msg, rcpt: &[u8]) -> Rec {
    let mut fields: Vec<(Field, &[u8])> = vec![
        (Field::MsgId, qid),
        (Field::MailFrom, &m.from),
        (Field::RcptTo, rcpt),
        (Field::MessageIdHeader, &m.message_id),
        (Field::DomainName, split_address(rcpt).1),
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

/// The Postfix reader: what the first lines of each message in flight said, and the year
/// that traditional time stamps (which have none) are read in.
pub struct Reader {
    msgs: Map<Vec<u8>, Msg>,
    now: i64,
    year: i64,
    stamp_cache: (Vec<u8>, i64),
}

impl Reader {
    /// A reader with no messages in flight that reads a traditional time stamp in the
    /// year of `now` (epoch seconds), or in the year before when that would put it more
    /// than two days after `now`.
    pub fn new(now: i64) -> Reader {
        let c = crate::format::text::civil(now, crate::sys::utc_offset(now));
        Reader {
            msgs: Map::default(),
            now,
            year: c.year,
            stamp_cache: (Vec::new(), 0),
        }
    }

    /// The time stamp of a Postfix line and where the host name after it starts.
    pub fn time(&mut self, line: &[u8]) -> Result<(Timestamp, usize), String> {
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
                while p < s.len() && s[p].is_ascii_digit() {
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
            let t = utc_epoch(
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
        while p < line.len() && line[p].is_ascii_digit() {
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

    /// Parses one line into the records it makes (none for most lines: a message's
    /// reception goes out with its first delivery line, or at [`finish`](Reader::finish)).
    pub fn line(&mut self, line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
        let (time, p) = self.time(line)?;
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
            let m = self.msg(qid);
            m.client = true;
            m.client_name = name.to_vec();
            m.client_ip = ip.to_vec();
            m.received = time.sec;
        } else if body.starts_with(b"uid=") || body.starts_with(b"sender=") {
            self.msg(qid).received = time.sec;
        } else if let Some(v) = body.strip_prefix(b"message-id=") {
            self.msg(qid).message_id = bare_address(v).to_vec();
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
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(size.len());
            let n = num(&size[..se]).ok_or("size is not a number")?;
            let nrcpt = find_value(after, b"nrcpt=").and_then(num).unwrap_or(0);
            let m = self.msg(qid);
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
            if let Some(m) = self.msgs.get_mut(qid)
                && m.queued != 0
            {
                let rcpt = bracketed(&body[3..]).map_or(&b""[..], |r| r.0);
                out.push(reception(qid, m, rcpt));
                m.queued = 0;
            }
            out.push(Rec {
                ev: self.result(qid, body, time)?,
                source: String::new(),
            });
        } else if body == b"removed" {
            if let Some(m) = self.msgs.remove(qid)
                && m.queued != 0
            {
                out.push(reception(qid, &m, b""));
            }
        } else if let Some(r) = body.strip_prefix(b"reject: ") {
            out.push(Rec {
                ev: reject(qid, r, time)?,
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
        for (qid, m) in self.msgs.drain() {
            if m.queued != 0 {
                out.push(reception(&qid, &m, b""));
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
    fn msg(&mut self, qid: &[u8]) -> &mut Msg {
        if !self.msgs.contains_key(qid) {
            self.msgs.insert(qid.to_vec(), Msg::default());
        }
        self.msgs.get_mut(qid).expect("just inserted")
    }

    fn result(&mut self, qid: &[u8], body: &[u8], time: Timestamp) -> Result<Event, String> {
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
        let (note, command) = reply_of(reason);
        let (from, size) = match self.msgs.get(qid) {
            Some(m) => (m.from.clone(), m.size),
            None => (Vec::new(), 0),
        };
        let mut fields: Vec<(Field, &[u8])> = vec![
            (Field::MsgId, qid),
            (Field::MailFrom, &from),
            (Field::RcptTo, rcpt),
            (Field::Orcpt, orig),
            (Field::DomainName, split_address(rcpt).1),
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
}

/// The ids a Postfix line carries (for `trace`): its queue ID and Message-ID.
pub fn ids(line: &[u8]) -> Ids {
    let mut ids = Ids::default();
    let Some(p) = find(line, b"]: ") else {
        return ids;
    };
    let text = &line[p + 3..];
    if let Some(c) = find(text, b": ") {
        ids.ids.push(text[..c].to_vec());
        if let Some(m) = text[c + 2..].strip_prefix(b"message-id=") {
            ids.message_id = Some(bare_address(m).to_vec());
        }
    }
    ids
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
    let e = v
        .iter()
        .position(|&b| !b.is_ascii_digit())
        .unwrap_or(v.len());
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

fn reject(qid: &[u8], r: &[u8], time: Timestamp) -> Result<Event, String> {
    let sp = r
        .iter()
        .position(|&b| b == b' ')
        .ok_or("no stage after reject:")?;
    let stage = &r[..sp];
    if stage == b"header" || stage == b"body" {
        return Ok(content_reject(qid, &r[sp + 1..], time));
    }
    let phase = Stage::parse(stage)
        .ok_or_else(|| format!("unknown reject stage '{}'", lossy(stage)))?
        .phase();
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

/// cleanup's `QID: reject: header|body TEXT from CLIENT; from=<S> to=<R> proto=P
/// helo=<H>: REPLY` (header_checks / body_checks): a rejection at the end of the message
/// whose note is the reply.
fn content_reject(qid: &[u8], r: &[u8], time: Timestamp) -> Event {
    let semi = find(r, b"; from=<").unwrap_or(r.len());
    let before = &r[..semi];
    let client = rfind(before, b" from ").map_or(&b""[..], |p| &before[p + 6..]);
    let (name, ip, _) = split_host(client);
    let tail = r.get(semi + 1..).unwrap_or(b"");
    let reply = rfind(tail, b">: ").map_or(&b""[..], |p| &tail[p + 3..]);
    let tag = |k: &[u8]| -> &[u8] {
        find(tail, k)
            .and_then(|p| bracketed(&tail[p + k.len() - 1..]))
            .map(|(v, _)| v)
            .unwrap_or(b"")
    };
    let mut fields: Vec<(Field, &[u8])> = vec![
        (Field::PeerIp, ip),
        (Field::Helo, tag(b" helo=<")),
        (Field::VMailFrom, tag(b" from=<")),
        (Field::VRcptTo, tag(b" to=<")),
        (Field::MsgId, qid),
        (Field::Note, reply),
    ];
    if !name.is_empty() && name != b"unknown" {
        fields.push((Field::PeerName, name));
    }
    let mut ev = build(Kind::Rejection, fields);
    ev.time = time;
    ev.phase = Stage::EndOfMessage.phase();
    ev.code = num(reply.get(..3).unwrap_or(b"")).unwrap_or(0) as i32;
    ev.flags |= flags::HAS_ACCEPT;
    if find(tail, b" proto=ESMTP").is_some() {
        ev.flags |= flags::ESMTP;
    }
    ev
}

/// The reply text of a delivery line's parenthesised reason, as the MTA reported it, and
/// the SMTP command it answered: `host H said: TEXT (in reply to CMD command)` gives
/// (`TEXT`, `CMD`), `connect to H: TEXT` gives (`TEXT`, ""), any other reason is the text.
pub fn reply_of(reason: &[u8]) -> (&[u8], &[u8]) {
    if let Some(r) = reason.strip_prefix(b"host ")
        && let Some(p) = find(r, b" said: ")
    {
        let note = &r[p + 7..];
        // `(in reply to command)` names no command: the two markers share a space.
        if let Some(q) = rfind(note, b" (in reply to")
            && let Some(command) = note[q + 13..]
                .strip_prefix(b" ")
                .and_then(|c| c.strip_suffix(b" command)"))
        {
            return (&note[..q], command);
        }
        return (note, b"");
    }
    if let Some(r) = reason.strip_prefix(b"connect to ")
        && let Some(p) = find(r, b": ")
    {
        return (&r[p + 2..], b"");
    }
    (reason, b"")
}
