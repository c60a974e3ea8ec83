//! Sun Java System Messaging Server logs (spec/sun-messaging.md): the MTA transaction log
//! (`mail.log_current`, optionally `connection.log_current`) for mail events and the
//! service log (`[date] host process[pid]: General Level: text`) for `log_error` texts.
//!
//! Line layout of a message entry (optional parts in brackets, in Sun's order):
//!
//! ```text
//! date time [node] [procid] src12 dst12 code size from rfc822;orig to [notary] [file]
//!     [envelope-id] [message-id] [user] [connection] [reason] [diagnostic] [transport]
//!     [application] [queue-time]
//! ```
//!
//! and of a connection entry: `date time [node] [procid] chan12 +|-12 code
//! transport application [extra]`, where only `X` carries the extra text.
//!
//! The process id is `<pid>.<thread>.<seq>`: the host's pid and the thread's number in
//! lower-case hex, then the thread's sequence number in decimal. A thread's number is given
//! by this log on the thread's first event (1, 2, ... in that order); its sequence number
//! starts at 0 and counts the events the thread logged, and every line of one event shares
//! it. The diagnostic of a `D` entry is `dns;<mx> [(transport)] smtp;<reply>`, and a `D`
//! with no remote server (neither MX name nor address known) has no diagnostic field.
//!
//! Hostile content (one rule for every line this module writes):
//!
//! 1. A control byte (0x00-0x1f, 0x7f; CR, LF and NUL included) inside any value becomes
//!    one space, so one event is always exactly one physical line ending in `\n`. A single
//!    trailing newline of a note or error text is the line end, not content, and is
//!    dropped first.
//! 2. With `log_format = 1` or `2` the only values that keep spaces are the free texts
//!    that run to the end of the entry: the reason and the diagnostic of a message entry
//!    and the extra text of an `X` connection entry. In every other field (channels,
//!    addresses, file name, envelope id, message id, user name, transport and application
//!    information, node, process id) a space becomes `_`. The connection-info field of
//!    `E`, `J` and `B` entries keeps Sun's own two separators (`helo (rdns [ip])`, or
//!    `helo ([ip])` when the reverse name is unknown); inside its three parts spaces become
//!    `_`, and in the reverse name and the address `(`, `)`, `[` and `]` become `_` too.
//!    Transport and application information and the queue time, which follow the
//!    diagnostic, never contain a space, so a parser takes them from the end of the line
//!    and the free texts are what lies between. The reason is the reply text of the note
//!    that the diagnostic ends with (or the whole note when it has no reply code), which
//!    tells a parser where the reason ends.
//! 3. With `log_format = 3` every variable-length field is preceded by `N:`, N being its
//!    length in characters (a byte sequence that is not UTF-8 counts as one, as a lossy
//!    UTF-8 decoder shows it), and keeps its spaces (rule 1 still applies); the fixed
//!    fields (node, process id, channels, entry code, size, NOTARY flags, queue time)
//!    follow rule 2.
//! 4. With `log_format = 2` an empty envelope From or current To is written `<>`.
//!
//! [`parse_line`] reads exactly this grammar back and [`parse_service_line`] the service
//! log lines.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
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

