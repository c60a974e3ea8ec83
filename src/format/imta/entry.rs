//! The grammar of imta_logger lines, read back: a line split into its fields.

use super::options::{has_diagnostic, inbound_action};
use super::{CONN_APPLICATION, CONN_INFO, CONN_TRANSPORT, ImtaOptions, SERVICE_LEVELS};
use crate::format::MONTHS;

/// One `mail.log_current` / `connection.log_current` line split into its fields. Optional
/// fields that the options leave out are `None`; under `log_format = 2` a `<>` address
/// reads back as empty, under `log_format = 3` the `N:` prefixes are removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// `DD-Mon-YYYY`.
    pub date: String,
    /// `HH:MM:SS.cc`.
    pub time: String,
    /// Node name (`log_node`).
    pub node: Option<String>,
    /// Process id `pid.thread.seq` (`log_process`).
    pub process: Option<String>,
    /// Source channel (connection entries: the channel).
    pub source_channel: String,
    /// Destination channel; `+` / `-` for connection entries.
    pub dest_channel: String,
    /// Entry code (action letter and modifiers).
    pub code: String,
    /// Size in blocks (message entries).
    pub size: Option<u64>,
    /// Envelope From.
    pub from: String,
    /// Original To including `rfc822;`.
    pub original_to: String,
    /// Current To.
    pub to: String,
    /// NOTARY flags.
    pub notary: Option<String>,
    /// Queue file name.
    pub filename: Option<String>,
    /// Envelope id (`log_envelope_id`).
    pub envelope_id: Option<String>,
    /// Message id.
    pub message_id: Option<String>,
    /// User name.
    pub username: Option<String>,
    /// Connection info.
    pub connection: Option<String>,
    /// Reason (`R`, `K`).
    pub reason: Option<String>,
    /// Diagnostic / delivery status.
    pub diagnostic: Option<String>,
    /// Transport information.
    pub transport: Option<String>,
    /// Application information.
    pub application: Option<String>,
    /// Seconds in the queue (`log_queue_time`).
    pub queue_time: Option<String>,
    /// Extra text of a connection entry (`X`).
    pub extra: Option<String>,
}

impl Entry {
    /// Is this a connection entry (`+` / `-` destination)?
    pub fn is_connection(&self) -> bool {
        self.dest_channel == "+" || self.dest_channel == "-"
    }
}

#[derive(Clone, Copy)]
struct Cur<'a> {
    s: &'a str,
    p: usize,
    fmt3: bool,
}

impl<'a> Cur<'a> {
    fn sep(&mut self) -> Result<(), String> {
        if self.s[self.p..].starts_with(' ') {
            self.p += 1;
            Ok(())
        } else {
            Err(format!("expected a space at byte {}", self.p))
        }
    }

    /// A one-word field after its separator.
    fn word(&mut self) -> Result<&'a str, String> {
        self.sep()?;
        let rest = &self.s[self.p..];
        let n = rest.find(' ').unwrap_or(rest.len());
        self.p += n;
        Ok(&rest[..n])
    }

    /// A variable-length field (length-prefixed under format 3).
    fn var(&mut self) -> Result<&'a str, String> {
        if !self.fmt3 {
            return self.word();
        }
        self.sep()?;
        let rest = &self.s[self.p..];
        let colon = rest
            .find(':')
            .ok_or_else(|| format!("expected N: at byte {}", self.p))?;
        let n: usize = rest[..colon]
            .parse()
            .map_err(|_| format!("bad length at byte {}", self.p))?;
        // N counts characters.
        let body = &rest[colon + 1..];
        let bytes = match n.checked_sub(1) {
            None => 0,
            Some(last) => match body.char_indices().nth(last) {
                Some((i, ch)) => i + ch.len_utf8(),
                None => {
                    return Err(format!("length {n} runs past the line at byte {}", self.p));
                }
            },
        };
        let v = &body[..bytes];
        self.p += colon + 1 + bytes;
        if self.p < self.s.len() && !self.s[self.p..].starts_with(' ') {
            return Err(format!("field of length {n} not followed by a space"));
        }
        Ok(v)
    }

    fn channel(&mut self) -> Result<&'a str, String> {
        self.sep()?;
        let rest = &self.s[self.p..];
        let n = rest.find(' ').unwrap_or(rest.len());
        let name = &rest[..n];
        self.p += n;
        if n < 12 {
            let pad = 12 - n;
            if self.s.len() < self.p + pad
                || !self.s[self.p..self.p + pad].bytes().all(|b| b == b' ')
            {
                return Err(format!("channel '{name}' not padded to 12 columns"));
            }
            self.p += pad;
        }
        Ok(name)
    }

    /// The next variable-length field, without moving.
    fn peek_var(&self) -> Option<&'a str> {
        let mut probe = *self;
        probe.var().ok()
    }

    fn rest(&mut self) -> Result<&'a str, String> {
        self.sep()?;
        let r = &self.s[self.p..];
        self.p = self.s.len();
        Ok(r)
    }

    fn end(&self) -> Result<(), String> {
        if self.p == self.s.len() {
            Ok(())
        } else {
            Err(format!(
                "unexpected text at byte {}: '{}'",
                self.p,
                &self.s[self.p..]
            ))
        }
    }
}

