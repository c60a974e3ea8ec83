//! Sun Java System Messaging Server logs (spec/sun-messaging.md): the MTA transaction log
//! (`mail.log_current`, optionally `connection.log_current`) for mail events and the
//! service log (`[date] host process[pid]: General Level: text`) for `log_error` texts.
//!
//! Line layout of a message entry (optional parts in brackets, in Sun's order):
//!
//! ```text
//! date time [node] [procid] src12 dst12 code size from rfc822;orig to [notary] [file]
//!     [message-id] [user] [connection] [reason] [diagnostic] [transport] [application]
//! ```
//!
//! and of a connection entry: `date time [node] [procid] chan12 +|-12 code
//! transport application [extra]`, where only `X` carries the extra text.
//!
//! Hostile content (one rule for every line this module writes):
//!
//! 1. A control byte (0x00-0x1f, 0x7f; CR, LF and NUL included) inside any value becomes
//!    one space, so one event is always exactly one physical line ending in `\n`. A single
//!    trailing newline of a note or error text is the line end, not content, and is
//!    dropped first.
//! 2. With `log_format = 1` or `2` the only values that keep spaces are the free texts
//!    that run to the end of the entry: the diagnostic of a message entry and the extra
//!    text of an `X` connection entry. In every other field (channels, addresses, file
//!    name, message id, user name, reason, transport and application information, node,
//!    process id) a space becomes `_`. The connection-info field of `E`, `J` and `B`
//!    entries keeps Sun's own two separators (`helo (rdns [ip])`, or `helo ([ip])` when
//!    the reverse name is unknown); inside its three parts spaces become `_`, and in the
//!    reverse name and the address `(`, `)`, `[` and `]` become `_` too. Transport and
//!    application information, which follow the diagnostic, never contain a space, so a
//!    parser takes them from the end of the line and the diagnostic is what lies between.
//! 3. With `log_format = 3` every variable-length field is preceded by `N:`, N being its
//!    length in bytes, and keeps its spaces (rule 1 still applies); the fixed fields (node,
//!    process id, channels, entry code, size, NOTARY flags) follow rule 2.
//! 4. With `log_format = 2` an empty envelope From or current To is written `<>`.
//!
//! [`parse_line`] reads exactly this grammar back and [`parse_service_line`] the service
//! log lines.

use std::path::PathBuf;

use super::{
    FileSpec, FormatContext, Formatter, KindSetup, Level, MONTHS, Out, Target, Zone, civil,
    push_offset_hhmm, push_padded, push_u64, split_severity, strip_one_newline, zone,
};
use crate::config::{ConfigError, Options, err};
use crate::event::{Event, Field, Kind, Timestamp, flags};

/// Sun's log directory stand-in.
pub const DEFAULT_DIR: &str = "/var/log/imta";

/// `LOG_CONNECTION` bit 0: connection info in message entries.
pub const CONN_INFO: u32 = 1;
/// `LOG_CONNECTION` bit 1: `O`, `Y` and `X` connection entries.
pub const CONN_ENTRIES: u32 = 2;
/// `LOG_CONNECTION` bit 5: transport information in message entries.
pub const CONN_TRANSPORT: u32 = 32;
/// `LOG_CONNECTION` bit 6: application information in message entries.
pub const CONN_APPLICATION: u32 = 64;

/// Service log levels as printed, most severe first.
pub const SERVICE_LEVELS: [&str; 6] = [
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Information",
    "Debug",
];

/// The options that shape imta_logger lines (also what [`parse_line`] needs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImtaOptions {
    /// `log_connection` bit mask.
    pub log_connection: u32,
    /// `log_filename`: queue file name field.
    pub log_filename: bool,
    /// `log_message_id`: Message-ID field.
    pub log_message_id: bool,
    /// `log_notary`: NOTARY flags field.
    pub log_notary: bool,
    /// `log_process`: process id field after the time stamp.
    pub log_process: bool,
    /// `log_username`: user name field.
    pub log_username: bool,
    /// `log_node`: node name field after the time stamp.
    pub log_node: bool,
    /// `log_reason`: reason field in `R` and `K` entries.
    pub log_reason: bool,
    /// `log_diagnostics`: delivery status / diagnostic field.
    pub log_diagnostics: bool,
    /// `log_format`: 1 plain, 2 `<>` for empty addresses, 3 length-counted fields.
    pub log_format: u8,
    /// `log_reception_note`: the reception hook's note as the diagnostic of `E` entries.
    pub log_reception_note: bool,
    /// `separate_connection_log`: connection entries go to `connection.log_current`.
    pub separate_connection_log: bool,
    /// `block_size`: bytes per size unit.
    pub block_size: u64,
    /// `inbound_channel`.
    pub inbound_channel: String,
    /// `auth_channel`: source channel of sessions with SMTP AUTH.
    pub auth_channel: String,
    /// `outbound_channel`.
    pub outbound_channel: String,
    /// `utc`: UTC instead of local time.
    pub utc: bool,
    /// Service log threshold as an index into [`SERVICE_LEVELS`]; `None` = `Nolog`.
    pub loglevel: Option<usize>,
    /// `service_name`.
    pub service_name: String,
    /// `process_name`.
    pub process_name: String,
    /// Short host name (service log).
    pub host: String,
    /// Full host name (node field).
    pub node: String,
    /// Host process id.
    pub pid: u32,
    /// Level of a `log_error` text without a severity prefix.
    pub default_level: Level,
}