/// Our [`Level`] for each of [`SERVICE_LEVELS`].
const LEVEL_OF_RANK: [Level; 6] = [
    Level::Critical,
    Level::Error,
    Level::Warning,
    Level::Notice,
    Level::Info,
    Level::Debug,
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
    /// `log_envelope_id`: envelope id (DSN ENVID) field.
    pub log_envelope_id: bool,
    /// `log_queue_time`: seconds since reception, after the application information.
    pub log_queue_time: bool,
    /// `legacy_codes`: the 2005-era entry codes, without the `E` (ESMTP) modifier (the `C`
    /// modifier, CHUNKING, is never written: the hooks do not report it).
    pub legacy_codes: bool,
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
    /// The user the host process runs as (user name field without SMTP AUTH; empty when
    /// the user database has no name for it).
    pub process_user: String,
    /// Level of a `log_error` text without a severity prefix (`service_default_level`,
    /// else `error_default_level`).
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
            log_envelope_id: false,
            log_queue_time: false,
            legacy_codes: false,
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
            process_user: crate::sys::effective_user_name().unwrap_or_default(),
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
    x.log_envelope_id = o.boolean("log_envelope_id", false)?;
    x.log_queue_time = o.boolean("log_queue_time", false)?;
    x.legacy_codes = o.boolean("legacy_codes", false)?;
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
    if let Some(e) = o.entry(&["service_default_level"]) {
        let v = e.value.to_ascii_lowercase();
        let rank = if v == "info" {
            Some(4)
        } else {
            SERVICE_LEVELS
                .iter()
                .position(|l| l.eq_ignore_ascii_case(&v))
        };
        x.default_level = match rank {
            Some(r) => LEVEL_OF_RANK[r],
            None => {
                return Err(err(
                    e,
                    format!(
                        "expected one of Critical|Error|Warning|Notice|Information|Debug, got '{}'",
                        e.value
                    ),
                ));
            }
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
/// `log_envelope_id`, `log_message_id`, `log_notary`, `log_process`, `log_username`,
/// `log_node`, `log_reason`, `log_queue_time`, `separate_connection_log`,
/// `log_reception_note`, `legacy_codes` (all false), `log_diagnostics` (true),
/// `log_format` (1; 1-3), `log_sensitivity`, `log_priority`, `log_intermediate`,
/// `log_filter` (only 0), `block_size` (1024), `inbound_channel` (`tcp_local`),
/// `auth_channel` (`tcp_auth`), `outbound_channel` (`tcp_local`), `utc` (false). Service
/// log: `loglevel` or `service_loglevel` (Notice; Nolog, Critical, Error, Warning,
/// Notice, Information, Debug; any case), `service_default_level` (the level of a
/// `log_error` text without a severity prefix; Critical ... Debug, default the common
/// `error_default_level`, itself Error by default), `service_name` (`imta`),
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

/// Length of `v` in characters, as a reader that decodes the line as UTF-8 sees it: one
/// per UTF-8 character, and one per byte sequence that is not UTF-8 (which a lossy decoder
/// shows as one U+FFFD).
fn char_len(v: &[u8]) -> usize {
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

/// Which entries carry a diagnostic field under the options (a `D` needs a remote server
/// too, see [`has_remote`]).
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

/// Hashes a thread token (a `pthread_t`: an address whose low bits vary little) with one
/// multiplication, folding the product's high bits (which depend on every bit of the
/// token) into the low ones the table indexes by.
#[derive(Default)]
struct TokenHasher(u64);

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
const MAX_THREADS: usize = 4096;

/// A producer thread's part of the process id field.
#[derive(Clone, Copy, Debug, Default)]
struct ThreadSeq {
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
    threads: HashMap<u64, ThreadSeq, BuildHasherDefault<TokenHasher>>,
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
        o.process_user = "mailsrv".into();
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
            "07-Mar-2024 09:15:02.37 mx1.example.org 4a1c.1.0 tcp_local    tcp_local    EE 3 alice@example.org rfc822;bob@example.com bob@example.com 12 spool/7F/00-12345-ABCDEF01 <20240307.ABC@mx.example.org> mailsrv mail.example.org (mail.example.org [192.0.2.25])  TCP|203.0.113.5|25|192.0.2.25|51514 SMTP\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.node.as_deref(), Some("mx1.example.org"));
        assert_eq!(e.process.as_deref(), Some("4a1c.1.0"));
        assert_eq!(e.notary.as_deref(), Some("12"));
        assert_eq!(e.filename.as_deref(), Some("spool/7F/00-12345-ABCDEF01"));
        assert_eq!(
            e.message_id.as_deref(),
            Some("<20240307.ABC@mx.example.org>")
        );
        assert_eq!(e.username.as_deref(), Some("mailsrv"));
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
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.88 tcp_local                 R 12 erin@example.com rfc822;dave@example.net dave@example.net 5.1.1 <nosuch@example.net>: user unknown dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;550 5.1.1 <nosuch@example.net>: user unknown\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(
            e.reason.as_deref(),
            Some("5.1.1 <nosuch@example.net>: user unknown")
        );
        assert_eq!(
            e.diagnostic.as_deref(),
            Some(
                "dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;550 5.1.1 <nosuch@example.net>: user unknown"
            )
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
            "07-Mar-2024 09:15:02.88 4a1c.1.0 tcp_local    -            O TCP||0|203.0.113.10|2525 SMTP/example.net/mx.example.net\n"
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
        assert!(l[0].contains(" 4a1c.1.0 ") && l[0].contains(" E 2 "), "{s}");
        assert!(l[1].contains(" 4a1c.1.1 ") && l[1].contains(" E 0 "), "{s}");
    }

    /// Options read from configuration lines, as the logger reads them.
    fn configured(kv: &[(&str, &str)]) -> Result<ImtaOptions, ConfigError> {
        let e: Vec<crate::config::Entry> = kv
            .iter()
            .enumerate()
            .map(|(i, (k, v))| crate::config::Entry {
                key: (*k).into(),
                value: (*v).into(),
                line: i + 1,
            })
            .collect();
        let mut o = Options::new(&e);
        let mut x = options(&mut o, &ctx())?;
        o.finish()?;
        x.utc = true;
        x.process_name = "ecelerity".into();
        x.process_user = "mailsrv".into();
        Ok(x)
    }

    #[test]
    fn envelope_id_and_queue_time() {
        let o = configured(&[
            ("log_envelope_id", "true"),
            ("log_message_id", "true"),
            ("log_queue_time", "1"),
            ("log_connection", "64"),
        ])
        .unwrap();
        assert!(o.log_envelope_id && o.log_queue_time);
        let mut ev = at(
            build(
                Kind::Delivery,
                vec![
                    (Field::MailFrom, b"carol@example.com"),
                    (Field::RcptTo, b"dave@example.net"),
                    (Field::MessageIdHeader, b"<m1@example.com>"),
                    (Field::DomainName, b"example.net"),
                    (Field::MxHost, b"mx.example.net"),
                    (Field::MxIp, b"203.0.113.10"),
                    (Field::Note, b"250 2.0.0 ok"),
                ],
            ),
            880_000,
        );
        ev.size = 12 * 1024;
        // Received 1 h 2 min 5.5 s before: whole seconds.
        ev.received = Timestamp::new(ev.time.sec - 3725, ev.time.usec as i64 - 500_000);
        ev.flags |= flags::HAS_RECEIVED;
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.88 tcp_local                 D 12 carol@example.com rfc822;dave@example.net dave@example.net  <m1@example.com> dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 ok SMTP/example.net/mx.example.net 3725\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.envelope_id.as_deref(), Some(""));
        assert_eq!(e.message_id.as_deref(), Some("<m1@example.com>"));
        assert_eq!(e.queue_time.as_deref(), Some("3725"));
        assert_eq!(
            e.application.as_deref(),
            Some("SMTP/example.net/mx.example.net")
        );
        // Reception time unknown (a rejection has none): an empty field.
        let mut j = rejection(6, b"550 5.7.1 no");
        j.flags = 0;
        let l = main_line(&o, &j);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.64 tcp_local                 J 0 spam@example.biz rfc822; victim@example.net   550 5.7.1 no SMTP \n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.queue_time.as_deref(), Some(""));
        assert_eq!(e.diagnostic.as_deref(), Some("550 5.7.1 no"));
        // Length-counted: the envelope id is a variable-length field, the queue time not.
        let mut o3 = o.clone();
        o3.log_format = 3;
        o3.log_connection = 0;
        let l = main_line(&o3, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.88 tcp_local                 D 12 17:carol@example.com 23:rfc822;dave@example.net 16:dave@example.net 0: 16:<m1@example.com> 61:dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 ok 3725\n"
        );
        assert_eq!(
            parse_line(&l, &o3).unwrap().queue_time.as_deref(),
            Some("3725")
        );
        // Connection entries have neither field.
        let mut oc = o.clone();
        oc.log_connection = 2;
        let l = main_line(&oc, &outbound(Kind::Attempt, b"", b"a@example.org"));
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.88 tcp_local    -            O TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net\n"
        );
    }

    #[test]
    fn legacy_codes_drop_the_esmtp_modifier() {
        let o = configured(&[("legacy_codes", "true")]).unwrap();
        assert!(o.legacy_codes);
        let mut ev = reception();
        ev.flags = flags::ESMTP | flags::TLS;
        ev.push(Field::AcceptAuthUser, b"carol", 100);
        assert_eq!(
            main_line(&o, &ev),
            "07-Mar-2024 09:15:02.37 tcp_auth     tcp_local    ESA 3 alice@example.org rfc822;bob@example.com bob@example.com\n"
        );
        let mut j = rejection(6, b"550 5.7.1 no");
        j.flags = flags::ESMTP;
        assert_eq!(
            main_line(&o, &j),
            "07-Mar-2024 09:15:02.64 tcp_local                 J 0 spam@example.biz rfc822; victim@example.net 550 5.7.1 no\n"
        );
        let mut b = rejection(2, b"500 5.5.1 Unknown command");
        b.flags = flags::ESMTP | flags::TLS;
        assert!(main_line(&o, &b).contains(" BS 0 "));
        // Off (the default): the modifiers of 6.3.
        assert!(main_line(&opts(), &b).contains(" BES 0 "));
    }

    #[test]
    fn service_default_level_sets_the_level_of_unmarked_texts() {
        let ev = at(
            build(Kind::Error, vec![(Field::Note, b"queue is filling up")]),
            0,
        );
        let marked = at(
            build(Kind::Error, vec![(Field::Note, b"error: disk full")]),
            0,
        );
        for (value, level, shown) in [
            (
                "Warning",
                Level::Warning,
                "General Warning: queue is filling up\n",
            ),
            (
                "critical",
                Level::Critical,
                "General Critical: queue is filling up\n",
            ),
            ("Information", Level::Info, ""),
            ("info", Level::Info, ""),
        ] {
            let o = configured(&[("service_default_level", value)]).unwrap();
            assert_eq!(o.default_level, level, "{value}");
            let (_, _, p) = run(&o, &ev);
            assert!(p.ends_with(shown), "{value}: {p:?}");
            assert_eq!(shown.is_empty(), p.is_empty(), "{value}: {p:?}");
            // A severity prefix still wins.
            assert!(run(&o, &marked).2.ends_with(" General Error: disk full\n"));
        }
        let o = configured(&[("service_default_level", "Notice"), ("loglevel", "Notice")]).unwrap();
        assert_eq!(
            run(&o, &ev).2,
            "[07/Mar/2024:09:15:02 +0000] mx1 ecelerity[18972]: General Notice: queue is filling up\n"
        );
        // Default: the common error_default_level (Error unless configured).
        assert_eq!(configured(&[]).unwrap().default_level, Level::Error);
        for bad in ["Nolog", "loud", ""] {
            let e = configured(&[("service_default_level", bad)]).unwrap_err();
            assert_eq!(e.key.as_deref(), Some("service_default_level"), "{bad}");
        }
    }

    /// Events made on thread `token`, through one formatter: the main log's lines.
    fn lines_of(f: &mut Imta, events: &[(u64, Event)]) -> Vec<String> {
        let mut out = Out::default();
        for (token, ev) in events {
            let mut ev = ev.clone();
            ev.thread = *token;
            f.format(&ev, &mut out);
        }
        String::from_utf8(out.bufs[Target::Main as usize].clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn process_id_is_pid_thread_and_sequence() {
        let mut o = opts();
        o.log_process = true;
        o.log_connection = 2;
        let mut f = Imta::new(o.clone());
        let mut attempt = build(
            Kind::Attempt,
            vec![
                (Field::DomainName, b"example.net"),
                (Field::MxHost, b"mx.example.net"),
                (Field::MxIp, b"203.0.113.10"),
                (Field::LocalIp, b"198.51.100.7"),
            ],
        );
        attempt.time = Timestamp {
            sec: T + 3,
            usec: 900_000,
        };
        attempt.local_port = 40112;
        let mut delivery = outbound(Kind::Delivery, b"250 2.0.0 ok", b"carol@example.com");
        delivery.time = Timestamp {
            sec: T + 4,
            usec: 880_000,
        };
        let failure = outbound(Kind::TransientFailure, b"timeout", b"erin@example.com");
        // Thread tokens are process-wide; numbers go 1, 2, ... per log, in first-event order.
        let lines = lines_of(
            &mut f,
            &[
                (907, reception()),
                (31, attempt.clone()),
                (31, delivery.clone()),
                (907, reception()),
                (31, failure.clone()),
            ],
        );
        assert_eq!(
            lines,
            [
                "07-Mar-2024 09:15:02.37 4a1c.1.0 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com",
                "07-Mar-2024 09:15:05.90 4a1c.2.0 tcp_local    -            O TCP|198.51.100.7|40112|203.0.113.10|25 SMTP/example.net/mx.example.net",
                "07-Mar-2024 09:15:06.88 4a1c.2.1 tcp_local                 D 12 carol@example.com rfc822;dave@example.net dave@example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 ok",
                "07-Mar-2024 09:15:02.37 4a1c.1.1 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com",
                // One hook call, two lines: one sequence number.
                "07-Mar-2024 09:15:02.88 4a1c.2.2 tcp_local    -            Y TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net",
                "07-Mar-2024 09:15:02.88 4a1c.2.2 tcp_local                 Q 0 erin@example.com rfc822;dave@example.net dave@example.net timeout",
            ]
        );
        for l in &lines {
            let p = parse_line(l, &o).unwrap_or_else(|m| panic!("{m}: {l}"));
            assert!(p.process.unwrap().starts_with("4a1c."));
        }
        // The thread number is hex; the sequence number decimal.
        let mut f = Imta::new(o.clone());
        let events: Vec<(u64, Event)> = (0..10).map(|t| (100 + t, reception())).collect();
        let lines = lines_of(&mut f, &events);
        assert!(lines[9].contains(" 4a1c.a.0 "), "{}", lines[9]);
        let events: Vec<(u64, Event)> = (0..11).map(|_| (109, reception())).collect();
        let lines = lines_of(&mut f, &events);
        assert!(lines[10].contains(" 4a1c.a.11 "), "{}", lines[10]);
        // Past MAX_THREADS threads (a thread per connection), the numbering starts again
        // instead of the table growing without end.
        let mut f = Imta::new(o.clone());
        let events: Vec<(u64, Event)> = (0..=MAX_THREADS as u64)
            .map(|t| (1000 + t, reception()))
            .collect();
        let lines = lines_of(&mut f, &events);
        assert!(
            lines[MAX_THREADS - 1].contains(" 4a1c.1000.0 "),
            "{}",
            lines[MAX_THREADS - 1]
        );
        assert!(
            lines[MAX_THREADS].contains(" 4a1c.1.0 "),
            "{}",
            lines[MAX_THREADS]
        );
        assert_eq!(f.threads.len(), 1);
        // Sun's example with LOG_PROCESS, LOG_FILENAME, LOG_MESSAGE_ID and LOG_CONNECTION=1:
        // the fifteenth event of the first thread.
        let mut o = opts();
        o.pid = 0x3e8a;
        o.outbound_channel = "tcp_intranet".into();
        o.log_process = true;
        o.log_filename = true;
        o.log_message_id = true;
        o.log_connection = 1;
        let mut ev = build(
            Kind::Reception,
            vec![
                (Field::MailFrom, b"alice@example.org"),
                (Field::RcptTo, b"bob@example.com"),
                (
                    Field::MessageIdHeader,
                    b"<20240307091501.ABC123@mx.example.org>",
                ),
                (Field::SpoolPath, b"spool/7F/00-12345-ABCDEF01.msg"),
                (Field::PeerIp, b"192.0.2.25"),
                (Field::PeerName, b"mail.example.org"),
                (Field::Helo, b"mail.example.org"),
            ],
        );
        ev.time = Timestamp {
            sec: T,
            usec: 370_000,
        };
        ev.size = 3 * 1024;
        ev.flags = flags::ESMTP;
        let mut f = Imta::new(o);
        let events: Vec<(u64, Event)> = (0..15).map(|_| (5, ev.clone())).collect();
        assert_eq!(
            lines_of(&mut f, &events)[14],
            "07-Mar-2024 09:15:02.37 3e8a.1.14 tcp_local    tcp_intranet EE 3 alice@example.org rfc822;bob@example.com bob@example.com spool/7F/00-12345-ABCDEF01.msg <20240307091501.ABC123@mx.example.org> mail.example.org (mail.example.org [192.0.2.25])"
        );
    }

    #[test]
    fn delivery_status_follows_the_dns_smtp_grammar() {
        let mut o = opts();
        // No remote server (a non-SMTP channel): no status at all.
        o.outbound_channel = "tcp_intranet".into();
        let mut local = build(
            Kind::Delivery,
            vec![
                (Field::MailFrom, b"alice@example.org"),
                (Field::RcptTo, b"bob@example.com"),
                (Field::Note, b"delivered to mailbox"),
            ],
        );
        local.time = Timestamp {
            sec: T + 2,
            usec: 20_000,
        };
        local.size = 3 * 1024;
        let l = main_line(&o, &local);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:04.02 tcp_intranet              D 3 alice@example.org rfc822;bob@example.com bob@example.com\n"
        );
        assert_eq!(parse_line(&l, &o).unwrap().diagnostic, None);
        // ... also when fields follow it.
        o.log_connection = 1 | 32 | 64;
        let l = main_line(&o, &local);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:04.02 tcp_intranet              D 3 alice@example.org rfc822;bob@example.com bob@example.com  TCP||0||25 SMTP//\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(
            (
                e.connection.as_deref(),
                e.diagnostic,
                e.transport.as_deref()
            ),
            (Some(""), None, Some("TCP||0||25"))
        );
        o.log_format = 3;
        let l = main_line(&o, &local);
        assert!(
            l.ends_with(" 15:bob@example.com 0: 10:TCP||0||25 6:SMTP//\n"),
            "{l}"
        );
        assert_eq!(parse_line(&l, &o).unwrap().diagnostic, None);
        // A remote server: `dns;<mx> [(transport)] smtp;<reply>`.
        let mut o = opts();
        o.log_connection = 1;
        let mut ev = build(
            Kind::Delivery,
            vec![
                (Field::MailFrom, b"carol@example.com"),
                (Field::RcptTo, b"dave@example.net"),
                (Field::DomainName, b"example.net"),
                (Field::MxHost, b"mx.example.net"),
                (Field::MxIp, b"203.0.113.10"),
                (Field::LocalIp, b"198.51.100.7"),
                (Field::Note, b"250 2.0.0 Ok: queued as 4F2A1"),
            ],
        );
        ev.local_port = 40112;
        ev.size = 12 * 1024;
        ev.time = Timestamp {
            sec: T + 4,
            usec: 880_000,
        };
        assert_eq!(
            main_line(&o, &ev),
            "07-Mar-2024 09:15:06.88 tcp_local                 D 12 carol@example.com rfc822;dave@example.net dave@example.net mx.example.net dns;mx.example.net (TCP|198.51.100.7|40112|203.0.113.10|25) smtp;250 2.0.0 Ok: queued as 4F2A1\n"
        );
        // Only the address known: `dns;` with an empty name; only the name: no transport.
        let o = opts();
        let mut by_ip = build(
            Kind::Delivery,
            vec![
                (Field::MailFrom, b"a@example.org"),
                (Field::RcptTo, b"b@example.net"),
                (Field::MxIp, b"203.0.113.15"),
                (Field::Note, b"250 ok"),
            ],
        );
        by_ip.time = Timestamp { sec: T, usec: 0 };
        let l = main_line(&o, &by_ip);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.00 tcp_local                 D 0 a@example.org rfc822;b@example.net b@example.net dns; (TCP||0|203.0.113.15|25) smtp;250 ok\n"
        );
        assert_eq!(
            parse_line(&l, &o).unwrap().diagnostic.as_deref(),
            Some("dns; (TCP||0|203.0.113.15|25) smtp;250 ok")
        );
        let mut by_name = build(
            Kind::Delivery,
            vec![
                (Field::MailFrom, b"a@example.org"),
                (Field::RcptTo, b"b@example.net"),
                (Field::MxHost, b"mx.example.net"),
            ],
        );
        by_name.time = Timestamp { sec: T, usec: 0 };
        assert!(main_line(&o, &by_name).ends_with(" b@example.net dns;mx.example.net smtp;\n"));
        // Sun's K example: a reply, no remote server known.
        let mut k = build(
            Kind::PermanentFailure,
            vec![
                (Field::RcptTo, b"nosuch@example.net"),
                (Field::Note, b"550 5.1.1 <nosuch@example.net>: user unknown"),
            ],
        );
        k.time = Timestamp {
            sec: 1_709_803_300,
            usec: 100_000,
        };
        k.size = 2000;
        assert_eq!(
            main_line(&o, &k),
            "07-Mar-2024 09:21:40.10 tcp_local                 K 2  rfc822;nosuch@example.net nosuch@example.net smtp;550 5.1.1 <nosuch@example.net>: user unknown\n"
        );
        let mut o2 = opts();
        o2.log_format = 2;
        assert_eq!(
            main_line(&o2, &k),
            "07-Mar-2024 09:21:40.10 tcp_local                 K 2 <> rfc822;nosuch@example.net nosuch@example.net smtp;550 5.1.1 <nosuch@example.net>: user unknown\n"
        );
    }

    #[test]
    fn user_name_is_the_auth_user_or_the_process_user() {
        let mut o = opts();
        o.log_username = true;
        // No SMTP AUTH: the user the MTA runs as.
        assert_eq!(
            main_line(&o, &reception()),
            "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com mailsrv\n"
        );
        let mut ev = reception();
        ev.push(Field::AcceptAuthUser, b"jdoe", 100);
        assert!(main_line(&o, &ev).ends_with(" bob@example.com *jdoe\n"));
        // The message's submission user on the dequeue side.
        let mut d = build(
            Kind::Delivery,
            vec![
                (Field::MailFrom, b"a@example.org"),
                (Field::RcptTo, b"b@example.net"),
                (Field::AuthUser, b"carol"),
            ],
        );
        d.time = Timestamp { sec: T, usec: 0 };
        assert_eq!(
            main_line(&o, &d),
            "07-Mar-2024 09:15:02.00 tcp_local                 D 0 a@example.org rfc822;b@example.net b@example.net *carol\n"
        );
        o.log_format = 3;
        assert!(main_line(&o, &reception()).ends_with(" 15:bob@example.com 7:mailsrv\n"));
        // Unknown to the user database: an empty field.
        o.log_format = 1;
        o.process_user.clear();
        assert!(main_line(&o, &reception()).ends_with(" bob@example.com \n"));
        // Taken once, from the process.
        assert_eq!(
            ImtaOptions::defaults(&ctx()).process_user,
            crate::sys::effective_user_name().unwrap_or_default()
        );
    }

    #[test]
    fn notary_flags_without_dsn_parameters() {
        let mut o = opts();
        o.log_notary = true;
        let l = main_line(&o, &reception());
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com 12\n"
        );
        assert_eq!(parse_line(&l, &o).unwrap().notary.as_deref(), Some("12"));
        o.log_format = 3;
        assert!(main_line(&o, &reception()).ends_with(" 15:bob@example.com 12\n"));
    }

    #[test]
    fn reason_keeps_its_spaces() {
        let mut o = opts();
        o.log_reason = true;
        // No reply code: the reason is the whole note, and so is the diagnostic.
        let ev = outbound(
            Kind::PermanentFailure,
            b"message expired\tafter 5 days",
            b"erin@example.com",
        );
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.88 tcp_local                 R 0 erin@example.com rfc822;dave@example.net dave@example.net message expired after 5 days message expired after 5 days\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.reason.as_deref(), Some("message expired after 5 days"));
        assert_eq!(
            e.diagnostic.as_deref(),
            Some("message expired after 5 days")
        );
        // A reason that looks like a diagnostic stays apart from the real one, with the
        // trailing fields after both.
        o.log_connection = 64;
        let ev = outbound(
            Kind::PermanentFailure,
            b"554 smtp;550 x dns;y",
            b"erin@example.com",
        );
        let l = main_line(&o, &ev);
        assert!(
            l.ends_with(" dave@example.net smtp;550 x dns;y dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;554 smtp;550 x dns;y SMTP/example.net/mx.example.net\n"),
            "{l}"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.reason.as_deref(), Some("smtp;550 x dns;y"));
        assert_eq!(
            e.application.as_deref(),
            Some("SMTP/example.net/mx.example.net")
        );
        // Without the diagnostic the reason runs up to the trailing fields.
        o.log_diagnostics = false;
        let l = main_line(&o, &ev);
        assert!(
            l.ends_with(" dave@example.net smtp;550 x dns;y SMTP/example.net/mx.example.net\n"),
            "{l}"
        );
        assert_eq!(
            parse_line(&l, &o).unwrap().reason.as_deref(),
            Some("smtp;550 x dns;y")
        );
    }

    #[test]
    fn length_prefixes_count_characters() {
        assert_eq!(char_len(b"bob@example.com"), 15);
        assert_eq!(char_len("jos\u{e9}@example.org".as_bytes()), 16);
        assert_eq!(char_len("\u{1f600}".as_bytes()), 1);
        // A sequence that is not UTF-8 counts as the one U+FFFD a lossy decoder shows.
        assert_eq!(char_len(b"a\xffb"), 3);
        assert_eq!(char_len(b"a\xf0\x9f\x98b"), 3);
        let mut o = opts();
        o.log_format = 3;
        let mut ev = build(
            Kind::Reception,
            vec![
                (Field::MailFrom, "jos\u{e9}@example.org".as_bytes()),
                (Field::RcptTo, "\u{fc}ber\u{2603}@example.com".as_bytes()),
            ],
        );
        ev.time = Timestamp {
            sec: T,
            usec: 370_000,
        };
        let l = main_line(&o, &ev);
        assert_eq!(
            l,
            "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 0 16:jos\u{e9}@example.org 24:rfc822;\u{fc}ber\u{2603}@example.com 17:\u{fc}ber\u{2603}@example.com\n"
        );
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.from, "jos\u{e9}@example.org");
        assert_eq!(e.to, "\u{fc}ber\u{2603}@example.com");
        // Bytes that are not UTF-8, read back through a lossy decoder.
        let mut ev = build(
            Kind::Reception,
            vec![(Field::MailFrom, b"a\xffb@x"), (Field::RcptTo, b"c@y")],
        );
        ev.time = Timestamp { sec: T, usec: 0 };
        let mut out = Out::default();
        Imta::new(o.clone()).format(&ev, &mut out);
        let bytes = &out.bufs[Target::Main as usize];
        assert!(bytes.windows(9).any(|w| w == b" 5:a\xffb@x "));
        let text = String::from_utf8_lossy(bytes);
        assert_eq!(parse_line(&text, &o).unwrap().from, "a\u{fffd}b@x");
        // A length that runs past the line is an error, not a panic.
        assert!(
            parse_line(
                "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 0 9:jos\u{e9} 1:x 1:x",
                &o
            )
            .is_err()
        );
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