fn check_date(d: &str, t: &str) -> Result<(), String> {
    let db = d.as_bytes();
    let ok_d = db.len() == 11
        && db[2] == b'-'
        && db[6] == b'-'
        && db[..2].iter().chain(&db[7..]).all(u8::is_ascii_digit)
        && MONTHS.contains(&&d[3..6]);
    let tb = t.as_bytes();
    let ok_t = tb.len() == 11
        && tb[2] == b':'
        && tb[5] == b':'
        && tb[8] == b'.'
        && [0, 1, 3, 4, 6, 7, 9, 10]
            .iter()
            .all(|&i| tb[i].is_ascii_digit());
    if ok_d && ok_t {
        Ok(())
    } else {
        Err(format!("bad time stamp '{d} {t}'"))
    }
}

/// Splits `reason SP diagnostic` of an `R` or `K` entry (`log_format` 1 or 2): the
/// diagnostic is the note itself (no reply code: then it equals the reason), or ends with
/// `smtp;<code>[ |-]<reason>`.
fn split_reason(region: &str) -> Result<(&str, &str), String> {
    let ends_with_reply = |head: &str| {
        let h = head.as_bytes();
        let h = h.strip_suffix(b" ").or(h.strip_suffix(b"-")).unwrap_or(h);
        let n = h.len();
        n >= 8
            && matches!(h[n - 3], b'2'..=b'5')
            && h[n - 2..].iter().all(u8::is_ascii_digit)
            && h[..n - 3].ends_with(b"smtp;")
    };
    for (p, _) in region.match_indices(' ') {
        let (reason, diag) = (&region[..p], &region[p + 1..]);
        if diag == reason || diag.strip_suffix(reason).is_some_and(ends_with_reply) {
            return Ok((reason, diag));
        }
    }
    Err("cannot tell the reason from the diagnostic".into())
}

fn addr_value(v: &str, o: &ImtaOptions) -> String {
    if o.log_format == 2 && v == "<>" {
        String::new()
    } else {
        v.to_owned()
    }
}

