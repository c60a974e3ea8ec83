//! Postfix-style mail log (`postfix_logger`): lines that pflogsumm, mailgraph and
//! postfix_exporter read as if Postfix had written them (spec/postfix.md).
//!
//! Every line is `STAMP HOST SYSLOG_NAME/SERVICE[PID]: TEXT\n`. Mail events go to mainlog,
//! `log_error` texts to paniclog. One event always produces whole lines only.
//!
//! # Queue IDs
//!
//! The queue ID of a message is derived from the MTA's message id (`M`, its bytes as the
//! host gave them; an empty id is hashed like any other, as the empty string), so every
//! line about one message carries the same ID, across restarts too:
//!
//! * `H` = 64-bit FNV-1a of `M`: start with `0xcbf29ce484222325`; for each byte,
//!   `H = (H ^ byte) * 0x100000001b3` (wrapping).
//! * Short form (default): the top 40 bits of `H` (`H >> 24`) as exactly 10 upper-case hex
//!   digits, zero-padded (`[0-9A-F]{10}`).
//! * Long form (`long_queue_ids = true`): the digit alphabet is
//!   `0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz` (value 0 first; base 52 uses
//!   all 52 digits, base 51 all but the final `z`). The ID is the message's reception time
//!   (the event's `received` time, which is the same on every line of the message) as
//!   whole seconds since the epoch in base 52, left-padded with `0` to at least 6 digits,
//!   then its microseconds in base 52 as exactly 4 digits, then the letter `z`, then the
//!   low 32 bits of `H` (`H & 0xffffffff`) in base 51 without padding (`0` for zero).
//!   When the reception time is unknown (or before the epoch) the short form is used.
//!
//! # Sanitizing
//!
//! Host-controlled text (HELO, addresses, Message-ID, host names, reply texts, notes and
//! diagnostics) can never add, remove or change a field that pflogsumm or mailgraph reads,
//! and never ends a line. Rule 1 applies to every such value; each value is also written
//! in exactly one of the contexts 2–4:
//!
//! 1. **Everywhere**: control characters (C0, DEL, C1, U+2028, U+2029) and bytes that are
//!    not valid UTF-8 become `?`, one `?` per byte or character. Valid UTF-8 is kept.
//! 2. **Host tokens** (`NAME` and `IP` of `NAME[IP]`, the relay host, the SASL user):
//!    every byte other than an ASCII letter, digit, `.`, `-`, `_`, `:` (and `@`, `+`, `%`,
//!    `/` in the SASL user) becomes `?`; an empty name is written `unknown`.
//! 3. **Bracketed values** (`from=<…>`, `to=<…>`, `orig_to=<…>`, `message-id=<…>`,
//!    `helo=<…>`, the `<object>` of a rejection): `<`, `>` and space become `?` as well, so
//!    a value never leaves its brackets and never contains `: ` or `=<`; and a `=` right
//!    after `status`, or after another of Postfix's field names (`relay`, `dsn`, `delay`,
//!    `size`, `client`, `from`, `to`, `helo`, ...) that starts a word, becomes `?`, so that
//!    no `status=sent` can be read inside an address. Other `=` stay (SRS, BATV and VERP
//!    addresses keep theirs).
//! 4. **Free text** (reply texts, notes, diagnostics): `<` and `>` stay, but a `=` directly
//!    after an ASCII letter, digit, `_` or `-` becomes `?` (no `name=value` field such as
//!    `from=<`, `to=<`, `size=`, `status=` or `client=` can start inside free text); the
//!    colon of `reject:`, `reject_warning:`, `hold:` and `discard:` becomes `?` (no second
//!    rejection header for pflogsumm's greedy reject-detail pattern); and the space in
//!    `forwarded as` becomes `?` (pflogsumm would count a delivery as a forward).
//!
//! # Relay, dsn and reason
//!
//! `relay=NAME[IP]:PORT` (port 25 when unknown) when the MTA talked to a host; `relay=none`
//! when no host is known, for expiries, and for failures whose note has no SMTP reply code
//! (no session). A failure note with a reply code becomes `host NAME[IP] said: NOTE` (plus
//! ` (in reply to CMD command)` when the command is known); one without a code becomes
//! `connect to NAME[IP]:PORT: NOTE` (unless it already starts with `connect to `); delivery
//! and expiry notes are written as they are. `dsn=` is the enhanced code after the reply code, else
//! `5.4.7` for an expiry, `4.4.1`/`5.4.1` for a connection failure, else `2.0.0`, `4.0.0` or
//! `5.0.0` by outcome.
//!
//! # Delays
//!
//! `delay` is the event time minus the reception time (0 when unknown); the hooks carry no
//! finer timing, so `delays=` is `delay/0/0/0`. Numbers follow Postfix's two-digit rule:
//! ≥ 10 s whole seconds, 1–10 s one decimal, < 1 s two decimals, trailing zeros dropped.

use std::path::PathBuf;

use super::{
    FileSpec, FormatContext, Formatter, KindSetup, Level, MONTHS, Out, Target, Zone, civil,
    push_offset_hhmm, push_padded, push_u64, split_severity, strip_one_newline, zone,
};
use crate::config::{ConfigError, Options, err};
use crate::event::{Event, Field, Kind, Timestamp, flags};

/// Default mainlog path.
pub const DEFAULT_MAINLOG: &str = "/var/log/postfix/mainlog";
/// Default paniclog path.
pub const DEFAULT_PANICLOG: &str = "/var/log/postfix/paniclog";

/// Reads postfix_logger's own options (see the README for the list and defaults).
pub fn setup(o: &mut Options<'_>, ctx: &FormatContext) -> Result<KindSetup, ConfigError> {
    let mut files = Vec::with_capacity(2);
    for (target, key, mode_key, default) in [
        (Target::Main, "mainlog", "mainlog_mode", DEFAULT_MAINLOG),
        (Target::Panic, "paniclog", "paniclog_mode", DEFAULT_PANICLOG),
    ] {
        let mode = o.mode(&[mode_key], 0o644)?;
        let path = o.path(key)?.unwrap_or_else(|| PathBuf::from(default));
        files.push(FileSpec { target, path, mode });
    }

    let host = match o.entry(&["myhostname"]) {
        Some(e) => {
            let label = first_label(&e.value);
            if label.is_empty() || !label.bytes().all(is_host_byte) {
                return Err(err(
                    e,
                    "must be a host name (letters, digits, '-' and '_' before the first dot)",
                ));
            }
            label.to_owned()
        }
        None => default_host(&ctx.hostname),
    };

    let syslog_name = match o.entry(&["syslog_name"]) {
        Some(e) => {
            let ok = !e.value.is_empty()
                && e.value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
            if !ok {
                return Err(err(
                    e,
                    "must be letters, digits, '-', '_', '.' and '/' only",
                ));
            }
            e.value.clone()
        }
        None => "postfix".to_owned(),
    };

    let rfc3339 = o.choice("timestamp_style", &["traditional", "rfc3339"], 0)? == 1;
    let pid = o.uint("pid", u64::from(ctx.pid), 0, u64::from(u32::MAX))? as u32;
    let error_as_error = o.choice("error_severity", &["warning", "error"], 0)? == 1;

    let error_service = match o.entry(&["error_service"]) {
        Some(e) => {
            let ok = !e.value.is_empty()
                && e.value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ok {
                return Err(err(e, "must be letters, digits and '-' only"));
            }
            e.value.clone()
        }
        None => "master".to_owned(),
    };

    let long_queue_ids = o.boolean("long_queue_ids", false)?;
    let log_expired_line = o.boolean("log_expired_line", false)?;
    let utc = o.boolean("utc", false)?;

    let settings = Settings {
        host,
        syslog_name,
        rfc3339,
        pid,
        error_as_error,
        error_service,
        long_queue_ids,
        log_expired_line,
        error_default_level: ctx.error_default_level,
    };
    Ok(KindSetup {
        files,
        formatter: Box::new(Postfix::new(settings, zone(utc))),
        heartbeat: None,
        records: false,
    })
}

