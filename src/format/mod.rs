//! Formats: pure functions from an [`Event`](crate::event::Event) to the bytes of whole lines.
//!
//! A [`Formatter`](crate::format::Formatter) appends complete lines (each ending in `\n`) to the per-file buffers of an
//! [`Out`](crate::format::Out); it never does I/O and keeps no state that changes its output apart from caches and the
//! per-thread counters of imta_logger's process id field.
//! The helpers here (integers, dates, escapes) are written by hand: the writer thread formats
//! millions of lines a second and `core::fmt` is several times slower than these.

pub mod bounce;
pub mod ec;
pub mod imta;
pub mod postfix;

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{ConfigError, Options};
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

/// A kind's setup function: reads its own options (and marks them used).
pub type SetupFn = fn(&mut Options<'_>, &FormatContext) -> Result<KindSetup, ConfigError>;

/// The logger kinds mtalog knows, by `module_name`.
pub const KINDS: [(&str, &str, SetupFn); 3] = [
    (
        "ec_logger",
        "Momentum-style logging (mainlog, rejectlog, paniclog, acctlog, importlog)",
        ec::setup,
    ),
    (
        "postfix_logger",
        "Postfix-style logging that pflogsumm reads",
        postfix::setup,
    ),
    (
        "imta_logger",
        "Sun Java System Messaging Server MTA logging",
        imta::setup,
    ),
];

/// Looks a kind up by name.
pub fn kind(name: &str) -> Option<&'static (&'static str, &'static str, SetupFn)> {
    KINDS.iter().find(|k| k.0 == name)
}

/// The text fields a logger kind's lines read for events of `kind`, as bits
/// `1 << Field as u64`; the hooks copy only these out of the host's objects (the other
/// kinds' formats depend on their options, so they get every field).
#[inline]
pub fn fields_used(logger_kind: &str, kind: Kind) -> u64 {
    match logger_kind {
        "ec_logger" => ec::fields_used(kind),
        _ => u64::MAX,
    }
}

/// The files a logger writes; a formatter appends lines to the buffer of each target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// mainlog (ec_logger, postfix_logger) or `mail.log_current` (imta_logger).
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

/// Removes one trailing `\n` (and a `\r` before it) from a diagnostic text: that newline is
/// the line end, not content.
pub fn strip_one_newline(text: &[u8]) -> &[u8] {
    let t = text.strip_suffix(b"\n").unwrap_or(text);
    if t.len() != text.len() {
        t.strip_suffix(b"\r").unwrap_or(t)
    } else {
        t
    }
}

// ---------------------------------------------------------------------------------------
// Numbers