/// Splits one mail.log / connection.log line (without or with its `\n`) into its fields,
/// for a file written with options `o`.
pub fn parse_line(line: &str, o: &ImtaOptions) -> Result<Entry, String> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let fmt3 = o.log_format == 3;
    let mut e = Entry::default();
    if line.len() < 23 || !line.is_char_boundary(23) {
        return Err("line too short".into());
    }
    e.date = line[..11].to_owned();
    e.time = line[12..23].to_owned();
    if line.as_bytes()[11] != b' ' {
        return Err("bad time stamp".into());
    }
    check_date(&e.date, &e.time)?;
    let mut c = Cur {
        s: line,
        p: 23,
        fmt3,
    };
    if o.log_node {
        e.node = Some(c.word()?.to_owned());
    }
    if o.log_process {
        e.process = Some(c.word()?.to_owned());
    }
    e.source_channel = c.channel()?.to_owned();
    if e.source_channel.is_empty() {
        return Err("empty source channel".into());
    }
    e.dest_channel = c.channel()?.to_owned();
    e.code = c.word()?.to_owned();
    let action = *e.code.as_bytes().first().ok_or("empty entry code")?;
    if e.is_connection() {
        e.transport = Some(c.var()?.to_owned());
        e.application = Some(c.var()?.to_owned());
        if action == b'X' {
            e.extra = Some(if fmt3 { c.var()? } else { c.rest()? }.to_owned());
        }
        c.end()?;
        return Ok(e);
    }
    if !b"EDQRKJBWZV".contains(&action) {
        return Err(format!("unknown entry code '{}'", e.code));
    }
    e.size = Some(
        c.word()?
            .parse()
            .map_err(|_| "size is not a number".to_owned())?,
    );
    e.from = addr_value(c.var()?, o);
    e.original_to = c.var()?.to_owned();
    if !e.original_to.starts_with("rfc822;") {
        return Err("original To lacks rfc822;".into());
    }
    e.to = addr_value(c.var()?, o);
    if o.log_notary {
        e.notary = Some(c.word()?.to_owned());
    }
    if o.log_filename {
        e.filename = Some(c.var()?.to_owned());
    }
    if o.log_envelope_id {
        e.envelope_id = Some(c.var()?.to_owned());
    }
    if o.log_message_id {
        e.message_id = Some(c.var()?.to_owned());
    }
    if o.log_username {
        e.username = Some(c.var()?.to_owned());
    }
    if o.log_connection & CONN_INFO != 0 {
        e.connection = Some(if !fmt3 && inbound_action(action) {
            // helo "(" [rdns " "] "[" ip "])"
            let start = c.p + 1;
            c.word()?;
            let t = c.word()?;
            if !t.starts_with('(') {
                return Err("connection info lacks '('".into());
            }
            if !t.ends_with("])") {
                let t2 = c.word()?;
                if !t2.starts_with('[') || !t2.ends_with("])") {
                    return Err("connection info lacks '[ip])'".into());
                }
            }
            line[start..c.p].to_owned()
        } else {
            c.var()?.to_owned()
        });
    }
    let reason = o.log_reason && matches!(action, b'R' | b'K');
    // A `D` has a diagnostic only when it has a remote server, and then it starts `dns;`.
    let diagnostic = has_diagnostic(action, o)
        && (action != b'D' || c.peek_var().is_some_and(|v| v.starts_with("dns;")));
    let trailing = [
        o.log_connection & CONN_TRANSPORT != 0,
        o.log_connection & CONN_APPLICATION != 0,
        o.log_queue_time,
    ];
    if !fmt3 && (reason || diagnostic) {
        // Reason and diagnostic keep their spaces: the one-word trailing fields come off
        // the end.
        c.sep()?;
        let mut rest = &line[c.p..];
        let mut tail = [None, None, None];
        for i in (0..trailing.len()).rev() {
            if trailing[i] {
                let sp = rest.rfind(' ').ok_or("missing trailing field")?;
                tail[i] = Some(rest[sp + 1..].to_owned());
                rest = &rest[..sp];
            }
        }
        if reason && diagnostic {
            let (r, d) = split_reason(rest)?;
            e.reason = Some(r.to_owned());
            e.diagnostic = Some(d.to_owned());
        } else if reason {
            e.reason = Some(rest.to_owned());
        } else {
            e.diagnostic = Some(rest.to_owned());
        }
        let [transport, application, queue_time] = tail;
        e.transport = transport;
        e.application = application;
        e.queue_time = queue_time;
        return Ok(e);
    }
    if reason {
        e.reason = Some(c.var()?.to_owned());
    }
    if diagnostic {
        e.diagnostic = Some(c.var()?.to_owned());
    }
    if trailing[0] {
        e.transport = Some(c.var()?.to_owned());
    }
    if trailing[1] {
        e.application = Some(c.var()?.to_owned());
    }
    if trailing[2] {
        e.queue_time = Some(c.word()?.to_owned());
    }
    c.end()?;
    Ok(e)
}

/// One service log line split into its parts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceEntry {
    /// `DD/Mon/YYYY:HH:MM:SS +zzzz`, without the brackets.
    pub date: String,
    /// Short host name.
    pub host: String,
    /// Process name.
    pub process: String,
    /// Process id.
    pub pid: u32,
    /// Category (`General`).
    pub category: String,
    /// Level as printed.
    pub level: String,
    /// The text.
    pub text: String,
}

/// Splits a service log line: `[date] host process[pid]: Category Level: text`.
pub fn parse_service_line(line: &str) -> Result<ServiceEntry, String> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let rest = line.strip_prefix('[').ok_or("missing '['")?;
    let (date, rest) = rest.split_once("] ").ok_or("missing '] '")?;
    let db = date.as_bytes();
    if db.len() != 26
        || db[2] != b'/'
        || db[6] != b'/'
        || db[11] != b':'
        || db[20] != b' '
        || !matches!(db[21], b'+' | b'-')
        || !MONTHS.contains(&&date[3..6])
    {
        return Err(format!("bad date '{date}'"));
    }
    let (host, rest) = rest.split_once(' ').ok_or("missing host")?;
    let (proc_pid, rest) = rest.split_once("]: ").ok_or("missing ']: '")?;
    let (process, pid) = proc_pid.rsplit_once('[').ok_or("missing '[pid'")?;
    let pid = pid.parse().map_err(|_| "bad pid".to_owned())?;
    let (category, rest) = rest.split_once(' ').ok_or("missing category")?;
    let (level, text) = rest.split_once(": ").ok_or("missing level")?;
    if !SERVICE_LEVELS.contains(&level) {
        return Err(format!("unknown level '{level}'"));
    }
    Ok(ServiceEntry {
        date: date.to_owned(),
        host: host.to_owned(),
        process: process.to_owned(),
        pid,
        category: category.to_owned(),
        level: level.to_owned(),
        text: text.to_owned(),
    })
}
