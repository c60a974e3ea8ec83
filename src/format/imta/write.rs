//! The imta_logger formatter: message and connection entries, and service log lines, by
//! the rules of the module doc.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::options::{has_diagnostic, inbound_action};
use super::{
    CONN_APPLICATION, CONN_ENTRIES, CONN_INFO, CONN_TRANSPORT, ImtaOptions, SERVICE_LEVELS,
    sun_level,
};
use crate::event::{Event, Field, Kind, Timestamp, flags};
use crate::format::text::{bare_address, reply_code};
use crate::format::{
    Formatter, MONTHS, Out, Target, Zone, civil, push_offset_hhmm, push_padded, push_u64,
    split_severity, strip_one_newline, zone,
};

// ---------------------------------------------------------------------------------------
// Value helpers

/// The note text after its reply code (and the separator that follows it).
fn after_code(note: &[u8]) -> &[u8] {
    if reply_code(note).is_some() {
        let rest = &note[3..];
        rest.strip_prefix(b" ")
            .or_else(|| rest.strip_prefix(b"-"))
            .unwrap_or(rest)
    } else {
        note
    }
}

fn is_ctl(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// Appends a free text: control bytes become a space.
fn push_text(buf: &mut Vec<u8>, v: &[u8]) {
    buf.extend(v.iter().map(|&b| if is_ctl(b) { b' ' } else { b }));
}

/// Appends a one-word value: control bytes and spaces become `_`.
fn push_word(buf: &mut Vec<u8>, v: &[u8]) {
    buf.extend(
        v.iter()
            .map(|&b| if is_ctl(b) || b == b' ' { b'_' } else { b }),
    );
}

/// Appends a connection-info part: like [`push_word`], and brackets become `_`.
fn push_part(buf: &mut Vec<u8>, v: &[u8]) {
    buf.extend(v.iter().map(|&b| match b {
        b' ' | b'(' | b')' | b'[' | b']' => b'_',
        _ if is_ctl(b) => b'_',
        _ => b,
    }));
}

fn push_addr_literal(buf: &mut Vec<u8>, ip: &[u8]) {
    if ip.contains(&b':') && !ip.starts_with(b"IPv6:") {
        buf.extend_from_slice(b"IPv6:");
    }
    push_part(buf, ip);
}

/// Appends `TCP|local-ip|local-port|remote-ip|remote-port`.
fn push_transport(s: &mut Vec<u8>, ev: &Event, outbound: bool) {
    s.extend_from_slice(b"TCP|");
    push_word(s, ev.get(Field::LocalIp));
    s.push(b'|');
    push_u64(s, ev.local_port as u64);
    s.push(b'|');
    if outbound {
        push_word(s, ev.get(Field::MxIp));
        s.push(b'|');
        push_u64(s, if ev.mx_port == 0 { 25 } else { ev.mx_port } as u64);
    } else {
        push_word(s, ev.get(Field::PeerIp));
        s.push(b'|');
        push_u64(s, ev.peer_port as u64);
    }
}

/// Length of `v` in characters, as a reader that decodes the line as UTF-8 sees it: one
/// per UTF-8 character, and one per byte sequence that is not UTF-8 (which a lossy decoder
/// shows as one U+FFFD).
pub(super) fn char_len(v: &[u8]) -> usize {
    if v.is_ascii() {
        return v.len();
    }
    v.utf8_chunks()
        .map(|c| c.valid().chars().count() + usize::from(!c.invalid().is_empty()))
        .sum()
}

/// Does the event name the remote server of a dequeue-side entry (its MX name or address)?
fn has_remote(ev: &Event) -> bool {
    !ev.get(Field::MxHost).is_empty() || !ev.get(Field::MxIp).is_empty()
}

// ---------------------------------------------------------------------------------------
// Formatter

/// Hashes a thread token (a `pthread_t`: an address whose low bits vary little) with one
/// multiplication, folding the product's high bits (which depend on every bit of the
/// token) into the low ones the table indexes by.
#[derive(Default)]
pub(super) struct TokenHasher(u64);

impl Hasher for TokenHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        let x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = x ^ (x >> 32);
    }
}

/// Threads numbered at most in one log (then the numbering starts again).
pub(super) const MAX_THREADS: usize = 4096;

/// A producer thread's part of the process id field.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ThreadSeq {
    /// The thread's number in this log.
    number: u32,
    /// Sequence number of the thread's next event.
    next: u64,
}