impl ImtaOptions {
    /// The defaults, for a given context.
    pub fn defaults(ctx: &FormatContext) -> ImtaOptions {
        ImtaOptions {
            log_connection: 0,
            log_filename: false,
            log_message_id: false,
            log_notary: false,
            log_process: false,
            log_username: false,
            log_node: false,
            log_reason: false,
            log_diagnostics: true,
            log_format: 1,
            log_reception_note: false,
            separate_connection_log: false,
            block_size: 1024,
            inbound_channel: "tcp_local".into(),
            auth_channel: "tcp_auth".into(),
            outbound_channel: "tcp_local".into(),
            utc: false,
            loglevel: Some(3),
            service_name: "imta".into(),
            process_name: default_process_name(),
            host: short_host(&ctx.hostname),
            node: ctx.hostname.clone(),
            pid: ctx.pid,
            default_level: ctx.error_default_level,
        }
    }
}

fn default_process_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "mta".to_owned())
}

fn short_host(h: &str) -> String {
    let s = h.split('.').next().unwrap_or("");
    if s.is_empty() {
        "localhost".into()
    } else {
        s.into()
    }
}

fn channel(o: &mut Options<'_>, key: &str, default: &str) -> Result<String, ConfigError> {
    match o.entry(&[key]) {
        None => Ok(default.to_owned()),
        Some(e) => {
            let v = &e.value;
            if v.is_empty() || v == "+" || v == "-" || v.bytes().any(|b| b <= b' ' || b == 0x7f) {
                Err(err(
                    e,
                    "a channel name must be one word (not empty, not + or -, no spaces)",
                ))
            } else {
                Ok(v.clone())
            }
        }
    }
}

/// Reads imta_logger's own line-shaping options (everything but paths and modes).
pub fn options(o: &mut Options<'_>, ctx: &FormatContext) -> Result<ImtaOptions, ConfigError> {
    let mut x = ImtaOptions::defaults(ctx);
    x.log_connection = o.uint("log_connection", 0, 0, u32::MAX as u64)? as u32;
    x.log_filename = o.boolean("log_filename", false)?;
    x.log_message_id = o.boolean("log_message_id", false)?;
    x.log_notary = o.boolean("log_notary", false)?;
    x.log_process = o.boolean("log_process", false)?;
    x.log_username = o.boolean("log_username", false)?;
    x.log_node = o.boolean("log_node", false)?;
    x.log_reason = o.boolean("log_reason", false)?;
    x.log_diagnostics = o.boolean("log_diagnostics", true)?;
    x.log_format = o.uint("log_format", 1, 1, 3)? as u8;
    x.log_reception_note = o.boolean("log_reception_note", false)?;
    x.separate_connection_log = o.boolean("separate_connection_log", false)?;
    for key in [
        "log_sensitivity",
        "log_priority",
        "log_intermediate",
        "log_filter",
    ] {
        if let Some(e) = o.entry(&[key]) {
            if e.value != "0" && !e.value.eq_ignore_ascii_case("false") {
                return Err(err(e, "not supported (only 0)"));
            }
        }
    }
    x.block_size = o.uint("block_size", 1024, 1, u64::MAX)?;
    x.inbound_channel = channel(o, "inbound_channel", "tcp_local")?;
    x.auth_channel = channel(o, "auth_channel", "tcp_auth")?;
    x.outbound_channel = channel(o, "outbound_channel", "tcp_local")?;
    x.utc = o.boolean("utc", false)?;
    if let Some(e) = o.entry(&["loglevel", "service_loglevel"]) {
        let v = e.value.to_ascii_lowercase();
        x.loglevel = match v.as_str() {
            "nolog" => None,
            "info" => Some(4),
            _ => match SERVICE_LEVELS
                .iter()
                .position(|l| l.eq_ignore_ascii_case(&v))
            {
                Some(i) => Some(i),
                None => {
                    return Err(err(
                        e,
                        format!(
                            "expected one of Nolog|Critical|Error|Warning|Notice|Information|Debug, got '{}'",
                            e.value
                        ),
                    ));
                }
            },
        };
    }
    if let Some(s) = o.string("service_name") {
        x.service_name = s;
    }
    if let Some(s) = o.string("process_name") {
        x.process_name = s;
    }
    if x.service_name.is_empty() || x.service_name.contains(['/', '\0']) {
        return Err(ConfigError {
            line: 0,
            key: Some("service_name".into()),
            msg: "must be a non-empty file name".into(),
        });
    }
    Ok(x)
}