fn first_label(name: &str) -> &str {
    name.split('.').next().unwrap_or("")
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The host field from the machine's name: first label, odd bytes as `-`, never empty.
fn default_host(hostname: &str) -> String {
    let label: String = first_label(hostname)
        .bytes()
        .map(|b| if is_host_byte(b) { b as char } else { '-' })
        .collect();
    if label.is_empty() {
        "localhost".to_owned()
    } else {
        label
    }
}

/// What the formatter needs, decided at setup.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Host field (first label of `myhostname`).
    pub host: String,
    /// Syslog name (`postfix`).
    pub syslog_name: String,
    /// RFC 3339 stamps instead of traditional ones.
    pub rfc3339: bool,
    /// Process id in every tag.
    pub pid: u32,
    /// Write MTA `error` texts as `error:` (else `warning:`).
    pub error_as_error: bool,
    /// Service of diagnostics with a severity word.
    pub error_service: String,
    /// Long queue IDs.
    pub long_queue_ids: bool,
    /// Write the qmgr `status=expired` line before `removed` on expiry.
    pub log_expired_line: bool,
    /// Level of an error text without a severity prefix.
    pub error_default_level: Level,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            host: "localhost".to_owned(),
            syslog_name: "postfix".to_owned(),
            rfc3339: false,
            pid: 0,
            error_as_error: false,
            error_service: "master".to_owned(),
            long_queue_ids: false,
            log_expired_line: false,
            error_default_level: Level::Error,
        }
    }
}

/// postfix_logger formatter.
pub struct Postfix {
    s: Settings,
    zone: Box<dyn Zone>,
    /// ` HOST SYSLOG_NAME/`
    head: Vec<u8>,
    /// `[PID]: `
    tail: Vec<u8>,
    /// Stamp cache: the second it was made for, and its bytes.
    stamp_sec: i64,
    stamp_valid: bool,
    stamp: Vec<u8>,
}

impl Postfix {
    /// A formatter with `settings`, printing times in `zone`.
    pub fn new(settings: Settings, zone: Box<dyn Zone>) -> Postfix {
        let mut head = Vec::with_capacity(32);
        head.push(b' ');
        head.extend_from_slice(settings.host.as_bytes());
        head.push(b' ');
        head.extend_from_slice(settings.syslog_name.as_bytes());
        head.push(b'/');
        let mut tail = Vec::with_capacity(16);
        tail.push(b'[');
        push_u64(&mut tail, u64::from(settings.pid));
        tail.extend_from_slice(b"]: ");
        Postfix {
            s: settings,
            zone,
            head,
            tail,
            stamp_sec: 0,
            stamp_valid: false,
            stamp: Vec::with_capacity(40),
        }
    }

    /// Appends the time stamp of `t`.
    fn push_stamp(&mut self, buf: &mut Vec<u8>, t: Timestamp) {
        if !self.stamp_valid || self.stamp_sec != t.sec {
            self.stamp.clear();
            let offset = self.zone.offset_at(t.sec);
            let c = civil(t.sec, offset);
            let st = &mut self.stamp;
            if self.s.rfc3339 {
                push_padded(st, c.year.clamp(0, 9999) as u64, 4);
                st.push(b'-');
                push_padded(st, u64::from(c.month), 2);
                st.push(b'-');
                push_padded(st, u64::from(c.day), 2);
                st.push(b'T');
            } else {
                st.extend_from_slice(MONTHS[(c.month - 1) as usize].as_bytes());
                st.push(b' ');
                if c.day < 10 {
                    st.push(b' ');
                }
                push_u64(st, u64::from(c.day));
                st.push(b' ');
            }
            push_padded(st, u64::from(c.hour), 2);
            st.push(b':');
            push_padded(st, u64::from(c.min), 2);
            st.push(b':');
            push_padded(st, u64::from(c.sec), 2);
            self.stamp_sec = t.sec;
            self.stamp_valid = true;
        }
        buf.extend_from_slice(&self.stamp);
        if self.s.rfc3339 {
            buf.push(b'.');
            push_padded(buf, u64::from(t.usec), 6);
            let offset = self.zone.offset_at(t.sec);
            push_offset_hhmm(buf, offset, true);
        }
    }

    /// Appends `STAMP HOST SYSLOG/SERVICE[PID]: `.
    fn start(&mut self, buf: &mut Vec<u8>, t: Timestamp, service: &[u8]) {
        self.push_stamp(buf, t);
        buf.extend_from_slice(&self.head);
        buf.extend_from_slice(service);
        buf.extend_from_slice(&self.tail);
    }

    /// Appends `STAMP HOST SYSLOG/SERVICE[PID]: QID: `.
    fn start_msg(&mut self, buf: &mut Vec<u8>, ev: &Event, service: &[u8], qid: &QueueId) {
        self.start(buf, ev.time, service);
        buf.extend_from_slice(qid.as_bytes());
        buf.extend_from_slice(b": ");
    }

    fn qid(&self, ev: &Event) -> QueueId {
        let id = ev.get(Field::MsgId);
        if self.s.long_queue_ids && ev.has(flags::HAS_RECEIVED) && ev.received.sec >= 0 {
            long_queue_id(id, ev.received)
        } else {
            QueueId::short(id)
        }
    }