/// imta_logger formatter.
pub struct Imta {
    /// The options.
    pub opts: ImtaOptions,
    zone: Box<dyn Zone>,
    /// Process id field state per producer thread, by [`Event::thread`] (one small entry
    /// per thread that ever logged here, kept for the life of the log).
    pub(super) threads: HashMap<u64, ThreadSeq, BuildHasherDefault<TokenHasher>>,
    /// Thread number and sequence number of the event being formatted.
    proc_id: ThreadSeq,
    scratch: Vec<u8>,
}

impl Imta {
    /// A formatter for `opts` (UTC or local time per `opts.utc`).
    pub fn new(opts: ImtaOptions) -> Imta {
        let zone = zone(opts.utc);
        Imta {
            opts,
            zone,
            threads: HashMap::default(),
            proc_id: ThreadSeq::default(),
            scratch: Vec::new(),
        }
    }

    /// Takes the process id numbers of an event made by thread `token`: the thread's
    /// number (given on its first event: 1, 2, ...) and its next sequence number.
    fn take_proc_id(&mut self, token: u64) {
        if self.threads.len() >= MAX_THREADS && !self.threads.contains_key(&token) {
            // A host that starts a thread per connection would grow the table without end:
            // past this many threads, numbering starts again.
            self.threads.clear();
        }
        let number = self.threads.len() as u32 + 1;
        let t = self
            .threads
            .entry(token)
            .or_insert(ThreadSeq { number, next: 0 });
        self.proc_id = *t;
        t.next = t.next.wrapping_add(1);
    }

    fn push_date(&mut self, buf: &mut Vec<u8>, t: Timestamp) {
        let t = t.clamped();
        let off = self.zone.offset_at(t.sec);
        let c = civil(t.sec, off);
        push_padded(buf, c.day as u64, 2);
        buf.push(b'-');
        buf.extend_from_slice(MONTHS[(c.month - 1) as usize].as_bytes());
        buf.push(b'-');
        push_padded(buf, c.year as u64, 4);
        buf.push(b' ');
        push_padded(buf, c.hour as u64, 2);
        buf.push(b':');
        push_padded(buf, c.min as u64, 2);
        buf.push(b':');
        push_padded(buf, c.sec as u64, 2);
        buf.push(b'.');
        push_padded(buf, (t.usec / 10_000) as u64, 2);
    }

    /// Time stamp, node and process id.
    fn push_head(&mut self, buf: &mut Vec<u8>, t: Timestamp) {
        self.push_date(buf, t);
        if self.opts.log_node {
            buf.push(b' ');
            push_word(buf, self.opts.node.as_bytes());
        }
        if self.opts.log_process {
            buf.push(b' ');
            push_hex(buf, self.opts.pid as u64);
            buf.push(b'.');
            push_hex(buf, self.proc_id.number as u64);
            buf.push(b'.');
            push_u64(buf, self.proc_id.next);
        }
    }

    /// A variable-length field (length-prefixed under `log_format = 3`).
    fn var(&self, buf: &mut Vec<u8>, v: &[u8], spaces: bool) {
        buf.push(b' ');
        if self.opts.log_format == 3 {
            push_u64(buf, char_len(v) as u64);
            buf.push(b':');
            push_text(buf, v);
        } else if spaces {
            push_text(buf, v);
        } else {
            push_word(buf, v);
        }
    }

    fn addr(&self, buf: &mut Vec<u8>, v: &[u8]) {
        if v.is_empty() && self.opts.log_format == 2 {
            buf.extend_from_slice(b" <>");
        } else {
            self.var(buf, v, false);
        }
    }

    fn src_channel(&self, ev: &Event) -> &str {
        if ev.get(Field::AcceptAuthUser).is_empty() {
            &self.opts.inbound_channel
        } else {
            &self.opts.auth_channel
        }
    }

    fn blocks(&self, bytes: u64) -> u64 {
        bytes.div_ceil(self.opts.block_size)
    }

    /// `TCP|local-ip|local-port|remote-ip|remote-port` into `scratch`.
    fn transport(&mut self, ev: &Event, outbound: bool) {
        self.scratch.clear();
        push_transport(&mut self.scratch, ev, outbound);
    }

    /// `SMTP` (inbound) or `SMTP/<domain>/<mx>` (outbound) into `scratch`.
    fn application(&mut self, ev: &Event, outbound: bool) {
        let s = &mut self.scratch;
        s.clear();
        s.extend_from_slice(b"SMTP");
        if outbound {
            s.push(b'/');
            push_word(s, ev.get(Field::DomainName));
            s.push(b'/');
            push_word(s, ev.get(Field::MxHost));
        }
    }

