//! Reading imta_logger lines back into events: message entries of `mail.log_current`
//! (through the grammar of [`parse_line`]), `X` connection entries and service log lines.
//!
//! The optional fields of a message entry are not marked in the line; a reader learns
//! which ones a file has from its first lines ([`infer_imta_options`]). A Sun message's
//! dequeue entries name it as its reception did (by queue file name, or by Message-ID and
//! recipient), so the [`Reader`] pairs them up to give each its reception time.

use std::collections::VecDeque;

use super::options::LEVEL_OF_RANK;
use super::{
    CONN_APPLICATION, CONN_INFO, CONN_TRANSPORT, Entry, ImtaOptions, SERVICE_LEVELS, parse_line,
    parse_service_line,
};
use crate::event::{Event, Field, Kind, Timestamp, build, flags};
use crate::format::Level;
use crate::format::read::{Ids, LineKind, Map, Rec, leading_digits};
use crate::format::text::{bare_address, local_epoch, month, num, split_address, utc_epoch};

/// The kind of a Sun line (by how it starts), `None` for a line of another format.
pub fn line_kind(line: &[u8]) -> Option<LineKind> {
    if line.len() >= 24
        && leading_digits(line) == 2
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

/// The Sun reader: the options the mail.log lines were written with, and the messages
/// received and not yet ended.
pub struct Reader {
    opts: ImtaOptions,
    /// Messages received and not yet ended, by name: reception time and the id given to
    /// each (several recipients may share a name).
    recv: Map<Vec<u8>, VecDeque<(Timestamp, Vec<u8>)>>,
    seq: u64,
}

impl Reader {
    /// A reader of lines written with `opts` (until [`begin_file`](Reader::begin_file)
    /// learns others).
    pub fn new(opts: ImtaOptions) -> Reader {
        Reader {
            opts,
            recv: Map::default(),
            seq: 0,
        }
    }

    /// Learns the optional fields of a new file from its first mail.log lines (kept as
    /// they are when `lines` is empty or no options read them).
    pub fn begin_file(&mut self, lines: &[&str]) {
        if !lines.is_empty()
            && let Some(o) = infer_imta_options(lines, &self.opts)
        {
            self.opts = o;
        }
    }

    /// Parses one line of `kind` (a Sun kind, from [`line_kind`]) into the records it
    /// makes (none for entries that carry no event of their own).
    pub fn line(&mut self, kind: LineKind, line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
        match kind {
            LineKind::ImtaMail => self.mail(line, out),
            LineKind::ImtaService => service(line, out),
            _ => Err(format!("not a Sun line but a {}", kind.name())),
        }
    }

    fn mail(&mut self, line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
        // Bytes that are not UTF-8 are read as a lossy decoder shows them (the module doc).
        let s = String::from_utf8_lossy(line);
        let e = parse_line(&s, &self.opts)?;
        let time = imta_time(&e.date, &e.time)?;
        if let Some(ev) = self.event(&e, time) {
            out.push(Rec {
                ev,
                source: String::new(),
            });
        }
        Ok(())
    }

    fn event(&mut self, e: &Entry, time: Timestamp) -> Option<Event> {
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
            .map(|m| bare_address(m.as_bytes()).to_vec())
            .unwrap_or_default();
        let size = e.size.unwrap_or(0).saturating_mul(self.opts.block_size);
        let diag = e.diagnostic.clone().unwrap_or_default();
        // The message's id: its queue file name when logged, else its name and a number,
        // so that two recipients with the same address stay apart.
        let (recv, key) = match action {
            b'E' if !e.is_connection() => {
                let id = if e.filename.as_deref().is_some_and(|f| !f.is_empty()) {
                    key.clone()
                } else {
                    self.seq += 1;
                    [&key[..], b"#", self.seq.to_string().as_bytes()].concat()
                };
                let q = self.recv.entry(key).or_default();
                q.push_back((time, id.clone()));
                (None, id)
            }
            b'Q' => match self.recv.get(&key).and_then(|q| q.front()) {
                Some((t, id)) => (Some(*t), id.clone()),
                None => (None, key),
            },
            b'D' | b'R' | b'K' => {
                let q = self.recv.get_mut(&key);
                let front = q.and_then(|q| q.pop_front());
                if self.recv.get(&key).is_some_and(|q| q.is_empty()) {
                    self.recv.remove(&key);
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
                (Field::DomainName, split_address(&to).1),
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

    /// The ids a mail.log line carries (for `trace`): its queue file name and Message-ID.
    pub fn ids(&self, line: &[u8]) -> Ids {
        let mut ids = Ids::default();
        if let Ok(e) = parse_line(&String::from_utf8_lossy(line), &self.opts) {
            if let Some(f) = e.filename {
                ids.ids.push(f.into_bytes());
            }
            if let Some(m) = e.message_id {
                ids.message_id = Some(bare_address(m.as_bytes()).to_vec());
            }
        }
        ids
    }
}

/// The time of a Sun line of `kind`; `None` when it has none.
pub fn time(kind: LineKind, line: &[u8]) -> Option<Timestamp> {
    match kind {
        LineKind::ImtaMail => {
            let s = String::from_utf8_lossy(line);
            imta_time(s.get(..11)?, s.get(12..23)?).ok()
        }
        LineKind::ImtaService => {
            let mut out = Vec::new();
            service(line, &mut out).ok()?;
            out.first().map(|r| r.ev.time)
        }
        _ => None,
    }
}

fn service(line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
    let e = parse_service_line(&String::from_utf8_lossy(line))?;
    let d = e.date.as_bytes();
    let bad = || format!("bad date '{}'", e.date);
    let n = |a: usize, b: usize| num(&d[a..b]).ok_or_else(bad);
    let mo = month(&d[3..6]).ok_or_else(bad)?;
    let off = n(22, 24)? as i64 * 3600 + n(24, 26)? as i64 * 60;
    let off = if d[21] == b'-' { -off } else { off };
    let t = utc_epoch(
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
    let level = SERVICE_LEVELS
        .iter()
        .position(|l| *l == e.level)
        .map_or(Level::Debug, |r| LEVEL_OF_RANK[r]);
    let note = format!("{}: {}", level.name(), e.text);
    let mut ev = build(Kind::Error, vec![(Field::Note, note.as_bytes())]);
    ev.time = Timestamp::new(t, 0);
    out.push(Rec {
        ev,
        source: e.process,
    });
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

fn candidate(bits: u32, fmt3: bool, base: &ImtaOptions) -> ImtaOptions {
    let b = |i: u32| bits & (1 << i) != 0;
    let mut o = base.clone();
    o.log_message_id = b(0);
    o.log_process = b(1);
    o.log_node = b(2);
    o.log_filename = b(3);
    o.log_username = b(4);
    o.log_connection = if b(5) { CONN_INFO } else { 0 }
        | if b(6) { CONN_TRANSPORT } else { 0 }
        | if b(7) { CONN_APPLICATION } else { 0 };
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
    // `N:` length prefixes: on the original To of a message entry (`N:rfc822;`), on the
    // transport of a connection entry (`N:TCP|`). Free text may hold such a word too, so
    // the other guess is tried when this one reads fewer than half the lines.
    let fmt3 = lines.iter().any(|l| {
        l.split(' ').any(|w| {
            w.split_once(':').is_some_and(|(n, rest)| {
                !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && (rest.starts_with("rfc822;") || rest.starts_with("TCP|"))
            })
        })
    });
    match infer_with(lines, base, fmt3) {
        Some((bad, o)) if bad * 2 <= lines.len() => Some(o),
        first => match (first, infer_with(lines, base, !fmt3)) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b.1 } else { a.1 }),
            (a, b) => a.or(b).map(|x| x.1),
        },
    }
}

/// The options with `log_format = 3` or not (`fmt3`) that read the most sample lines, and
/// how many they do not read (0 at the first candidate that reads them all).
fn infer_with(lines: &[&str], base: &ImtaOptions, fmt3: bool) -> Option<(usize, ImtaOptions)> {
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
        let o = candidate(bits, fmt3, base);
        let allowed = best.as_ref().map_or(lines.len(), |b| b.0);
        let mut bad = 0;
        for l in lines {
            match parse_line(l, &o) {
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
            return Some((0, o));
        }
        best = Some((bad, o));
    }
    best
}