    /// Reception: client/pickup, cleanup and qmgr lines.
    pub fn reception(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        let qid = self.qid(ev);
        let sender = strip_brackets(ev.get(Field::MailFrom));
        if ev.has(flags::HAS_ACCEPT) && !is_non_smtp(ev.get(Field::Protocol)) {
            self.start_msg(buf, ev, b"smtpd", &qid);
            buf.extend_from_slice(b"client=");
            push_client(buf, ev);
            let user = ev.get(Field::AcceptAuthUser);
            if !user.is_empty() {
                buf.extend_from_slice(b", sasl_username=");
                push_token(buf, user, true);
            }
        } else {
            self.start_msg(buf, ev, b"pickup", &qid);
            buf.extend_from_slice(b"uid=0 from=<");
            push_bracketed(buf, sender);
            buf.push(b'>');
        }
        buf.push(b'\n');

        self.start_msg(buf, ev, b"cleanup", &qid);
        buf.extend_from_slice(b"message-id=<");
        push_bracketed(buf, strip_brackets(ev.get(Field::MessageIdHeader)));
        buf.extend_from_slice(b">\n");

        self.start_msg(buf, ev, b"qmgr", &qid);
        buf.extend_from_slice(b"from=<");
        push_bracketed(buf, sender);
        buf.extend_from_slice(b">, size=");
        push_u64(buf, ev.size);
        buf.extend_from_slice(b", nrcpt=");
        push_u64(buf, u64::from(ev.nrcpt.max(1)));
        buf.extend_from_slice(b" (queue active)\n");
    }

    /// Delivery, transient and permanent failure: the delivery-result line, then the
    /// qmgr lines that end the message.
    pub fn result(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        let qid = self.qid(ev);
        let note = strip_one_newline(ev.get(Field::Note));
        let reply = reply_code(note);
        let enhanced = reply.and_then(|_| enhanced_code(note.get(4..).unwrap_or(b"")));
        let mx_host = ev.get(Field::MxHost);
        let mx_ip = ev.get(Field::MxIp);
        let mx_known = !mx_host.is_empty() || !mx_ip.is_empty();
        let port = if ev.mx_port == 0 { 25 } else { ev.mx_port };
        let expired = ev.kind == Kind::PermanentFailure && is_expiry(note);

        let (status, class): (&[u8], u8) = match ev.kind {
            Kind::Delivery => (b"sent", b'2'),
            Kind::TransientFailure => (b"deferred", b'4'),
            _ => (b"bounced", b'5'),
        };
        // How REASON is built, and whether a session with the relay existed.
        #[derive(PartialEq)]
        enum Reason {
            Plain,
            Said,
            Connect,
        }
        let reason = if ev.kind == Kind::Delivery || expired || !mx_known {
            Reason::Plain
        } else if reply.is_some() {
            Reason::Said
        } else if note.starts_with(b"connect to ") {
            Reason::Plain
        } else {
            Reason::Connect
        };
        let relay_none = !mx_known || expired || (ev.kind != Kind::Delivery && reply.is_none());

        self.start_msg(buf, ev, b"smtp", &qid);
        buf.extend_from_slice(b"to=<");
        let rcpt = strip_brackets(ev.get(Field::RcptTo));
        push_bracketed(buf, rcpt);
        buf.push(b'>');
        let orig = strip_brackets(ev.get(Field::Orcpt));
        if !orig.is_empty() && orig != rcpt {
            buf.extend_from_slice(b", orig_to=<");
            push_bracketed(buf, orig);
            buf.push(b'>');
        }
        buf.extend_from_slice(b", relay=");
        if relay_none {
            buf.extend_from_slice(b"none");
        } else {
            push_host(buf, mx_host, mx_ip);
            buf.push(b':');
            push_u64(buf, u64::from(port));
        }
        let micros = if ev.has(flags::HAS_RECEIVED) {
            ev.time.micros_since(ev.received)
        } else {
            0
        };
        buf.extend_from_slice(b", delay=");
        push_delay(buf, micros);
        buf.extend_from_slice(b", delays=");
        push_delay(buf, micros);
        buf.extend_from_slice(b"/0/0/0, dsn=");
        match enhanced {
            Some(code) => buf.extend_from_slice(code),
            None if expired => buf.extend_from_slice(b"5.4.7"),
            None if reason == Reason::Connect || (relay_none && mx_known && !expired) => {
                buf.extend_from_slice(&[class, b'.', b'4', b'.', b'1'])
            }
            None => buf.extend_from_slice(&[class, b'.', b'0', b'.', b'0']),
        }
        buf.extend_from_slice(b", status=");
        buf.extend_from_slice(status);
        buf.extend_from_slice(b" (");
        match reason {
            Reason::Plain => push_text(buf, note),
            Reason::Said => {
                buf.extend_from_slice(b"host ");
                push_host(buf, mx_host, mx_ip);
                buf.extend_from_slice(b" said: ");
                push_text(buf, note);
                let cmd = ev.get(Field::SmtpCommand);
                if !cmd.is_empty() {
                    buf.extend_from_slice(b" (in reply to ");
                    push_text(buf, cmd);
                    buf.extend_from_slice(b" command)");
                }
            }
            Reason::Connect => {
                buf.extend_from_slice(b"connect to ");
                push_host(buf, mx_host, mx_ip);
                buf.push(b':');
                push_u64(buf, u64::from(port));
                buf.extend_from_slice(b": ");
                push_text(buf, note);
            }
        }
        buf.extend_from_slice(b")\n");

        if ev.kind == Kind::TransientFailure {
            return;
        }
        if expired && self.s.log_expired_line {
            self.start_msg(buf, ev, b"qmgr", &qid);
            buf.extend_from_slice(b"from=<");
            push_bracketed(buf, strip_brackets(ev.get(Field::MailFrom)));
            buf.extend_from_slice(b">, status=expired, returned to sender\n");
        }
        self.start_msg(buf, ev, b"qmgr", &qid);
        buf.extend_from_slice(b"removed\n");
    }

