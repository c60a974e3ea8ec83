//! Formats: pure functions from an [`Event`](crate::event::Event) to the bytes of whole
//! lines, and back.
//!
//! A [`Formatter`](crate::format::Formatter) appends complete lines (each ending in `\n`) to
//! the per-file buffers of an [`Out`](crate::format::Out); it never does I/O and keeps no
//! state that changes its output apart from caches and the per-thread counters of
//! imta_logger's process id field.
//!
//! Whatever event it gets, a formatter writes lines its own format's reader (and so
//! `mtalog check`) accepts: times are written within 1970 to 9999
//! ([`Timestamp::clamped`](crate::event::Timestamp::clamped)), numbers in their full range,
//! and a value outside what a field can hold as the format's "unknown" (ec_logger's
//! connection stage 22). `tests/cli_check_any_line.rs` checks this with hostile events.
//!
//! Each logger kind has its own module (`ec`, `postfix`, `imta`, `json`, `bounce`): its
//! options and setup, its writer (`write.rs`) and its reader (`read.rs`, lines back into
//! events) side by side.
//! What the formats share: the number and date helpers in [`text`](crate::format::text)
//! (re-exported here), what the readers share in [`read`](crate::format::read), and the
//! [`Parser`](crate::format::parser::Parser) that reads any of the four formats.
//! Nothing here opens files or starts threads.

pub mod bounce;
pub mod ec;
pub mod imta;
pub mod json;
mod kind;
pub mod parser;
pub mod postfix;
pub mod read;
pub mod text;

pub use text::{
    Civil, FixedZone, HEX_UPPER, LocalZone, MONTHS, Zone, civil, push_hex_escape, push_i64,
    push_offset_hhmm, push_padded, push_secs_2dp, push_u64, strip_one_newline, zone,
};

pub use kind::LoggerKind;

use std::path::PathBuf;
use std::time::Duration;

use crate::event::{Event, Kind, Timestamp};

/// One file a logger writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// Which buffer feeds it.
    pub target: Target,
    /// Where it is.
    pub path: PathBuf,
    /// The mode it is created with (applied exactly, whatever the umask).
    pub mode: u32,
    /// The option that gives the path (for a path inside a directory option, that one),
    /// so that an error opening the file names its line and key.
    pub key: &'static str,
}

/// What a logger kind's `setup` returns from its options.
pub struct KindSetup {
    /// The files to open; targets without a file are not written.
    pub files: Vec<FileSpec>,
    /// The formatter.
    pub formatter: Box<dyn Formatter>,
    /// Heartbeat interval, if the kind writes heartbeats.
    pub heartbeat: Option<Duration>,
    /// Whether `mtalog_acct_log` / `mtalog_import_log` records are accepted.
    pub records: bool,
}

/// Facts every kind's `setup` may use, decided outside the kind's own options.
#[derive(Clone, Debug)]
pub struct FormatContext {
    /// Level of a `log_error` text without a severity prefix (`error_default_level`).
    pub error_default_level: Level,
    /// Process id of the host.
    pub pid: u32,
    /// The machine's host name (full, as gethostname gives it).
    pub hostname: String,
}

impl FormatContext {
    /// The context of this process.
    pub fn current(error_default_level: Level) -> FormatContext {
        FormatContext {
            error_default_level,
            pid: std::process::id(),
            hostname: crate::sys::hostname(),
        }
    }
}

/// The files a logger writes; a formatter appends lines to the buffer of each target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// mainlog (ec_logger, postfix_logger, json_logger) or `mail.log_current` (imta_logger).
    Main = 0,
    /// ec_logger rejectlog.
    Reject = 1,
    /// paniclog / error log / service log.
    Panic = 2,
    /// ec_logger acctlog.
    Acct = 3,
    /// ec_logger importlog.
    Import = 4,
    /// imta_logger `connection.log_current`.
    Connection = 5,
}

/// Number of [`Target`] values.
pub const TARGET_COUNT: usize = 6;

impl Target {
    /// Every target, in index order.
    pub const ALL: [Target; TARGET_COUNT] = [
        Target::Main,
        Target::Reject,
        Target::Panic,
        Target::Acct,
        Target::Import,
        Target::Connection,
    ];

    /// The name of the file option that names the target's file (`mainlog`,
    /// `rejectlog`, `paniclog`, `acctlog`, `importlog`, `connection_log`): a syslog
    /// message's MSGID.
    pub fn file_key(self) -> &'static str {
        match self {
            Target::Main => "mainlog",
            Target::Reject => "rejectlog",
            Target::Panic => "paniclog",
            Target::Acct => "acctlog",
            Target::Import => "importlog",
            Target::Connection => "connection_log",
        }
    }
}

