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
//!
//! The writer is [`Postfix`]; [`read`] reads Postfix lines (ours or Postfix's own) back
//! into events.

pub mod read;
mod sanitize;
mod write;

pub use sanitize::{push_bracketed, push_text, push_token};
pub use write::{Postfix, push_delay};

use std::path::PathBuf;

use crate::config::{ConfigError, Options, err};
use crate::event::Timestamp;
use crate::format::{FileSpec, FormatContext, KindSetup, Level, Target, zone};

/// Default mainlog path.
pub const DEFAULT_MAINLOG: &str = "/var/log/postfix/mainlog";
/// Default paniclog path.
pub const DEFAULT_PANICLOG: &str = "/var/log/postfix/paniclog";

/// Reads postfix_logger's own options (docs/options.md lists them with their defaults).
pub fn setup(o: &mut Options<'_>, ctx: &FormatContext) -> Result<KindSetup, ConfigError> {
    let mut files = Vec::with_capacity(2);
    for (target, key, mode_key, default) in [
        (Target::Main, "mainlog", "mainlog_mode", DEFAULT_MAINLOG),
        (Target::Panic, "paniclog", "paniclog_mode", DEFAULT_PANICLOG),
    ] {
        let mode = o.mode(&[mode_key], 0o644)?;
        let path = o.path(key)?.unwrap_or_else(|| PathBuf::from(default));
        files.push(FileSpec {
            target,
            path,
            mode,
            key,
        });
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

impl Stage {
    const ALL: [Stage; 6] = [
        Stage::Connect,
        Stage::Helo,
        Stage::Mail,
        Stage::Rcpt,
        Stage::Data,
        Stage::EndOfMessage,
    ];

    /// The stage of an `MC_STATE_*` phase; other phases give the latest stage the session
    /// reached, judged by what is known.
    fn of_phase(phase: i32, sender: &[u8], rcpt: &[u8], helo: &[u8]) -> Stage {
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

    /// The first phase of the stage (what a reader gives a rejection at this stage).
    fn phase(self) -> i32 {
        match self {
            Stage::Connect => 0,
            Stage::Helo => 2,
            Stage::Mail => 4,
            Stage::Rcpt => 6,
            Stage::Data => 8,
            Stage::EndOfMessage => 9,
        }
    }

    /// The name in a `reject:` line: the greeting stage is `EHLO`, or `HELO` when the
    /// client greeted with HELO (`said_helo`).
    fn name(self, said_helo: bool) -> &'static [u8] {
        match self {
            Stage::Connect => b"CONNECT",
            Stage::Helo if said_helo => b"HELO",
            Stage::Helo => b"EHLO",
            Stage::Mail => b"MAIL",
            Stage::Rcpt => b"RCPT",
            Stage::Data => b"DATA",
            Stage::EndOfMessage => b"END-OF-MESSAGE",
        }
    }

    /// The stage a `reject:` line names.
    fn parse(name: &[u8]) -> Option<Stage> {
        Stage::ALL
            .into_iter()
            .find(|s| s.name(false) == name || s.name(true) == name)
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

#[cfg(test)]
mod tests;