    /// Rejection: one smtpd `reject:` line.
    pub fn rejection(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        let msg_id = ev.get(Field::MsgId);
        let sender = strip_brackets(ev.get(Field::VMailFrom));
        let rcpt = strip_brackets(ev.get(Field::VRcptTo));
        let helo = ev.get(Field::Helo);
        let esmtp = ev.has(flags::ESMTP);
        let stage = if !msg_id.is_empty() {
            Stage::EndOfMessage
        } else {
            stage_of(ev.phase, sender, rcpt, helo)
        };

        self.start(buf, ev.time, b"smtpd");
        if msg_id.is_empty() {
            buf.extend_from_slice(b"NOQUEUE");
        } else {
            buf.extend_from_slice(self.qid(ev).as_bytes());
        }
        buf.extend_from_slice(b": reject: ");
        buf.extend_from_slice(match stage {
            Stage::Connect => b"CONNECT",
            Stage::Helo if esmtp || helo.is_empty() => b"EHLO",
            Stage::Helo => b"HELO",
            Stage::Mail => b"MAIL",
            Stage::Rcpt => b"RCPT",
            Stage::Data => b"DATA",
            Stage::EndOfMessage => b"END-OF-MESSAGE",
        });
        buf.extend_from_slice(b" from ");
        push_client(buf, ev);
        buf.extend_from_slice(b": ");

        // REPLY: code, enhanced code, optional <object>: , explanation.
        let text = strip_one_newline(ev.get(Field::Note));
        let (code, rest) = match reply_code(text) {
            Some(c) => (
                c,
                skip_spaces(text[3..].strip_prefix(b"-").unwrap_or(&text[3..])),
            ),
            None => (default_code(ev.code), skip_spaces(text)),
        };
        push_u64(buf, u64::from(code));
        buf.push(b' ');
        let rest = match enhanced_code(rest) {
            Some(e) => {
                push_text(buf, e);
                skip_spaces(&rest[e.len()..])
            }
            None => {
                buf.extend_from_slice(if code < 500 { b"4.7.1" } else { b"5.7.1" });
                rest
            }
        };
        buf.push(b' ');
        if !rest.starts_with(b"<") {
            match reject_object(stage, rest, sender, rcpt, helo) {
                Some(Object::Client) => {
                    buf.push(b'<');
                    push_client(buf, ev);
                    buf.extend_from_slice(b">: ");
                }
                Some(Object::Value(v)) => {
                    buf.push(b'<');
                    push_bracketed(buf, v);
                    buf.extend_from_slice(b">: ");
                }
                None => {}
            }
        }
        if rest.is_empty() {
            buf.extend_from_slice(b"Access denied");
        } else {
            push_text(buf, rest);
        }

        buf.push(b';');
        let with_from = stage >= Stage::Mail || !sender.is_empty();
        if with_from {
            buf.extend_from_slice(b" from=<");
            push_bracketed(buf, sender);
            buf.push(b'>');
        }
        if !rcpt.is_empty() {
            buf.extend_from_slice(b" to=<");
            push_bracketed(buf, rcpt);
            buf.push(b'>');
        }
        // ESMTP once the client said EHLO; before its greeting, SMTP.
        buf.extend_from_slice(if esmtp && stage != Stage::Connect {
            b" proto=ESMTP"
        } else {
            b" proto=SMTP"
        });
        if !helo.is_empty() {
            buf.extend_from_slice(b" helo=<");
            push_bracketed(buf, helo);
            buf.push(b'>');
        }
        buf.push(b'\n');
    }

    /// Error: one paniclog line with the Postfix severity word.
    pub fn error(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        let text = strip_one_newline(ev.get(Field::Note));
        let (level, text, _) = split_severity(text, self.s.error_default_level);
        let word: &[u8] = match level {
            Level::Debug | Level::Info | Level::Notice => b"",
            Level::Warning => b"warning: ",
            Level::Error if self.s.error_as_error => b"error: ",
            Level::Error => b"warning: ",
            Level::Critical | Level::Fatal => b"fatal: ",
            Level::Panic => b"panic: ",
        };
        if word.is_empty() {
            self.start(buf, ev.time, b"postlog");
        } else {
            self.push_stamp(buf, ev.time);
            buf.extend_from_slice(&self.head);
            buf.extend_from_slice(self.s.error_service.as_bytes());
            buf.extend_from_slice(&self.tail);
            buf.extend_from_slice(word);
        }
        push_text(buf, text);
        buf.push(b'\n');
    }
}

impl Formatter for Postfix {
    fn format(&mut self, ev: &Event, out: &mut Out) {
        match ev.kind {
            Kind::Reception => self.reception(ev, out.buf(Target::Main)),
            Kind::Delivery | Kind::TransientFailure | Kind::PermanentFailure => {
                self.result(ev, out.buf(Target::Main))
            }
            Kind::Rejection => self.rejection(ev, out.buf(Target::Main)),
            Kind::Error => self.error(ev, out.buf(Target::Panic)),
            Kind::Attempt | Kind::Acct | Kind::Import => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// Queue IDs

/// A queue ID (at most 24 ASCII bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueId {
    bytes: [u8; 24],
    len: u8,
}

impl QueueId {
    /// The short form for a message id.
    pub fn short(msg_id: &[u8]) -> QueueId {
        let mut q = QueueId {
            bytes: [0; 24],
            len: 10,
        };
        q.bytes[..10].copy_from_slice(&queue_id(msg_id));
        q
    }

    /// The ID's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The ID as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl std::fmt::Debug for QueueId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 64-bit FNV-1a.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The short queue ID of a message id: the top 40 bits of its FNV-1a hash as 10
/// upper-case hex digits.
pub fn queue_id(msg_id: &[u8]) -> [u8; 10] {
    let top = fnv1a64(msg_id) >> 24;
    let mut out = [b'0'; 10];
    for (i, o) in out.iter_mut().enumerate() {
        *o = super::HEX_UPPER[((top >> (36 - 4 * i)) & 15) as usize];
    }
    out
}

/// Digits of Postfix's long queue IDs (base 52; base 51 omits the final `z`).
pub const LONG_ID_DIGITS: &[u8; 52] = b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

fn push_base(out: &mut QueueId, mut n: u64, base: u64, min_width: usize) {
    let mut tmp = [b'0'; 16];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = LONG_ID_DIGITS[(n % base) as usize];
        n /= base;
        if n == 0 {
            break;
        }
    }
    while tmp.len() - i < min_width {
        i -= 1;
        tmp[i] = b'0';
    }
    let digits = &tmp[i..];
    let start = out.len as usize;
    out.bytes[start..start + digits.len()].copy_from_slice(digits);
    out.len += digits.len() as u8;
}

/// The long queue ID of a message id received at `received` (see the module doc).
pub fn long_queue_id(msg_id: &[u8], received: Timestamp) -> QueueId {
    let mut q = QueueId {
        bytes: [0; 24],
        len: 0,
    };
    push_base(&mut q, received.sec.max(0) as u64, 52, 6);
    push_base(&mut q, u64::from(received.usec % 1_000_000), 52, 4);
    q.bytes[q.len as usize] = b'z';
    q.len += 1;
    push_base(&mut q, fnv1a64(msg_id) & 0xffff_ffff, 51, 1);
    q
}

// ---------------------------------------------------------------------------------------
// Numbers

/// Appends a duration in Postfix's delay format.
pub fn push_delay(buf: &mut Vec<u8>, micros: u64) {
    if micros >= 10_000_000 {
        push_u64(buf, micros.saturating_add(500_000) / 1_000_000);
    } else if micros >= 1_000_000 {
        let tenths = (micros + 50_000) / 100_000;
        push_u64(buf, tenths / 10);
        if tenths % 10 != 0 {
            buf.push(b'.');
            buf.push(b'0' + (tenths % 10) as u8);
        }
    } else {
        let hundredths = (micros + 5_000) / 10_000;
        if hundredths >= 100 {
            buf.push(b'1');
        } else if hundredths == 0 {
            buf.push(b'0');
        } else {
            buf.extend_from_slice(b"0.");
            buf.push(b'0' + (hundredths / 10) as u8);
            if hundredths % 10 != 0 {
                buf.push(b'0' + (hundredths % 10) as u8);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Text

/// Calls `f` for each character of `bytes`: `Some(c)` for a valid, printable character
/// (with its bytes), `None` for a control character or an invalid byte (to write as `?`).
fn for_each_char(bytes: &[u8], mut f: impl FnMut(Option<char>, &[u8])) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut i = 0;
        for c in valid.chars() {
            let n = c.len_utf8();
            let raw = &valid.as_bytes()[i..i + n];
            i += n;
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                f(None, raw);
            } else {
                f(Some(c), raw);
            }
        }
        for _ in chunk.invalid() {
            f(None, b"?");
        }
    }
}

/// Postfix's field names, which log readers match as `name=` at the start of a word (as
/// mailgraph's `\bstatus=sent\b`).
const FIELD_NAMES: [&[u8]; 18] = [
    b"status",
    b"relay",
    b"dsn",
    b"delay",
    b"delays",
    b"size",
    b"nrcpt",
    b"client",
    b"from",
    b"to",
    b"orig_to",
    b"helo",
    b"proto",
    b"message-id",
    b"conn_use",
    b"sasl_method",
    b"sasl_username",
    b"sasl_sender",
];

/// Does `written` end with a field name that starts a word, or with `status` (which an
/// operator's `grep status=sent` finds anywhere)?
fn ends_with_field_name(written: &[u8]) -> bool {
    FIELD_NAMES.iter().any(|name| {
        let Some(at) = written.len().checked_sub(name.len()) else {
            return false;
        };
        written[at..].eq_ignore_ascii_case(name)
            && (at == 0 || *name == b"status" || {
                let b = written[at - 1];
                !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            })
    })
}

/// Calls `f` as [`for_each_char`] does, for the characters of `bytes` that are not
/// printable ASCII for which `plain` holds; runs of those are copied to `buf` as they are
/// (what `f` does with them), in one go. The characters `f` sees are split off at ASCII
/// bytes only, which never belong to a multi-byte character or to an invalid sequence, so
/// the output is the same as `for_each_char` over the whole.
fn for_each_special(
    buf: &mut Vec<u8>,
    bytes: &[u8],
    plain: impl Fn(u8) -> bool,
    mut f: impl FnMut(&mut Vec<u8>, Option<char>, &[u8]),
) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let i = rest
            .iter()
            .position(|&b| !(b' '..=b'~').contains(&b) || !plain(b))
            .unwrap_or(rest.len());
        buf.extend_from_slice(&rest[..i]);
        rest = &rest[i..];
        let Some(&b) = rest.first() else { break };
        if b.is_ascii() {
            // What `for_each_char` makes of one ASCII byte.
            let c = (b' '..=b'~').contains(&b).then_some(b as char);
            f(buf, c, &rest[..1]);
            rest = &rest[1..];
            continue;
        }
        let j = rest.iter().position(u8::is_ascii).unwrap_or(rest.len());
        for_each_char(&rest[..j], |c, raw| f(buf, c, raw));
        rest = &rest[j..];
    }
}

/// One character of a bracketed value written from `start` on (context 3).
fn bracketed_char(buf: &mut Vec<u8>, start: usize, c: Option<char>, raw: &[u8]) {
    match c {
        Some('<' | '>' | ' ') | None => buf.push(b'?'),
        Some('=') if ends_with_field_name(&buf[start..]) => buf.push(b'?'),
        Some(_) => buf.extend_from_slice(raw),
    }
}

/// Appends a bracketed value (context 3 of the module doc).
pub fn push_bracketed(buf: &mut Vec<u8>, bytes: &[u8]) {
    let start = buf.len();
    let plain = |b: u8| !matches!(b, b'<' | b'>' | b' ' | b'=');
    for_each_special(buf, bytes, plain, |buf, c, raw| {
        bracketed_char(buf, start, c, raw)
    });
}

/// Bytes allowed in a host token (bit 1) and in a user token (bit 2).
const TOKEN_OK: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':') {
            t[b] = 3;
        } else if matches!(c, b'@' | b'+' | b'%' | b'/') {
            t[b] = 2;
        }
        b += 1;
    }
    t
};