/// Appends the decimal form of `n`.
pub fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    // Two digits per division, from a table: half the dependent divisions of a digit loop.
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    } else {
        i -= 1;
        tmp[i] = b'0' + n as u8;
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// "00" to "99", back to back.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the decimal form of `n` (with `-` when negative).
pub fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// Appends `n` as exactly `width` digits, zero-padded (n is reduced modulo 10^width).
pub fn push_padded(buf: &mut Vec<u8>, mut n: u64, width: usize) {
    let start = buf.len();
    buf.resize(start + width, b'0');
    for i in (0..width).rev() {
        buf[start + i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Appends a microsecond duration as seconds with exactly two decimals, rounded half up
/// (`%.2f`).
pub fn push_secs_2dp(buf: &mut Vec<u8>, micros: u64) {
    let centis = micros / 10_000 + u64::from(micros % 10_000 >= 5_000);
    push_u64(buf, centis / 100);
    buf.push(b'.');
    push_padded(buf, centis % 100, 2);
}

/// Upper-case hex digits.
pub const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `\xHH` (lower-case hex digits).
pub fn push_hex_escape(buf: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.extend_from_slice(&[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
}

// ---------------------------------------------------------------------------------------
// Dates

/// English month abbreviations.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down civil time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Full year.
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    /// 0..=23
    pub hour: u32,
    /// 0..=59
    pub min: u32,
    /// 0..=59
    pub sec: u32,
    /// Offset from UTC in seconds (east positive) that was applied.
    pub offset: i32,
}

/// Converts epoch seconds plus a UTC offset into a civil date and time (proleptic
/// Gregorian; Howard Hinnant's `civil_from_days`).
pub fn civil(epoch: i64, offset: i32) -> Civil {
    let t = epoch + offset as i64;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: secs / 3600,
        min: secs / 60 % 60,
        sec: secs % 60,
        offset,
    }
}

/// Local-time offsets for the formats that print local time.
pub trait Zone: Send {
    /// Offset from UTC, in seconds east, in effect at `epoch`.
    fn offset_at(&mut self, epoch: i64) -> i32;
}

/// A fixed offset (UTC when 0): for tests and for `utc = true`.
#[derive(Clone, Copy, Debug, Default)]
pub struct FixedZone(pub i32);

impl Zone for FixedZone {
    fn offset_at(&mut self, _epoch: i64) -> i32 {
        self.0
    }
}

/// The process's local time zone (TZ / /etc/localtime), cached per quarter hour.
#[derive(Debug, Default)]
pub struct LocalZone {
    bucket: i64,
    offset: i32,
    valid: bool,
}

impl Zone for LocalZone {
    fn offset_at(&mut self, epoch: i64) -> i32 {
        let bucket = epoch.div_euclid(900);
        if !self.valid || bucket != self.bucket {
            self.offset = crate::sys::utc_offset(epoch);
            self.bucket = bucket;
            self.valid = true;
        }
        self.offset
    }
}

/// Builds the zone a logger uses: UTC when `utc`, else the local zone.
pub fn zone(utc: bool) -> Box<dyn Zone> {
    if utc {
        Box::new(FixedZone(0))
    } else {
        Box::new(LocalZone::default())
    }
}

/// Appends `+hhmm` / `-hhmm` for an offset in seconds.
pub fn push_offset_hhmm(buf: &mut Vec<u8>, offset: i32, colon: bool) {
    buf.push(if offset < 0 { b'-' } else { b'+' });
    let m = offset.unsigned_abs() / 60;
    push_padded(buf, (m / 60) as u64, 2);
    if colon {
        buf.push(b':');
    }
    push_padded(buf, (m % 60) as u64, 2);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_match_std() {
        let mut values: Vec<u64> = (0..=100_000).collect();
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1, next - 1]);
            p = next;
        }
        values.extend([u64::MAX, u64::MAX - 1, i64::MAX as u64]);
        for v in values {
            let mut b = vec![b'#'];
            push_u64(&mut b, v);
            assert_eq!(&b[1..], format!("{v}").as_bytes());
        }
    }

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn integers() {
        assert_eq!(s(|b| push_u64(b, 0)), "0");
        assert_eq!(s(|b| push_u64(b, u64::MAX)), "18446744073709551615");
        assert_eq!(s(|b| push_i64(b, -42)), "-42");
        assert_eq!(s(|b| push_i64(b, i64::MIN)), "-9223372036854775808");
        assert_eq!(s(|b| push_padded(b, 7, 5)), "00007");
    }

    #[test]
    fn two_decimals_round_half_up() {
        assert_eq!(s(|b| push_secs_2dp(b, 0)), "0.00");
        assert_eq!(s(|b| push_secs_2dp(b, 44_060_000)), "44.06");
        assert_eq!(s(|b| push_secs_2dp(b, 14_205_000)), "14.21");
        assert_eq!(s(|b| push_secs_2dp(b, 14_204_999)), "14.20");
        assert_eq!(s(|b| push_secs_2dp(b, 999_999)), "1.00");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(
            civil(0, 0),
            Civil {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                min: 0,
                sec: 0,
                offset: 0
            }
        );
        // 2026-11-23 11:08:57 UTC
        let c = civil(1_795_432_137, 0);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.min, c.sec),
            (2026, 11, 23, 11, 8, 57)
        );
        // Leap day, with a +01:00 offset crossing midnight.
        let c = civil(951_865_200, 3600); // 2000-02-29 23:00:00 UTC
        assert_eq!((c.year, c.month, c.day, c.hour), (2000, 3, 1, 0));
        let c = civil(-1, 0);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.min, c.sec),
            (1969, 12, 31, 23, 59, 59)
        );
    }

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

    #[test]
    fn newline_stripping() {
        assert_eq!(strip_one_newline(b"a\n"), b"a");
        assert_eq!(strip_one_newline(b"a\r\n"), b"a");
        assert_eq!(strip_one_newline(b"a\n\n"), b"a\n");
        assert_eq!(strip_one_newline(b"a\r"), b"a\r");
    }

    #[test]
    fn offsets() {
        assert_eq!(s(|b| push_offset_hhmm(b, 3600, false)), "+0100");
        assert_eq!(
            s(|b| push_offset_hhmm(b, -(5 * 3600 + 1800), true)),
            "-05:30"
        );
    }
}