    /// Connection entry: `O`, `Y` (outbound) or `X` (inbound, with its text).
    pub fn connection(&mut self, ev: &Event, code: u8, buf: &mut Vec<u8>) {
        let outbound = code != b'X';
        self.push_head(buf, ev.time);
        let chan = if outbound {
            &self.opts.outbound_channel
        } else {
            self.src_channel(ev)
        };
        push_channel(buf, chan.as_bytes());
        push_channel(buf, if outbound { b"-" } else { b"+" });
        buf.push(b' ');
        buf.push(code);
        self.transport(ev, outbound);
        let s = std::mem::take(&mut self.scratch);
        self.var(buf, &s, false);
        self.scratch = s;
        self.application(ev, outbound);
        let s = std::mem::take(&mut self.scratch);
        self.var(buf, &s, false);
        self.scratch = s;
        if code == b'X' {
            self.var(buf, strip_one_newline(ev.get(Field::Note)), true);
        }
        buf.push(b'\n');
    }

    /// The diagnostic of an SMTP dequeue-side entry into `scratch`:
    /// `dns;<mx> (TCP|local-ip|local-port|mx-ip|mx-port) smtp;<note>`, with an empty `<mx>`
    /// when only the MX address is known, and without the transport part when the MX
    /// address is unknown (no banner: the host does not report it). A `D` (which has a
    /// remote server, see [`has_remote`]) always gets this form; `Q`, `R` and `K` only when
    /// the note starts with an SMTP reply code, otherwise the note alone (a
    /// connection-level failure text), and with `smtp;<note>` alone when no remote server
    /// is known.
    fn smtp_status(&mut self, ev: &Event, note: &[u8], always: bool) {
        self.scratch.clear();
        if !always && reply_code(note).is_none() {
            self.scratch.extend_from_slice(note);
            return;
        }
        if has_remote(ev) {
            self.scratch.extend_from_slice(b"dns;");
            push_word(&mut self.scratch, ev.get(Field::MxHost));
            self.scratch.push(b' ');
        }
        if !ev.get(Field::MxIp).is_empty() {
            self.scratch.push(b'(');
            push_transport(&mut self.scratch, ev, true);
            self.scratch.extend_from_slice(b") ");
        }
        self.scratch.extend_from_slice(b"smtp;");
        self.scratch.extend_from_slice(note);
    }