/// Appends a host token (context 2 of the module doc); `user` allows `@`, `+`, `%`, `/`.
pub fn push_token(buf: &mut Vec<u8>, bytes: &[u8], user: bool) {
    let mask = if user { 2 } else { 1 };
    let mut rest = bytes;
    while let Some(i) = rest.iter().position(|&b| TOKEN_OK[b as usize] & mask == 0) {
        buf.extend_from_slice(&rest[..i]);
        buf.push(b'?');
        rest = &rest[i + 1..];
    }
    buf.extend_from_slice(rest);
}

/// One character of free text written from `start` on (context 4).
fn text_char(buf: &mut Vec<u8>, start: usize, c: Option<char>, raw: &[u8]) {
    match c {
        None => buf.push(b'?'),
        Some('=') => {
            let prev = if buf.len() > start {
                buf[buf.len() - 1]
            } else {
                b' '
            };
            let word = prev.is_ascii_alphanumeric() || prev == b'_' || prev == b'-';
            buf.push(if word { b'?' } else { b'=' });
        }
        Some(':') => {
            let written = &buf[start..];
            let action = [&b"reject"[..], b"reject_warning", b"hold", b"discard"]
                .iter()
                .any(|w| written.ends_with(w));
            buf.push(if action { b'?' } else { b':' });
        }
        Some(' ') => {
            let written = &buf[start..];
            let forward = written.len() >= 12
                && written[written.len() - 12..].eq_ignore_ascii_case(b"forwarded as");
            buf.push(if forward { b'?' } else { b' ' });
        }
        Some(_) => buf.extend_from_slice(raw),
    }
}

/// Appends free text (context 4 of the module doc).
pub fn push_text(buf: &mut Vec<u8>, bytes: &[u8]) {
    let start = buf.len();
    let plain = |b: u8| !matches!(b, b'=' | b':' | b' ');
    for_each_special(buf, bytes, plain, |buf, c, raw| {
        text_char(buf, start, c, raw)
    });
}

/// Appends `NAME[IP]` for a relay (`unknown` for a missing part).
fn push_host(buf: &mut Vec<u8>, name: &[u8], ip: &[u8]) {
    let name = if name.is_empty() { ip } else { name };
    push_token(buf, if name.is_empty() { b"unknown" } else { name }, false);
    buf.push(b'[');
    push_token(buf, if ip.is_empty() { b"unknown" } else { ip }, false);
    buf.push(b']');
}

/// Appends the client `NAME[IP]` of an event.
fn push_client(buf: &mut Vec<u8>, ev: &Event) {
    let name = ev.get(Field::PeerName);
    push_token(buf, if name.is_empty() { b"unknown" } else { name }, false);
    buf.push(b'[');
    let ip = ev.get(Field::PeerIp);
    push_token(buf, if ip.is_empty() { b"unknown" } else { ip }, false);
    buf.push(b']');
}

/// Removes one pair of enclosing angle brackets.
fn strip_brackets(a: &[u8]) -> &[u8] {
    match a {
        [b'<', inner @ .., b'>'] => inner,
        _ => a,
    }
}

fn skip_spaces(mut t: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = t {
        t = rest;
    }
    t
}

/// Protocols that are not SMTP receptions (written as `pickup`).
fn is_non_smtp(proto: &[u8]) -> bool {
    [&b"rest"[..], b"http", b"internal", b"local"]
        .iter()
        .any(|p| proto.eq_ignore_ascii_case(p))
}