/// Line buffers, one per [`Target`].
#[derive(Debug, Default)]
pub struct Out {
    /// Indexed by `Target as usize`.
    pub bufs: [Vec<u8>; TARGET_COUNT],
}

impl Out {
    /// The buffer of `t`.
    pub fn buf(&mut self, t: Target) -> &mut Vec<u8> {
        &mut self.bufs[t as usize]
    }

    /// The length of every buffer, by target.
    #[inline]
    pub fn lens(&self) -> [usize; TARGET_COUNT] {
        std::array::from_fn(|i| self.bufs[i].len())
    }

    /// Clears every buffer.
    pub fn clear(&mut self) {
        for b in &mut self.bufs {
            b.clear();
        }
    }
}

/// What every logger kind implements.
pub trait Formatter: Send {
    /// Appends the lines `ev` produces (possibly none) to `out`.
    fn format(&mut self, ev: &Event, out: &mut Out);
    /// Appends heartbeat lines, if the format has them.
    fn heartbeat(&mut self, _now: Timestamp, _out: &mut Out) {}
    /// Lines written at the start of a new file of `target` (e.g. Sun's `Log created`).
    fn file_header(&mut self, _target: Target, _now: Timestamp, _out: &mut Vec<u8>) {}
    /// Whether events of `kind` can give lines with the formatter's options. Asked once
    /// when the logger is built: the others are filtered out at the hook (counted in
    /// `filtered`) and cost the host nothing. Every kind by default.
    fn writes(&self, _kind: Kind) -> bool {
        true
    }
    /// Whether out-of-band bounces (`mtalog_bounce_log`) give lines: `None` when the
    /// format has no record for them, else whether its options turn them on.
    fn out_of_band(&self) -> Option<bool> {
        None
    }
    /// How many byte sequences that were not UTF-8 were written as U+FFFD since the last
    /// call (by the formats that write only UTF-8); the writer counts them in
    /// `invalid_utf8`.
    fn take_replaced(&mut self) -> u64 {
        0
    }
}

/// Severity of a `log_error` text, from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `debug:`
    Debug,
    /// `info:`
    Info,
    /// `notice:`
    Notice,
    /// `warning:`
    Warning,
    /// `error:`
    Error,
    /// `critical:`
    Critical,
    /// `fatal:`
    Fatal,
    /// `panic:`
    Panic,
}

impl Level {
    /// Parses a level name as used in configuration (`debug` ... `panic`, any case).
    pub fn parse(name: &str) -> Option<Level> {
        Some(match name.to_ascii_lowercase().as_str() {
            "debug" => Level::Debug,
            "info" | "information" => Level::Info,
            "notice" => Level::Notice,
            "warning" | "warn" => Level::Warning,
            "error" | "err" => Level::Error,
            "critical" | "crit" => Level::Critical,
            "fatal" => Level::Fatal,
            "panic" => Level::Panic,
            _ => return None,
        })
    }

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
            Level::Fatal => "fatal",
            Level::Panic => "panic",
        }
    }
}

/// Splits a severity prefix (`debug:`, `info:`, `notice:`, `warning:`, `error:`,
/// `critical:`, `fatal:`, `panic:`; any case; `information:` too) off `text`.
/// Returns the level (or `default` when unmarked) and the text after the prefix and the
/// spaces that follow it.
pub fn split_severity(text: &[u8], default: Level) -> (Level, &[u8], bool) {
    let colon = match text.iter().take(13).position(|&b| b == b':') {
        Some(c) => c,
        None => return (default, text, false),
    };
    let word = match std::str::from_utf8(&text[..colon]) {
        Ok(w) => w,
        Err(_) => return (default, text, false),
    };
    match Level::parse(word) {
        Some(l) if !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphabetic()) => {
            let mut rest = &text[colon + 1..];
            while let [b' ', tail @ ..] = rest {
                rest = tail;
            }
            (l, rest, true)
        }
        _ => (default, text, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_prefixes() {
        assert_eq!(
            split_severity(b"warning: disk", Level::Error),
            (Level::Warning, &b"disk"[..], true)
        );
        assert_eq!(
            split_severity(b"PANIC:x", Level::Error),
            (Level::Panic, &b"x"[..], true)
        );
        assert_eq!(
            split_severity(b"scriptlet: x", Level::Error),
            (Level::Error, &b"scriptlet: x"[..], false)
        );
        assert_eq!(
            split_severity(b"no colon", Level::Notice),
            (Level::Notice, &b"no colon"[..], false)
        );
    }
}