    /// One message entry (`E`, `D`, `Q`, `R`, `K`, `J`, `B`); `code` = action + modifiers.
    pub fn message(&mut self, ev: &Event, code: &[u8], buf: &mut Vec<u8>) {
        let action = code[0];
        let inbound = inbound_action(action);
        let note = strip_one_newline(ev.get(Field::Note));
        self.push_head(buf, ev.time);
        let (src, dst): (&str, &[u8]) = match action {
            b'E' => (self.src_channel(ev), self.opts.outbound_channel.as_bytes()),
            b'J' | b'B' => (self.src_channel(ev), b""),
            _ => (&self.opts.outbound_channel, b""),
        };
        push_channel(buf, src.as_bytes());
        push_channel(buf, dst);
        buf.push(b' ');
        buf.extend_from_slice(code);
        buf.push(b' ');
        let size = match action {
            b'J' | b'B' => 0,
            b'Q' | b'R' | b'K' if reply_code(note).is_none() => 0,
            _ => self.blocks(ev.size),
        };
        push_u64(buf, size);
        // From, original To, current To.
        let (from, to) = if inbound && action != b'E' {
            let to = if action == b'B' && !ev.get(Field::SmtpCommand).is_empty() {
                ev.get(Field::SmtpCommand)
            } else {
                ev.get(Field::VRcptTo)
            };
            (bare_address(ev.get(Field::VMailFrom)), bare_address(to))
        } else {
            (
                bare_address(ev.get(Field::MailFrom)),
                bare_address(ev.get(Field::RcptTo)),
            )
        };
        self.addr(buf, from);
        self.scratch.clear();
        self.scratch.extend_from_slice(b"rfc822;");
        if !inbound || action == b'E' {
            let orcpt = ev.get(Field::Orcpt);
            if orcpt.len() >= 7 && orcpt[..7].eq_ignore_ascii_case(b"rfc822;") {
                self.scratch.extend_from_slice(bare_address(&orcpt[7..]));
            } else if !orcpt.is_empty() {
                self.scratch.extend_from_slice(bare_address(orcpt));
            } else {
                self.scratch.extend_from_slice(to);
            }
        }
        let s = std::mem::take(&mut self.scratch);
        self.var(buf, &s, false);
        self.scratch = s;
        self.addr(buf, to);
        if self.opts.log_notary {
            // The host reports no DSN parameters: Sun's value for a recipient without any
            // (NOTIFY=FAILURE,DELAY, the classic default).
            buf.extend_from_slice(b" 12");
        }
        if self.opts.log_filename {
            let f = ev.get(Field::SpoolPath);
            self.var(
                buf,
                if f.is_empty() {
                    ev.get(Field::MsgId)
                } else {
                    f
                },
                false,
            );
        }
        if self.opts.log_envelope_id {
            // The DSN ENVID: the host does not report it, so the field is empty.
            self.var(buf, b"", false);
        }
        if self.opts.log_message_id {
            let m = ev.get(Field::MessageIdHeader);
            self.scratch.clear();
            if !m.is_empty() && !m.starts_with(b"<") {
                self.scratch.push(b'<');
                self.scratch.extend_from_slice(m);
                self.scratch.push(b'>');
            } else {
                self.scratch.extend_from_slice(m);
            }
            let s = std::mem::take(&mut self.scratch);
            self.var(buf, &s, false);
            self.scratch = s;
        }
        if self.opts.log_username {
            let mut u = ev.get(Field::AcceptAuthUser);
            if u.is_empty() {
                u = ev.get(Field::AuthUser);
            }
            self.scratch.clear();
            if u.is_empty() {
                self.scratch
                    .extend_from_slice(self.opts.process_user.as_bytes());
            } else {
                self.scratch.push(b'*');
                self.scratch.extend_from_slice(u);
            }
            let s = std::mem::take(&mut self.scratch);
            self.var(buf, &s, false);
            self.scratch = s;
        }
        if self.opts.log_connection & CONN_INFO != 0 {
            if inbound {
                let s = &mut self.scratch;
                s.clear();
                push_word(s, ev.get(Field::Helo));
                s.extend_from_slice(b" (");
                let name = ev.get(Field::PeerName);
                if !name.is_empty() {
                    push_part(s, name);
                    s.push(b' ');
                }
                s.push(b'[');
                push_addr_literal(s, ev.get(Field::PeerIp));
                s.extend_from_slice(b"])");
                let s = std::mem::take(&mut self.scratch);
                self.var(buf, &s, true);
                self.scratch = s;
            } else {
                self.var(buf, ev.get(Field::MxHost), false);
            }
        }
        if self.opts.log_reason && matches!(action, b'R' | b'K') {
            self.var(buf, after_code(note), true);
        }
        if has_diagnostic(action, &self.opts) && (action != b'D' || has_remote(ev)) {
            match action {
                b'D' | b'Q' | b'R' | b'K' => {
                    self.smtp_status(ev, note, action == b'D');
                    let s = std::mem::take(&mut self.scratch);
                    self.var(buf, &s, true);
                    self.scratch = s;
                }
                _ => self.var(buf, note, true),
            }
        }
        if self.opts.log_connection & CONN_TRANSPORT != 0 {
            self.transport(ev, !inbound);
            let s = std::mem::take(&mut self.scratch);
            self.var(buf, &s, false);
            self.scratch = s;
        }
        if self.opts.log_connection & CONN_APPLICATION != 0 {
            self.application(ev, !inbound);
            let s = std::mem::take(&mut self.scratch);
            self.var(buf, &s, false);
            self.scratch = s;
        }
        if self.opts.log_queue_time {
            // Whole seconds since reception; empty when the reception time is unknown.
            buf.push(b' ');
            if ev.has(flags::HAS_RECEIVED) {
                push_u64(buf, ev.time.micros_since(ev.received) / 1_000_000);
            }
        }
        buf.push(b'\n');
    }

    /// Service log line for a `log_error` text (nothing when below the threshold).
    pub fn error(&mut self, ev: &Event, buf: &mut Vec<u8>) {
        let text = strip_one_newline(ev.get(Field::Note));
        let (level, text, _) = split_severity(text, self.opts.default_level);
        let rank = sun_level(level);
        match self.opts.loglevel {
            Some(t) if rank <= t => {}
            _ => return,
        }
        self.service_line(ev.time, rank, text, buf);
    }