/// The 3-digit reply code at the start of `note` (followed by space, `-` or the end).
fn reply_code(note: &[u8]) -> Option<u16> {
    match note {
        [a @ b'2'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9', rest @ ..]
            if matches!(rest.first(), None | Some(b' ' | b'-')) =>
        {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// The enhanced status code (`X.Y.Z`) at the start of `t`, ending at a space or the end.
fn enhanced_code(t: &[u8]) -> Option<&[u8]> {
    let end = t.iter().position(|&b| b == b' ').unwrap_or(t.len());
    let code = &t[..end];
    let mut parts = code.split(|&b| b == b'.');
    let class = parts.next()?;
    let subject = parts.next()?;
    let detail = parts.next()?;
    let ok = parts.next().is_none()
        && matches!(class, [b'2' | b'4' | b'5'])
        && (1..=3).contains(&subject.len())
        && (1..=3).contains(&detail.len())
        && subject.iter().chain(detail).all(u8::is_ascii_digit);
    ok.then_some(code)
}

/// Does a permanent-failure note describe an expiry?
fn is_expiry(note: &[u8]) -> bool {
    contains_ignore_case(note, b"expired") || contains_ignore_case(note, b"too old")
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The reply code of a rejection whose text has none: the event's code when it is a
/// 4xx/5xx code, else 554.
fn default_code(code: i32) -> u16 {
    match code {
        400..=599 => code as u16,
        _ => 554,
    }
}

/// SMTP stage of a rejection, in session order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Connect,
    Helo,
    Mail,
    Rcpt,
    Data,
    EndOfMessage,
}

/// The stage of an `MC_STATE_*` phase; other phases give the latest stage the session
/// reached, judged by what is known.
fn stage_of(phase: i32, sender: &[u8], rcpt: &[u8], helo: &[u8]) -> Stage {
    match phase {
        0 | 1 | 18 => Stage::Connect,
        2 | 3 => Stage::Helo,
        4 | 5 => Stage::Mail,
        6 | 7 | 13 | 19 | 20 => Stage::Rcpt,
        8 => Stage::Data,
        // Reading the body, its response, the asynchronous body handler and its response.
        9..=12 => Stage::EndOfMessage,
        _ if !rcpt.is_empty() => Stage::Rcpt,
        _ if !sender.is_empty() => Stage::Mail,
        _ if !helo.is_empty() => Stage::Helo,
        _ => Stage::Connect,
    }
}

enum Object<'a> {
    Client,
    Value(&'a [u8]),
}

/// Which `<object>: ` goes before a rejection's explanation: named by the explanation
/// (`Client host rejected`, `Sender address rejected`, `Helo command rejected`,
/// `Recipient address rejected`), else by stage (CONNECT: the client, EHLO/HELO: the HELO
/// name, RCPT: the recipient), when known.
fn reject_object<'a>(
    stage: Stage,
    text: &[u8],
    sender: &'a [u8],
    rcpt: &'a [u8],
    helo: &'a [u8],
) -> Option<Object<'a>> {
    if text.starts_with(b"Client host rejected") {
        return Some(Object::Client);
    }
    if text.starts_with(b"Sender address rejected") {
        return Some(Object::Value(sender));
    }
    if text.starts_with(b"Helo command rejected") && !helo.is_empty() {
        return Some(Object::Value(helo));
    }
    if text.starts_with(b"Recipient address rejected") && !rcpt.is_empty() {
        return Some(Object::Value(rcpt));
    }
    match stage {
        Stage::Connect => Some(Object::Client),
        Stage::Helo if !helo.is_empty() => Some(Object::Value(helo)),
        Stage::Rcpt if !rcpt.is_empty() => Some(Object::Value(rcpt)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Entry;
    use crate::event::build;
    use crate::format::FixedZone;

    /// Byte strings of pieces that each sanitizer treats specially (and plain ones), made
    /// from a fixed xorshift sequence.
    fn tricky_inputs() -> Vec<Vec<u8>> {
        let pieces: [&[u8]; 22] = [
            b"a",
            b"Z9",
            b".-_",
            b"status",
            b"relay",
            b"reject",
            b"forwarded as",
            b"=",
            b":",
            b" ",
            b"<",
            b">",
            b"@",
            b"\n",
            b"\x7f",
            b"\xff",
            b"\xc3\xa9",
            b"\xc3",
            b"\xe2\x80\xa8",
            b"\xf0\x9f\x93\xa7",
            b"\x80\x80",
            b"x=y",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..5000)
            .map(|_| {
                let n = next() % 12;
                (0..n)
                    .flat_map(|_| pieces[(next() % pieces.len() as u64) as usize].to_vec())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn sanitizers_copy_plain_runs_with_the_same_output_as_char_by_char() {
        for input in tricky_inputs() {
            for prefix in [&b""[..], b"to=<", b"status"] {
                let mut want = prefix.to_vec();
                for_each_char(&input, |c, raw| {
                    bracketed_char(&mut want, prefix.len(), c, raw)
                });
                let mut got = prefix.to_vec();
                push_bracketed(&mut got, &input);
                assert_eq!(got, want, "bracketed {input:?}");

                let mut want = prefix.to_vec();
                for_each_char(&input, |c, raw| text_char(&mut want, prefix.len(), c, raw));
                let mut got = prefix.to_vec();
                push_text(&mut got, &input);
                assert_eq!(got, want, "text {input:?}");
            }
            for user in [false, true] {
                let want: Vec<u8> = input
                    .iter()
                    .map(|&b| {
                        let ok = b.is_ascii_alphanumeric()
                            || b".-_:".contains(&b)
                            || (user && b"@+%/".contains(&b));
                        if ok { b } else { b'?' }
                    })
                    .collect();
                let mut got = Vec::new();
                push_token(&mut got, &input, user);
                assert_eq!(got, want, "token {input:?}");
            }
        }
    }

    fn opts(pairs: &[(&str, &str)]) -> Vec<Entry> {
        pairs
            .iter()
            .enumerate()
            .map(|(i, (k, v))| Entry {
                key: (*k).into(),
                value: (*v).into(),
                line: i + 1,
            })
            .collect()
    }

    fn ctx() -> FormatContext {
        FormatContext {
            error_default_level: Level::Error,
            pid: 99,
            hostname: "mx.example.test".into(),
        }
    }

    fn setup_with(pairs: &[(&str, &str)]) -> Result<KindSetup, ConfigError> {
        let entries = opts(pairs);
        let mut o = Options::new(&entries);
        let r = setup(&mut o, &ctx());
        if r.is_ok() {
            o.finish()?;
        }
        r
    }

    fn fmt(s: Settings, ev: &Event) -> (String, String) {
        let mut f = Postfix::new(s, Box::new(FixedZone(0)));
        let mut out = Out::default();
        f.format(ev, &mut out);
        (
            String::from_utf8(out.bufs[Target::Main as usize].clone()).unwrap(),
            String::from_utf8(out.bufs[Target::Panic as usize].clone()).unwrap(),
        )
    }

    fn settings() -> Settings {
        Settings {
            host: "mx".into(),
            pid: 7,
            ..Settings::default()
        }
    }

    #[test]
    fn defaults_and_files() {
        let k = setup_with(&[]).unwrap();
        assert!(!k.records && k.heartbeat.is_none());
        assert_eq!(
            k.files,
            vec![
                FileSpec {
                    target: Target::Main,
                    path: DEFAULT_MAINLOG.into(),
                    mode: 0o644
                },
                FileSpec {
                    target: Target::Panic,
                    path: DEFAULT_PANICLOG.into(),
                    mode: 0o644
                },
            ]
        );
        let k = setup_with(&[
            ("mainlog", "/tmp/m"),
            ("mainlog_mode", "0600"),
            ("paniclog", "/tmp/p"),
            ("paniclog_mode", "0640"),
            ("myhostname", "relay.example.test"),
            ("syslog_name", "postfix"),
            ("timestamp_style", "rfc3339"),
            ("pid", "12"),
            ("error_severity", "error"),
            ("error_service", "qmgr"),
            ("long_queue_ids", "yes"),
            ("log_expired_line", "true"),
            ("utc", "true"),
        ])
        .unwrap();
        assert_eq!(k.files[0].mode, 0o600);
        assert_eq!(k.files[1].path, PathBuf::from("/tmp/p"));
        let mut f = k.formatter;
        let mut ev = build(Kind::Error, vec![(Field::Note, b"oops")]);
        ev.time = Timestamp { sec: 0, usec: 5 };
        let mut out = Out::default();
        f.format(&ev, &mut out);
        assert_eq!(
            out.bufs[Target::Panic as usize],
            b"1970-01-01T00:00:00.000005+00:00 relay postfix/qmgr[12]: error: oops\n"
        );
    }

    #[test]
    fn bad_options_are_refused() {
        for bad in [
            ("myhostname", ""),
            ("myhostname", "a b"),
            ("myhostname", ".x"),
            ("syslog_name", "post fix"),
            ("syslog_name", ""),
            ("error_service", "a/b"),
            ("timestamp_style", "iso"),
            ("error_severity", "fatal"),
            ("pid", "-1"),
        ] {
            let e = setup_with(&[bad])
                .err()
                .unwrap_or_else(|| panic!("{bad:?}"));
            assert_eq!(e.key.as_deref(), Some(bad.0));
        }
        assert_eq!(default_host(""), "localhost");
        assert_eq!(default_host("mx.example.test"), "mx");
        assert_eq!(default_host("a b.c"), "a-b");
    }

    fn delay(us: u64) -> String {
        let mut v = Vec::new();
        push_delay(&mut v, us);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn delay_numbers_follow_postfix() {
        for (us, s) in [
            (0, "0"),
            (4_999, "0"),
            (5_000, "0.01"),
            (70_000, "0.07"),
            (600_000, "0.6"),
            (540_000, "0.54"),
            (996_000, "1"),
            (1_200_000, "1.2"),
            (3_000_000, "3"),
            (9_960_000, "10"),
            (10_000_000, "10"),
            (38_400_000, "38"),
            (86_415_000_000, "86415"),
        ] {
            assert_eq!(delay(us), s, "{us}");
        }
    }

    #[test]
    fn delay_of_a_reception_time_far_in_the_past_does_not_overflow() {
        // The host's reception time is any timeval: the delay may be up to u64::MAX µs.
        assert_eq!(delay(u64::MAX), "18446744073709");
        assert_eq!(delay(u64::MAX - 499_999), "18446744073709");
    }

    #[test]
    fn severities() {
        let cases: [(&[u8], &str); 8] = [
            (b"debug: d\n", "postfix/postlog[7]: d\n"),
            (b"info: i", "postfix/postlog[7]: i\n"),
            (b"notice: n", "postfix/postlog[7]: n\n"),
            (b"warning: w", "postfix/master[7]: warning: w\n"),
            (b"plain text", "postfix/master[7]: warning: plain text\n"),
            (b"critical: c", "postfix/master[7]: fatal: c\n"),
            (b"fatal: f", "postfix/master[7]: fatal: f\n"),
            (b"panic: p\r\n", "postfix/master[7]: panic: p\n"),
        ];
        for (text, want) in cases {
            let ev = build(Kind::Error, vec![(Field::Note, text)]);
            let (main, panic) = fmt(settings(), &ev);
            assert!(main.is_empty());
            assert_eq!(&panic["Jan  1 00:00:00 mx ".len()..], want);
        }
        let ev = build(Kind::Error, vec![(Field::Note, b"line1\nline2\n")]);
        assert!(fmt(settings(), &ev).1.ends_with("warning: line1?line2\n"));
    }

    #[test]
    fn attempts_and_records_write_nothing() {
        for kind in [Kind::Attempt, Kind::Acct, Kind::Import] {
            let (m, p) = fmt(settings(), &build(kind, vec![(Field::Note, b"x")]));
            assert!(m.is_empty() && p.is_empty());
        }
    }

    #[test]
    fn pickup_and_sasl_receptions() {
        let mut ev = build(
            Kind::Reception,
            vec![
                (Field::MsgId, b"m"),
                (Field::MailFrom, b"root"),
                (Field::PeerIp, b"2001:db8::1"),
                (Field::Protocol, b"REST"),
                (Field::AcceptAuthUser, b"bob@x, y"),
            ],
        );
        ev.flags |= flags::HAS_ACCEPT;
        let (m, _) = fmt(settings(), &ev);
        let q = QueueId::short(b"m");
        let q = q.as_str();
        assert_eq!(
            m,
            format!(
                "Jan  1 00:00:00 mx postfix/pickup[7]: {q}: uid=0 from=<root>\n\
                 Jan  1 00:00:00 mx postfix/cleanup[7]: {q}: message-id=<>\n\
                 Jan  1 00:00:00 mx postfix/qmgr[7]: {q}: from=<root>, size=0, nrcpt=1 (queue active)\n"
            )
        );
        let mut ev = build(
            Kind::Reception,
            vec![
                (Field::MsgId, b"m"),
                (Field::PeerIp, b"2001:db8::1"),
                (Field::AcceptAuthUser, b"bob@x, y"),
            ],
        );
        ev.flags |= flags::HAS_ACCEPT;
        ev.nrcpt = 3;
        let (m, _) = fmt(settings(), &ev);
        assert!(m.contains(": client=unknown[2001:db8::1], sasl_username=bob@x??y\n"));
        assert!(m.contains("from=<>, size=0, nrcpt=3 (queue active)\n"));
    }

    #[test]
    fn expiry_line_and_orig_to() {
        let mut ev = build(
            Kind::PermanentFailure,
            vec![
                (Field::MsgId, b"m"),
                (Field::MailFrom, b"s@x"),
                (Field::RcptTo, b"r@y"),
                (Field::Orcpt, b"<o@y>"),
                (Field::MxHost, b"mx.y"),
                (Field::MxIp, b"192.0.2.1"),
                (Field::Note, b"Message too old"),
            ],
        );
        ev.time = Timestamp { sec: 100, usec: 0 };
        let s = Settings {
            log_expired_line: true,
            ..settings()
        };
        let (m, _) = fmt(s, &ev);
        let lines: Vec<&str> = m.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].ends_with(
            ": to=<r@y>, orig_to=<o@y>, relay=none, delay=0, delays=0/0/0/0, dsn=5.4.7, status=bounced (Message too old)"
        ));
        assert!(lines[1].ends_with(": from=<s@x>, status=expired, returned to sender"));
        assert!(lines[2].ends_with(": removed"));
        // Same original recipient: no orig_to; default is no expired line.
        let mut ev = build(
            Kind::PermanentFailure,
            vec![
                (Field::RcptTo, b"r@y"),
                (Field::Orcpt, b"r@y"),
                (Field::Note, b"expired"),
            ],
        );
        ev.time = Timestamp { sec: 100, usec: 0 };
        let (m, _) = fmt(settings(), &ev);
        assert_eq!(m.lines().count(), 2);
        assert!(!m.contains("orig_to"));
    }

    #[test]
    fn rejection_stages() {
        type Case = (
            i32,
            &'static [u8],
            &'static [u8],
            &'static [u8],
            u8,
            &'static str,
        );
        let cases: [Case; 9] = [
            (3, b"", b"", b"pc", 0, "HELO"),
            (2, b"", b"", b"pc", flags::ESMTP, "EHLO"),
            (18, b"", b"", b"", 0, "CONNECT"),
            (13, b"s@x", b"r@y", b"h", 0, "RCPT"),
            (8, b"s@x", b"r@y", b"h", 0, "DATA"),
            (9, b"s@x", b"r@y", b"h", 0, "END-OF-MESSAGE"),
            (11, b"s@x", b"r@y", b"h", 0, "END-OF-MESSAGE"),
            (12, b"s@x", b"r@y", b"h", 0, "END-OF-MESSAGE"),
            (14, b"s@x", b"", b"h", 0, "MAIL"),
        ];
        for (phase, from, to, helo, fl, stage) in cases {
            let mut ev = build(
                Kind::Rejection,
                vec![
                    (Field::PeerIp, b"192.0.2.1"),
                    (Field::Helo, helo),
                    (Field::VMailFrom, from),
                    (Field::VRcptTo, to),
                    (Field::Note, b"550 no"),
                ],
            );
            ev.phase = phase;
            ev.flags = fl;
            let (m, _) = fmt(settings(), &ev);
            assert!(
                m.contains(&format!(
                    ": NOQUEUE: reject: {stage} from unknown[192.0.2.1]: 550 5.7.1 "
                )),
                "{phase}: {m}"
            );
        }
        // Before its greeting the client has said neither HELO nor EHLO: proto=SMTP, even on
        // a listener whose sessions are ESMTP.
        let mut ev = build(
            Kind::Rejection,
            vec![(Field::PeerIp, b"192.0.2.1"), (Field::Note, b"554 go away")],
        );
        ev.phase = 0;
        ev.flags = flags::ESMTP;
        let (m, _) = fmt(settings(), &ev);
        assert!(
            m.ends_with(
                ": NOQUEUE: reject: CONNECT from unknown[192.0.2.1]: 554 5.7.1 <unknown[192.0.2.1]>: go away; proto=SMTP\n"
            ),
            "{m}"
        );
        ev.phase = 6;
        let (m, _) = fmt(settings(), &ev);
        assert!(m.contains(" proto=ESMTP"), "{m}");
        // A queued message: its queue ID and END-OF-MESSAGE; 4xx without enhanced code;
        // sender rejections name the sender.
        let mut ev = build(
            Kind::Rejection,
            vec![
                (Field::MsgId, b"m"),
                (Field::PeerIp, b"192.0.2.1"),
                (Field::PeerName, b"c.example"),
                (Field::Helo, b"c.example"),
                (Field::VMailFrom, b"s@x"),
                (Field::VRcptTo, b"r@y"),
                (Field::Note, b"450 Sender address rejected: later\n"),
            ],
        );
        ev.phase = 6;
        ev.flags = flags::ESMTP;
        let (m, _) = fmt(settings(), &ev);
        let q = QueueId::short(b"m");
        assert_eq!(
            m,
            format!(
                "Jan  1 00:00:00 mx postfix/smtpd[7]: {}: reject: END-OF-MESSAGE from c.example[192.0.2.1]: 450 4.7.1 <s@x>: Sender address rejected: later; from=<s@x> to=<r@y> proto=ESMTP helo=<c.example>\n",
                q.as_str()
            )
        );
    }

    #[test]
    fn free_text_rule() {
        let mut v = Vec::new();
        push_text(
            &mut v,
            "a=b x = y from=<z> reject: hold:x forwarded as Q é\u{85}\x01\x7f".as_bytes(),
        );
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "a?b x = y from?<z> reject? hold?x forwarded as?Q é???"
        );
        let mut v = Vec::new();
        push_text(&mut v, b"\xff=");
        assert_eq!(v, b"?=");
        let mut v = Vec::new();
        push_bracketed(&mut v, b"a <b> c\n");
        assert_eq!(v, b"a??b??c?");
        // A field name that starts a word loses its `=`; other `=` stay.
        for (value, written) in [
            ("x status=sent", "x?status?sent"),
            ("status=bounced@evil.example", "status?bounced@evil.example"),
            ("a;Relay=mx;DSN=2.0.0", "a;Relay?mx;DSN?2.0.0"),
            (
                "SRS0=HHH=TT=example.com=user@fwd.example",
                "SRS0=HHH=TT=example.com=user@fwd.example",
            ),
            (
                "prvs=1234567890=user@example.com",
                "prvs=1234567890=user@example.com",
            ),
            ("bounce-to=x@example.com", "bounce-to=x@example.com"),
            ("mystatus=1", "mystatus?1"),
            ("myrelay=1", "myrelay=1"),
        ] {
            let mut v = Vec::new();
            push_bracketed(&mut v, value.as_bytes());
            assert_eq!(String::from_utf8(v).unwrap(), written, "{value}");
        }
    }

    #[test]
    fn stamps_are_cached_per_second_and_space_padded() {
        let mut f = Postfix::new(settings(), Box::new(FixedZone(-3600)));
        let mut buf = Vec::new();
        f.push_stamp(&mut buf, Timestamp::new(1_793_700_000, 0)); // 2026-11-03 10:00 UTC
        buf.push(b'|');
        f.push_stamp(&mut buf, Timestamp::new(1_793_700_000, 999_999));
        buf.push(b'|');
        f.push_stamp(&mut buf, Timestamp::new(1_793_700_001, 0));
        assert_eq!(buf, b"Nov  3 09:00:00|Nov  3 09:00:00|Nov  3 09:00:01");
    }
}