/// Reads imta_logger's options: file locations and modes plus [`options`].
///
/// Files: `logdir` (`/var/log/imta`), `mainlog` (`<logdir>/mail.log_current`),
/// `connection_log` (`<logdir>/connection.log_current`, written only with
/// `separate_connection_log = true`; otherwise connection entries go to the main log),
/// `paniclog` (the service log, `<logdir>/<service_name>`; not opened with
/// `loglevel = Nolog`), `mainlog_mode`, `connection_log_mode`, `paniclog_mode` (0644).
///
/// Lines: `log_connection` (0; bits 0, 1, 5, 6 used, others ignored), `log_filename`,
/// `log_message_id`, `log_notary`, `log_process`, `log_username`, `log_node`,
/// `log_reason`, `separate_connection_log`, `log_reception_note` (all false),
/// `log_diagnostics` (true), `log_format` (1; 1-3), `log_sensitivity`, `log_priority`,
/// `log_intermediate`, `log_filter` (only 0), `block_size` (1024), `inbound_channel`
/// (`tcp_local`), `auth_channel` (`tcp_auth`), `outbound_channel` (`tcp_local`), `utc`
/// (false). Service log: `loglevel` or `service_loglevel` (Notice; Nolog, Critical,
/// Error, Warning, Notice, Information, Debug; any case), `service_name` (`imta`),
/// `process_name` (file name of the executable, else `mta`).
pub fn setup(o: &mut Options<'_>, ctx: &FormatContext) -> Result<KindSetup, ConfigError> {
    let opts = options(o, ctx)?;
    let dir = o
        .path("logdir")?
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let main_mode = o.mode(&["mainlog_mode"], 0o644)?;
    let panic_mode = o.mode(&["paniclog_mode"], 0o644)?;
    let conn_mode = o.mode(&["connection_log_mode"], 0o644)?;
    let main = o
        .path("mainlog")?
        .unwrap_or_else(|| dir.join("mail.log_current"));
    let panic = o
        .path("paniclog")?
        .unwrap_or_else(|| dir.join(&opts.service_name));
    let conn = o
        .path("connection_log")?
        .unwrap_or_else(|| dir.join("connection.log_current"));
    let mut files = vec![FileSpec {
        target: Target::Main,
        path: main,
        mode: main_mode,
    }];
    if opts.separate_connection_log {
        files.push(FileSpec {
            target: Target::Connection,
            path: conn,
            mode: conn_mode,
        });
    }
    if opts.loglevel.is_some() {
        files.push(FileSpec {
            target: Target::Panic,
            path: panic,
            mode: panic_mode,
        });
    }
    Ok(KindSetup {
        files,
        formatter: Box::new(Imta::new(opts)),
        heartbeat: None,
        records: false,
    })
}

// ---------------------------------------------------------------------------------------
// Value helpers

/// Strips one pair of enclosing angle brackets.
fn bare(a: &[u8]) -> &[u8] {
    match a {
        [b'<', inner @ .., b'>'] => inner,
        _ => a,
    }
}