    fn service_line(&mut self, t: Timestamp, rank: usize, text: &[u8], buf: &mut Vec<u8>) {
        let t = t.clamped();
        let off = self.zone.offset_at(t.sec);
        let c = civil(t.sec, off);
        buf.push(b'[');
        push_padded(buf, c.day as u64, 2);
        buf.push(b'/');
        buf.extend_from_slice(MONTHS[(c.month - 1) as usize].as_bytes());
        buf.push(b'/');
        push_padded(buf, c.year as u64, 4);
        buf.push(b':');
        push_padded(buf, c.hour as u64, 2);
        buf.push(b':');
        push_padded(buf, c.min as u64, 2);
        buf.push(b':');
        push_padded(buf, c.sec as u64, 2);
        buf.push(b' ');
        push_offset_hhmm(buf, off, false);
        buf.extend_from_slice(b"] ");
        push_word(buf, self.opts.host.as_bytes());
        buf.push(b' ');
        push_part(buf, self.opts.process_name.as_bytes());
        buf.push(b'[');
        push_u64(buf, self.opts.pid as u64);
        buf.extend_from_slice(b"]: General ");
        buf.extend_from_slice(SERVICE_LEVELS[rank].as_bytes());
        buf.extend_from_slice(b": ");
        push_text(buf, text);
        buf.push(b'\n');
    }

    /// Action letter plus modifiers (in Sun's order: protocol, `S`, `A`) into `code`;
    /// returns the length used. `D` takes only `S`; with `legacy_codes` there is no `E`.
    fn modifiers(&self, ev: &Event, action: u8, code: &mut [u8; 4]) -> usize {
        let mut n = 0;
        let mut put = |b: u8| {
            code[n] = b;
            n += 1;
        };
        put(action);
        if action != b'D' && !self.opts.legacy_codes && ev.has(flags::ESMTP) {
            put(b'E');
        }
        if ev.has(flags::TLS) {
            put(b'S');
        }
        if action != b'D' && !ev.get(Field::AcceptAuthUser).is_empty() {
            put(b'A');
        }
        n
    }

    fn conn_target(&self) -> Target {
        if self.opts.separate_connection_log {
            Target::Connection
        } else {
            Target::Main
        }
    }
}

fn push_hex(buf: &mut Vec<u8>, mut n: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = HEX[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// ` name` left-justified in 12 columns (longer names in full).
fn push_channel(buf: &mut Vec<u8>, name: &[u8]) {
    buf.push(b' ');
    push_word(buf, name);
    for _ in name.len()..12 {
        buf.push(b' ');
    }
}

impl Formatter for Imta {
    fn format(&mut self, ev: &Event, out: &mut Out) {
        let mut code = [0u8; 4];
        let conn = self.opts.log_connection & CONN_ENTRIES != 0;
        if matches!(ev.kind, Kind::Acct | Kind::Import) {
            return;
        }
        if self.opts.log_process {
            self.take_proc_id(ev.thread);
        }
        match ev.kind {
            Kind::Reception => {
                let n = self.modifiers(ev, b'E', &mut code);
                self.message(ev, &code[..n], out.buf(Target::Main));
            }
            Kind::Delivery => {
                let n = self.modifiers(ev, b'D', &mut code);
                self.message(ev, &code[..n], out.buf(Target::Main));
            }
            Kind::TransientFailure => {
                let note = strip_one_newline(ev.get(Field::Note));
                if conn && reply_code(note).is_none() {
                    let t = self.conn_target();
                    self.connection(ev, b'Y', out.buf(t));
                }
                self.message(ev, b"Q", out.buf(Target::Main));
            }
            Kind::PermanentFailure => {
                let k = bare_address(ev.get(Field::MailFrom)).is_empty();
                self.message(ev, if k { b"K" } else { b"R" }, out.buf(Target::Main));
            }
            Kind::Rejection => match ev.phase {
                0 | 1 | 18 => {
                    if conn {
                        let t = self.conn_target();
                        self.connection(ev, b'X', out.buf(t));
                    }
                }
                2 | 3 => {
                    let n = self.modifiers(ev, b'B', &mut code);
                    self.message(ev, &code[..n], out.buf(Target::Main));
                }
                _ => {
                    let n = self.modifiers(ev, b'J', &mut code);
                    self.message(ev, &code[..n], out.buf(Target::Main));
                }
            },
            Kind::Attempt => {
                if conn {
                    let t = self.conn_target();
                    self.connection(ev, b'O', out.buf(t));
                }
            }
            Kind::Error => self.error(ev, out.buf(Target::Panic)),
            Kind::Acct | Kind::Import => {}
        }
    }

    fn file_header(&mut self, target: Target, now: Timestamp, out: &mut Vec<u8>) {
        if target != Target::Panic || self.opts.loglevel.is_none() {
            return;
        }
        let mut text = b"Log created (".to_vec();
        crate::format::push_i64(&mut text, now.clamped().sec);
        text.push(b')');
        self.service_line(now, 3, &text, out);
    }
}
