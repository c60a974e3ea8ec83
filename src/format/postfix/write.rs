//! The postfix_logger formatter: one event to the lines Postfix would have logged for it.

use super::sanitize::{push_bracketed, push_client, push_host, push_text, push_token};
use super::{QueueId, Settings, Stage, long_queue_id};
use crate::event::{Event, Field, Kind, Timestamp, flags};
use crate::format::text::{bare_address, enhanced_code, reply_code};
use crate::format::{
    Formatter, Level, MONTHS, Out, Target, Zone, civil, push_offset_hhmm, push_padded, push_u64,
    split_severity, strip_one_newline,
};

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
    pub(super) fn push_stamp(&mut self, buf: &mut Vec<u8>, t: Timestamp) {
        let t = t.clamped();
        if !self.stamp_valid || self.stamp_sec != t.sec {
            self.stamp.clear();
            let offset = self.zone.offset_at(t.sec);
            let c = civil(t.sec, offset);
            let st = &mut self.stamp;
            if self.s.rfc3339 {
                push_padded(st, c.year as u64, 4);
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
        let sender = bare_address(ev.get(Field::MailFrom));
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
        push_bracketed(buf, bare_address(ev.get(Field::MessageIdHeader)));
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
        let rcpt = bare_address(ev.get(Field::RcptTo));
        push_bracketed(buf, rcpt);
        buf.push(b'>');
        let orig = bare_address(ev.get(Field::Orcpt));
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
            push_bracketed(buf, bare_address(ev.get(Field::MailFrom)));
            buf.extend_from_slice(b">, status=expired, returned to sender\n");
        }
        self.start_msg(buf, ev, b"qmgr", &qid);
        buf.extend_from_slice(b"removed\n");
    }

    /// Rejection: one smtpd `reject:` line.
    pub fn rejection(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        let msg_id = ev.get(Field::MsgId);
        let sender = bare_address(ev.get(Field::VMailFrom));
        let rcpt = bare_address(ev.get(Field::VRcptTo));
        let helo = ev.get(Field::Helo);
        let esmtp = ev.has(flags::ESMTP);
        let stage = if !msg_id.is_empty() {
            Stage::EndOfMessage
        } else {
            Stage::of_phase(ev.phase, sender, rcpt, helo)
        };

        self.start(buf, ev.time, b"smtpd");
        if msg_id.is_empty() {
            buf.extend_from_slice(b"NOQUEUE");
        } else {
            buf.extend_from_slice(self.qid(ev).as_bytes());
        }
        buf.extend_from_slice(b": reject: ");
        buf.extend_from_slice(stage.name(!esmtp && !helo.is_empty()));
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
// Delays

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
// Rejections and replies

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