/// The 3-digit SMTP reply code at the start of a note, if any.
pub fn reply_code(note: &[u8]) -> Option<u16> {
    match note {
        [a @ b'2'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9', rest @ ..]
            if matches!(rest.first(), None | Some(b' ') | Some(b'-')) =>
        {
            Some((*a - b'0') as u16 * 100 + (*b - b'0') as u16 * 10 + (*c - b'0') as u16)
        }
        _ => None,
    }
}

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

/// Which entries carry a diagnostic field.
fn has_diagnostic(action: u8, o: &ImtaOptions) -> bool {
    o.log_diagnostics
        && match action {
            b'D' | b'Q' | b'R' | b'K' | b'J' | b'B' => true,
            b'E' => o.log_reception_note,
            _ => false,
        }
}

/// Receiving-side entries, whose connection info is `helo (rdns [ip])`.
fn inbound_action(action: u8) -> bool {
    matches!(action, b'E' | b'J' | b'B')
}

// ---------------------------------------------------------------------------------------
// Formatter

/// imta_logger formatter.
pub struct Imta {
    /// The options.
    pub opts: ImtaOptions,
    zone: Box<dyn Zone>,
    /// Per-event sequence number of the process id field.
    seq: u64,
    scratch: Vec<u8>,
}

impl Imta {
    /// A formatter for `opts` (UTC or local time per `opts.utc`).
    pub fn new(opts: ImtaOptions) -> Imta {
        let zone = zone(opts.utc);
        Imta {
            opts,
            zone,
            seq: 0,
            scratch: Vec::new(),
        }
    }

    fn push_date(&mut self, buf: &mut Vec<u8>, t: Timestamp) {
        let off = self.zone.offset_at(t.sec);
        let c = civil(t.sec, off);
        push_padded(buf, c.day as u64, 2);
        buf.push(b'-');
        buf.extend_from_slice(MONTHS[(c.month - 1) as usize].as_bytes());
        buf.push(b'-');
        push_padded(buf, c.year.max(0) as u64, 4);
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
            push_u64(buf, self.seq);
        }
    }

    /// A variable-length field (length-prefixed under `log_format = 3`).
    fn var(&self, buf: &mut Vec<u8>, v: &[u8], spaces: bool) {
        buf.push(b' ');
        if self.opts.log_format == 3 {
            push_u64(buf, v.len() as u64);
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
    /// `dns;<mx> (TCP|local-ip|local-port|mx-ip|mx-port) smtp;<note>`, where `dns;<mx>`
    /// is left out when the MX name is unknown and the transport part when the MX address
    /// is unknown (no banner: the host does not report it). A `D` always gets this form;
    /// `Q`, `R` and `K` only when the note starts with an SMTP reply code, otherwise the
    /// note alone (a connection-level failure text).
    fn smtp_status(&mut self, ev: &Event, note: &[u8], always: bool) {
        self.scratch.clear();
        if !always && reply_code(note).is_none() {
            self.scratch.extend_from_slice(note);
            return;
        }
        let mx = ev.get(Field::MxHost);
        if !mx.is_empty() {
            self.scratch.extend_from_slice(b"dns;");
            push_word(&mut self.scratch, mx);
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
            (bare(ev.get(Field::VMailFrom)), bare(to))
        } else {
            (bare(ev.get(Field::MailFrom)), bare(ev.get(Field::RcptTo)))
        };
        self.addr(buf, from);
        self.scratch.clear();
        self.scratch.extend_from_slice(b"rfc822;");
        if !inbound || action == b'E' {
            let orcpt = ev.get(Field::Orcpt);
            if orcpt.len() >= 7 && orcpt[..7].eq_ignore_ascii_case(b"rfc822;") {
                self.scratch.extend_from_slice(bare(&orcpt[7..]));
            } else if !orcpt.is_empty() {
                self.scratch.extend_from_slice(bare(orcpt));
            } else {
                self.scratch.extend_from_slice(to);
            }
        }
        let s = std::mem::take(&mut self.scratch);
        self.var(buf, &s, false);
        self.scratch = s;
        self.addr(buf, to);
        if self.opts.log_notary {
            // The host reports no DSN parameters: the value is unknown, the field empty.
            buf.push(b' ');
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
            if !u.is_empty() {
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
            self.var(buf, after_code(note), false);
        }
        if has_diagnostic(action, &self.opts) {
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
        let off = self.zone.offset_at(t.sec);
        let c = civil(t.sec, off);
        buf.push(b'[');
        push_padded(buf, c.day as u64, 2);
        buf.push(b'/');
        buf.extend_from_slice(MONTHS[(c.month - 1) as usize].as_bytes());
        buf.push(b'/');
        push_padded(buf, c.year.max(0) as u64, 4);
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
    /// returns the length used. `D` takes only `S`.
    fn modifiers(ev: &Event, action: u8, code: &mut [u8; 4]) -> usize {
        let mut n = 0;
        let mut put = |b: u8| {
            code[n] = b;
            n += 1;
        };
        put(action);
        if action != b'D' && ev.has(flags::ESMTP) {
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

/// Our [`Level`] as an index into [`SERVICE_LEVELS`].
pub fn sun_level(l: Level) -> usize {
    match l {
        Level::Debug => 5,
        Level::Info => 4,
        Level::Notice => 3,
        Level::Warning => 2,
        Level::Error => 1,
        Level::Critical | Level::Fatal | Level::Panic => 0,
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
        match ev.kind {
            Kind::Reception => {
                let n = Self::modifiers(ev, b'E', &mut code);
                self.message(ev, &code[..n], out.buf(Target::Main));
            }
            Kind::Delivery => {
                let n = Self::modifiers(ev, b'D', &mut code);
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
                let k = bare(ev.get(Field::MailFrom)).is_empty();
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
                    let n = Self::modifiers(ev, b'B', &mut code);
                    self.message(ev, &code[..n], out.buf(Target::Main));
                }
                _ => {
                    let n = Self::modifiers(ev, b'J', &mut code);
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
            Kind::Acct | Kind::Import => return,
        }
        self.seq = self.seq.wrapping_add(1);
    }

    fn file_header(&mut self, target: Target, now: Timestamp, out: &mut Vec<u8>) {
        if target != Target::Panic || self.opts.loglevel.is_none() {
            return;
        }
        let mut text = b"Log created (".to_vec();
        crate::format::push_i64(&mut text, now.sec);
        text.push(b')');
        self.service_line(now, 3, &text, out);
    }
}

// ---------------------------------------------------------------------------------------
// Parsing (the grammar above, read back)

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
    /// Process id `pid.seq` (`log_process`).
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
    /// Extra text of a connection entry (`X`).
    pub extra: Option<String>,
}

impl Entry {
    /// Is this a connection entry (`+` / `-` destination)?
    pub fn is_connection(&self) -> bool {
        self.dest_channel == "+" || self.dest_channel == "-"
    }
}

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
        let v = rest
            .get(colon + 1..colon + 1 + n)
            .ok_or_else(|| format!("length {n} runs past the line at byte {}", self.p))?;
        self.p += colon + 1 + n;
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
    if o.log_reason && matches!(action, b'R' | b'K') {
        e.reason = Some(c.var()?.to_owned());
    }
    let trailing = [
        o.log_connection & CONN_TRANSPORT != 0,
        o.log_connection & CONN_APPLICATION != 0,
    ];
    if has_diagnostic(action, o) {
        if fmt3 {
            e.diagnostic = Some(c.var()?.to_owned());
        } else {
            // The diagnostic keeps its spaces: the one-word trailing fields come off the end.
            c.sep()?;
            let mut rest = &line[c.p..];
            let mut tail = [None, None];
            for i in (0..2).rev() {
                if trailing[i] {
                    let sp = rest.rfind(' ').ok_or("missing trailing field")?;
                    tail[i] = Some(rest[sp + 1..].to_owned());
                    rest = &rest[..sp];
                }
            }
            e.diagnostic = Some(rest.to_owned());
            e.transport = tail[0].take();
            e.application = tail[1].take();
            return Ok(e);
        }
    }
    if trailing[0] {
        e.transport = Some(c.var()?.to_owned());
    }
    if trailing[1] {
        e.application = Some(c.var()?.to_owned());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build;

    const T: i64 = 1_709_802_902; // 07-Mar-2024 09:15:02 UTC

    fn ctx() -> FormatContext {
        FormatContext {
            error_default_level: Level::Error,
            pid: 0x4a1c,
            hostname: "mx1.example.org".into(),
        }
    }

    fn opts() -> ImtaOptions {
        let mut o = ImtaOptions::defaults(&ctx());
        o.utc = true;
        o.process_name = "ecelerity".into();
        o
    }

    fn at(mut ev: Event, usec: u32) -> Event {
        ev.time = Timestamp { sec: T, usec };
        ev
    }

    fn reception() -> Event {
        let mut ev = at(
            build(
                Kind::Reception,
                vec![
                    (Field::MailFrom, b"<alice@example.org>"),
                    (Field::RcptTo, b"bob@example.com"),
                    (Field::MessageIdHeader, b"20240307.ABC@mx.example.org"),
                    (Field::SpoolPath, b"spool/7F/00-12345-ABCDEF01"),
                    (Field::PeerIp, b"192.0.2.25"),
                    (Field::PeerName, b"mail.example.org"),
                    (Field::Helo, b"mail.example.org"),
                    (Field::LocalIp, b"203.0.113.5"),
                ],
            ),
            370_000,
        );
        ev.size = 2100;
        ev.peer_port = 51514;
        ev.local_port = 25;
        ev
    }

    fn outbound(kind: Kind, note: &'static [u8], from: &'static [u8]) -> Event {
        let mut ev = at(
            build(
                kind,
                vec![
                    (Field::MailFrom, from),
                    (Field::RcptTo, b"dave@example.net"),
                    (Field::DomainName, b"example.net"),
                    (Field::MxHost, b"mx.example.net"),
                    (Field::MxIp, b"203.0.113.10"),
                    (Field::Note, note),
                ],
            ),
            880_000,
        );
        ev.size = 12 * 1024;
        ev
    }

    fn rejection(phase: i32, note: &'static [u8]) -> Event {
        let mut ev = at(
            build(
                Kind::Rejection,
                vec![
                    (Field::PeerIp, b"192.0.2.66"),
                    (Field::Helo, b"spammer.example.biz"),
                    (Field::LocalIp, b"203.0.113.5"),
                    (Field::VMailFrom, b"spam@example.biz"),
                    (Field::VRcptTo, b"victim@example.net"),
                    (Field::Note, note),
                ],
            ),
            640_000,
        );
        ev.phase = phase;
        ev.peer_port = 40000;
        ev.local_port = 25;
        ev
    }

    fn run(o: &ImtaOptions, ev: &Event) -> (String, String, String) {
        let mut out = Out::default();
        Imta::new(o.clone()).format(ev, &mut out);
        let s = |t: Target| String::from_utf8(out.bufs[t as usize].clone()).unwrap();
        (s(Target::Main), s(Target::Connection), s(Target::Panic))
    }

    fn main_line(o: &ImtaOptions, ev: &Event) -> String {
        let l = run(o, ev).0;
        assert_eq!(l.matches('\n').count(), 1, "{l:?}");
        let e = parse_line(&l, o).unwrap_or_else(|m| panic!("{m}: {l:?}"));
        assert_eq!(e.date, "07-Mar-2024");
        l
    }

    #[test]
    fn basic_reception() {
        let o = opts();
        let l = main_line(&o, &reception());
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.source_channel, "tcp_local");
        assert_eq!(e.code, "E");
        assert_eq!(e.size, Some(3));
        assert_eq!(e.from, "alice@example.org");
        assert_eq!(e.original_to, "rfc822;bob@example.com");
        assert_eq!(e.to, "bob@example.com");
        assert_eq!(e.diagnostic, None);
    }

    #[test]
    fn reception_modifiers_auth_and_orcpt() {
        let mut o = opts();
        o.outbound_channel = "tcp_intranet".into();
        let mut ev = at(
            build(
                Kind::Reception,
                vec![
                    (Field::MailFrom, b"carol@example.com"),
                    (Field::RcptTo, b"dave@example.net"),
                    (Field::Orcpt, b"rfc822;Dave@Example.NET"),
                    (Field::AcceptAuthUser, b"carol"),
                ],
            ),
            410_000,
        );
        ev.flags = flags::ESMTP | flags::TLS;
        ev.size = 12 * 1024 - 5;
        assert_eq!(
            main_line(&o, &ev),
            "07-Mar-2024 09:15:02.41 tcp_auth     tcp_intranet EESA 12 carol@example.com rfc822;Dave@Example.NET dave@example.net\n"
        );
        o.log_username = true;
        let l = main_line(&o, &ev);
        assert!(l.ends_with(" dave@example.net *carol\n"), "{l}");
        assert_eq!(
            parse_line(&l, &o).unwrap().username.as_deref(),
            Some("*carol")
        );
    }

    #[test]
    fn reception_with_every_optional_field() {
        let mut o = opts();
        o.log_node = true;
        o.log_process = true;
        o.log_notary = true;
        o.log_filename = true;
        o.log_message_id = true;
        o.log_username = true;
        o.log_connection = 1 | 32 | 64;
        o.log_reception_note = true;
        let mut ev = reception();
        ev.flags = flags::ESMTP;
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.37 mx1.example.org 4a1c.0 tcp_local    tcp_local    EE 3 alice@example.org rfc822;bob@example.com bob@example.com  spool/7F/00-12345-ABCDEF01 <20240307.ABC@mx.example.org>  mail.example.org (mail.example.org [192.0.2.25])  TCP|203.0.113.5|25|192.0.2.25|51514 SMTP\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.node.as_deref(), Some("mx1.example.org"));
        assert_eq!(e.process.as_deref(), Some("4a1c.0"));
        assert_eq!(e.notary.as_deref(), Some(""));
        assert_eq!(e.filename.as_deref(), Some("spool/7F/00-12345-ABCDEF01"));
        assert_eq!(
            e.message_id.as_deref(),
            Some("<20240307.ABC@mx.example.org>")
        );
        assert_eq!(e.username.as_deref(), Some(""));
        assert_eq!(
            e.connection.as_deref(),
            Some("mail.example.org (mail.example.org [192.0.2.25])")
        );
        assert_eq!(e.diagnostic.as_deref(), Some(""));
        assert_eq!(
            e.transport.as_deref(),
            Some("TCP|203.0.113.5|25|192.0.2.25|51514")
        );
        assert_eq!(e.application.as_deref(), Some("SMTP"));
    }

    #[test]
    fn connection_info_without_rdns_and_ipv6() {
        let mut o = opts();
        o.log_connection = 1;
        let mut ev = at(
            build(
                Kind::Reception,
                vec![
                    (Field::MailFrom, b"a@example.org"),
                    (Field::RcptTo, b"b@example.com"),
                    (Field::PeerIp, b"2001:db8::1"),
                    (Field::Helo, b"[IPv6:2001:db8::1]"),
                ],
            ),
            0,
        );
        ev.size = 1;
        let l = main_line(&o, &ev);
        assert!(
            l.ends_with(" b@example.com [IPv6:2001:db8::1] ([IPv6:2001:db8::1])\n"),
            "{l}"
        );
        assert_eq!(
            parse_line(&l, &o).unwrap().connection.as_deref(),
            Some("[IPv6:2001:db8::1] ([IPv6:2001:db8::1])")
        );
    }

    #[test]
    fn delivery() {
        let mut o = opts();
        let mut ev = outbound(
            Kind::Delivery,
            b"250 2.0.0 Ok: queued as 4F2A1\n",
            b"carol@example.com",
        );
        ev.flags = flags::TLS | flags::ESMTP;
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.88 tcp_local                 DS 12 carol@example.com rfc822;dave@example.net dave@example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 Ok: queued as 4F2A1\n"
        );
        assert_eq!(
            parse_line(&l, &o).unwrap().diagnostic.as_deref(),
            Some("dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 Ok: queued as 4F2A1")
        );
        o.log_connection = 1 | 32 | 64;
        let l = main_line(&o, &ev);
        assert!(
            l.ends_with(" dave@example.net mx.example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 Ok: queued as 4F2A1 TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net\n"),
            "{l}"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.connection.as_deref(), Some("mx.example.net"));
        assert_eq!(
            e.application.as_deref(),
            Some("SMTP/example.net/mx.example.net")
        );
        assert_eq!(e.transport.as_deref(), Some("TCP||0|203.0.113.10|25"));
        o.log_diagnostics = false;
        let l = main_line(&o, &ev);
        assert!(
            l.ends_with(" mx.example.net TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net\n"),
            "{l}"
        );
    }

    #[test]
    fn transient_failure_and_y_entry() {
        let mut o = opts();
        let ev = outbound(
            Kind::TransientFailure,
            b"connect() to 203.0.113.10:25 failed: Connection refused",
            b"erin@example.com",
        );
        let (m, c, _) = run(&o, &ev);
        assert_eq!(
            m,
            "07-Mar-2024 09:15:02.88 tcp_local                 Q 0 erin@example.com rfc822;dave@example.net dave@example.net connect() to 203.0.113.10:25 failed: Connection refused\n"
        );
        assert_eq!(c, "");
        o.log_connection = 2;
        let (m2, _, _) = run(&o, &ev);
        let mut lines = m2.lines();
        let y = lines.next().unwrap();
        assert_eq!(
            y,
            "07-Mar-2024 09:15:02.88 tcp_local    -            Y TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net"
        );
        assert_eq!(format!("{}\n", lines.next().unwrap()), m);
        let e = parse_line(y, &o).unwrap();
        assert!(e.is_connection());
        assert_eq!(e.code, "Y");
        assert_eq!(e.dest_channel, "-");
        // With a reply code: full size, composite status, no Y.
        let ev = outbound(
            Kind::TransientFailure,
            b"452 4.2.2 Mailbox full",
            b"erin@example.com",
        );
        let (m, _, _) = run(&o, &ev);
        assert_eq!(
            m,
            "07-Mar-2024 09:15:02.88 tcp_local                 Q 12 erin@example.com rfc822;dave@example.net dave@example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;452 4.2.2 Mailbox full\n"
        );
        // Separate connection log.
        o.separate_connection_log = true;
        let ev = outbound(Kind::TransientFailure, b"timeout", b"erin@example.com");
        let (m, c, _) = run(&o, &ev);
        assert!(m.contains(" Q 0 "));
        assert!(c.contains(" Y TCP|"));
    }

    #[test]
    fn permanent_failures_r_and_k_with_reason() {
        let mut o = opts();
        let ev = outbound(
            Kind::PermanentFailure,
            b"550 5.1.1 <nosuch@example.net>: user unknown",
            b"erin@example.com",
        );
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.88 tcp_local                 R 12 erin@example.com rfc822;dave@example.net dave@example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;550 5.1.1 <nosuch@example.net>: user unknown\n"
        );
        o.log_reason = true;
        let l = main_line(&o, &ev);
        assert!(
            l.contains(" dave@example.net 5.1.1_<nosuch@example.net>:_user_unknown dns;"),
            "{l}"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(
            e.reason.as_deref(),
            Some("5.1.1_<nosuch@example.net>:_user_unknown")
        );
        let ev = outbound(Kind::PermanentFailure, b"550 5.1.1 user unknown", b"<>");
        let l = main_line(&o, &ev);
        assert!(l.contains(" K 12  rfc822;dave@example.net "), "{l}");
        o.log_format = 2;
        let l = main_line(&o, &ev);
        assert!(l.contains(" K 12 <> rfc822;dave@example.net "), "{l}");
        assert_eq!(parse_line(&l, &o).unwrap().from, "");
    }

    #[test]
    fn rejections_j_b_x() {
        let mut o = opts();
        let mut ev = rejection(6, b"550 5.7.1 Relaying not allowed: victim@example.net\r\n");
        ev.flags = flags::ESMTP;
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.64 tcp_local                 JE 0 spam@example.biz rfc822; victim@example.net 550 5.7.1 Relaying not allowed: victim@example.net\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.original_to, "rfc822;");
        assert_eq!(
            e.diagnostic.as_deref(),
            Some("550 5.7.1 Relaying not allowed: victim@example.net")
        );
        let ev = build(
            Kind::Rejection,
            vec![(Field::Note, b"500 5.5.1 Unknown command")],
        );
        let mut ev = at(ev, 120_000);
        ev.phase = 2;
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.12 tcp_local                 B 0  rfc822;  500 5.5.1 Unknown command\n"
        );
        // Phases before the greeting: nothing, or X with bit 1.
        for phase in [0, 1, 18] {
            let ev = rejection(phase, b"421 4.7.0 Too many connections\n");
            assert_eq!(run(&o, &ev), (String::new(), String::new(), String::new()));
        }
        o.log_connection = 2;
        let ev = rejection(18, b"421 4.7.0 Too many connections\n");
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.64 tcp_local    +            X TCP|203.0.113.5|25|192.0.2.66|40000 SMTP 421 4.7.0 Too many connections\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.extra.as_deref(), Some("421 4.7.0 Too many connections"));
        // J with connection info.
        o.log_connection = 1;
        let l = main_line(&o, &rejection(6, b"550 no"));
        assert!(
            l.ends_with(" victim@example.net spammer.example.biz ([192.0.2.66]) 550 no\n"),
            "{l}"
        );
    }

    #[test]
    fn attempt_o_entry() {
        let mut o = opts();
        let mut ev = outbound(Kind::Attempt, b"", b"a@example.org");
        ev.mx_port = 2525;
        assert_eq!(run(&o, &ev), (String::new(), String::new(), String::new()));
        o.log_connection = 2;
        o.log_process = true;
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.88 4a1c.0 tcp_local    -            O TCP||0|203.0.113.10|2525 SMTP/example.net/mx.example.net\n"
        );
    }

    #[test]
    fn log_format_3() {
        let mut o = opts();
        o.log_format = 3;
        o.log_connection = 1 | 32;
        o.log_message_id = true;
        let l = main_line(&o, &reception());
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 17:alice@example.org 22:rfc822;bob@example.com 15:bob@example.com 29:<20240307.ABC@mx.example.org> 48:mail.example.org (mail.example.org [192.0.2.25]) 35:TCP|203.0.113.5|25|192.0.2.25|51514\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.from, "alice@example.org");
        assert_eq!(
            e.connection.as_deref(),
            Some("mail.example.org (mail.example.org [192.0.2.25])")
        );
        let ev = outbound(Kind::PermanentFailure, b"550 x y", b"");
        let l = main_line(&o, &ev);
        assert!(l.contains(" K 12 0: 23:rfc822;dave@example.net "), "{l}");
        assert!(l.contains(" 0: 14:mx.example.net 56:dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;550 x y 22:TCP||0|203.0.113.10|25\n"), "{l}");
        let mut ev = rejection(0, b"421 busy");
        o.log_connection = 2;
        ev.peer_port = 1;
        let l = main_line(&o, &ev);
        assert!(
            l.ends_with(" X 31:TCP|203.0.113.5|25|192.0.2.66|1 4:SMTP 8:421 busy\n"),
            "{l}"
        );
        assert_eq!(
            parse_line(&l, &o).unwrap().extra.as_deref(),
            Some("421 busy")
        );
    }

    #[test]
    fn hostile_values_stay_in_their_fields() {
        let mut o = opts();
        o.log_connection = 1 | 32 | 64;
        o.log_filename = true;
        o.log_message_id = true;
        o.log_username = true;
        let mut ev = at(
            build(
                Kind::Rejection,
                vec![
                    (Field::MsgId, b"id with space"),
                    (Field::PeerIp, b"192.0.2.1 ])x"),
                    (Field::PeerName, b"evil (name) [1.2.3.4]"),
                    (Field::Helo, b"he lo\r\n07-Mar-2024 09:00:00.00 tcp_local"),
                    (Field::AcceptAuthUser, b"us er\0"),
                    (Field::VMailFrom, b"a b@example.org"),
                    (Field::VRcptTo, b"c\nd@example.net"),
                    (Field::Note, b"550 bad\r\nthing\0 TCP|1|2|3|4 SMTP\n"),
                ],
            ),
            0,
        );
        ev.phase = 6;
        for fmt in [1, 2, 3] {
            o.log_format = fmt;
            let l = main_line(&o, &ev);
            let e = parse_line(&l, &o).unwrap();
            assert_eq!(e.code, "JA");
            assert_eq!(e.source_channel, "tcp_auth");
            assert_eq!(e.size, Some(0));
            assert_eq!(e.transport.as_deref(), Some("TCP||0|192.0.2.1_])x|0"));
            assert_eq!(e.application.as_deref(), Some("SMTP"));
            if fmt == 3 {
                assert_eq!(e.from, "a b@example.org");
                assert_eq!(e.to, "c d@example.net");
                assert_eq!(e.username.as_deref(), Some("*us er "));
                assert_eq!(
                    e.diagnostic.as_deref(),
                    Some("550 bad  thing  TCP|1|2|3|4 SMTP")
                );
            } else {
                assert_eq!(e.from, "a_b@example.org");
                assert_eq!(e.to, "c_d@example.net");
                assert_eq!(e.username.as_deref(), Some("*us_er_"));
                assert_eq!(
                    e.diagnostic.as_deref(),
                    Some("550 bad  thing  TCP|1|2|3|4 SMTP")
                );
                assert_eq!(
                    e.connection.as_deref(),
                    Some(
                        "he_lo__07-Mar-2024_09:00:00.00_tcp_local (evil__name___1.2.3.4_ [192.0.2.1___x])"
                    )
                );
            }
        }
    }

    #[test]
    fn service_log() {
        let mut o = opts();
        let ev = at(
            build(
                Kind::Error,
                vec![(Field::Note, b"cannot resolve relay: timeout\n")],
            ),
            0,
        );
        let (_, _, p) = run(&o, &ev);
        assert_eq!(
            p,
            "[07/Mar/2024:09:15:02 +0000] mx1 ecelerity[18972]: General Error: cannot resolve relay: timeout\n"
        );
        let s = parse_service_line(&p).unwrap();
        assert_eq!(
            (
                s.host.as_str(),
                s.process.as_str(),
                s.pid,
                s.category.as_str(),
                s.level.as_str()
            ),
            ("mx1", "ecelerity", 18972, "General", "Error")
        );
        assert_eq!(s.text, "cannot resolve relay: timeout");
        let warn = at(
            build(Kind::Error, vec![(Field::Note, b"WARNING: disk\nfull")]),
            0,
        );
        assert!(run(&o, &warn).2.ends_with("General Warning: disk full\n"));
        let info = at(build(Kind::Error, vec![(Field::Note, b"info: hello")]), 0);
        assert_eq!(run(&o, &info).2, "");
        o.loglevel = Some(4);
        assert!(run(&o, &info).2.ends_with("General Information: hello\n"));
        let crit = at(build(Kind::Error, vec![(Field::Note, b"panic: x")]), 0);
        assert!(run(&o, &crit).2.ends_with("General Critical: x\n"));
        o.loglevel = Some(0);
        assert_eq!(run(&o, &ev).2, "");
        o.loglevel = None;
        assert_eq!(run(&o, &crit).2, "");
    }

    #[test]
    fn log_created_header() {
        let o = opts();
        let mut f = Imta::new(o.clone());
        let mut b = Vec::new();
        f.file_header(Target::Panic, Timestamp { sec: T, usec: 5 }, &mut b);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "[07/Mar/2024:09:15:02 +0000] mx1 ecelerity[18972]: General Notice: Log created (1709802902)\n"
        );
        let mut b = Vec::new();
        f.file_header(Target::Main, Timestamp { sec: T, usec: 5 }, &mut b);
        assert!(b.is_empty());
    }

    #[test]
    fn process_sequence_and_blocks() {
        let mut o = opts();
        o.log_process = true;
        o.block_size = 1000;
        let mut f = Imta::new(o.clone());
        let mut out = Out::default();
        let mut ev = reception();
        ev.size = 1001;
        f.format(&ev, &mut out);
        ev.size = 0;
        f.format(&ev, &mut out);
        let s = String::from_utf8(out.bufs[0].clone()).unwrap();
        let l: Vec<_> = s.lines().collect();
        assert!(l[0].contains(" 4a1c.0 ") && l[0].contains(" E 2 "), "{s}");
        assert!(l[1].contains(" 4a1c.1 ") && l[1].contains(" E 0 "), "{s}");
    }

    #[test]
    fn parse_rejects_garbage() {
        let o = opts();
        assert!(parse_line("", &o).is_err());
        assert!(parse_line("07-Mar-2024 09:15:02.37 tcp_local E 3", &o).is_err());
        assert!(
            parse_line(
                "07-Xyz-2024 09:15:02.37 tcp_local    tcp_local    E 3 a rfc822;b b",
                &o
            )
            .is_err()
        );
        assert!(parse_service_line("07/Mar/2024 x").is_err());
    }
}
