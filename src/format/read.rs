//! What the readers of the four formats share: the kinds of line they recognise, the
//! record a line becomes, and small byte helpers.
//!
//! Each format's reader (`ec::read`, `postfix::read`, `imta::read`, `json::read`) turns its
//! lines back into the crate's [`Event`]s, what the library would have been given to write
//! them; [`Parser`](crate::format::parser::Parser) puts them together. Readers are pure:
//! bytes in, records out, with no files and no threads.
//!
//! Every line is recognised on its own by how it starts, so a file (or standard input)
//! may hold lines of several files of one family:
//!
//! | start of the line | kind |
//! | --- | --- |
//! | `DIGITS@` | ec_logger mainlog (or acctlog / importlog) |
//! | `DIGITS: R="` / `DIGITS: Marker` | ec_logger rejectlog |
//! | `DIGITS:` | ec_logger paniclog |
//! | `Mmm dd hh:mm:ss HOST ` / `YYYY-MM-DDThh:mm:ss` | Postfix syslog line |
//! | `DD-Mon-YYYY hh:mm:ss.cc ` | Sun mail.log / connection.log |
//! | `[DD/Mon/YYYY:hh:mm:ss ±zzzz] ` | Sun service log |
//! | `{` | json_logger record |

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::event::{Event, Timestamp, flags};
use crate::format::text::num;

/// The kind of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// ec_logger mainlog.
    EcMain,
    /// ec_logger rejectlog.
    EcReject,
    /// ec_logger paniclog.
    EcPanic,
    /// ec_logger acctlog.
    EcAcct,
    /// ec_logger importlog.
    EcImport,
    /// Postfix syslog line (mainlog or paniclog).
    Postfix,
    /// Sun `mail.log_current` / `connection.log_current`.
    ImtaMail,
    /// Sun service log.
    ImtaService,
    /// json_logger record.
    Json,
}

/// The four formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Momentum ec_logger.
    Ec,
    /// Postfix.
    Postfix,
    /// Sun Messaging Server.
    Imta,
    /// json_logger.
    Json,
}

impl LineKind {
    /// The format family.
    pub fn family(self) -> Family {
        match self {
            LineKind::EcMain
            | LineKind::EcReject
            | LineKind::EcPanic
            | LineKind::EcAcct
            | LineKind::EcImport => Family::Ec,
            LineKind::Postfix => Family::Postfix,
            LineKind::ImtaMail | LineKind::ImtaService => Family::Imta,
            LineKind::Json => Family::Json,
        }
    }

    /// A name for messages.
    pub fn name(self) -> &'static str {
        match self {
            LineKind::EcMain => "ec_logger mainlog",
            LineKind::EcReject => "ec_logger rejectlog",
            LineKind::EcPanic => "ec_logger paniclog",
            LineKind::EcAcct => "ec_logger acctlog",
            LineKind::EcImport => "ec_logger importlog",
            LineKind::Postfix => "Postfix log",
            LineKind::ImtaMail => "Sun mail.log",
            LineKind::ImtaService => "Sun service log",
            LineKind::Json => "json_logger record",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Records

/// What one line says: an event, and for diagnostics where it came from.
#[derive(Clone, Debug)]
pub struct Rec {
    /// The event (for a Postfix message, `MsgId` is its queue ID; for a Sun message, its
    /// queue file name or Message-ID and recipient).
    pub ev: Event,
    /// Which program or file reported a diagnostic (`Error` events).
    pub source: String,
}

/// The source of a reception known only from its first line.
pub const PARTIAL: &str = "(partial)";

/// The ids a line carries, for `trace`.
#[derive(Default, Debug)]
pub struct Ids {
    /// MTA message ids, batch and connection ids, queue ids, queue file names.
    pub ids: Vec<Vec<u8>>,
    /// Message-ID header (without angle brackets).
    pub message_id: Option<Vec<u8>>,
}

/// How many ASCII digits `line` starts with.
pub(crate) fn leading_digits(line: &[u8]) -> usize {
    line.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// Seconds with up to six decimals (`44.06`, as `push_secs_2dp` and Postfix's delays
/// write them) as microseconds.
pub(crate) fn secs_2dp(s: &[u8]) -> Option<u64> {
    let (a, b) = match s.iter().position(|&c| c == b'.') {
        Some(p) => (&s[..p], &s[p + 1..]),
        None => (s, &b""[..]),
    };
    let whole = num(a)?;
    let mut frac = 0u64;
    let mut scale = 1_000_000u64;
    for &d in b.iter().take(6) {
        if !d.is_ascii_digit() {
            return None;
        }
        scale /= 10;
        frac += (d - b'0') as u64 * scale;
    }
    whole.checked_mul(1_000_000)?.checked_add(frac)
}

/// Sets the reception time of `ev` to `micros` before its time.
pub(crate) fn set_received(ev: &mut Event, micros: u64) {
    ev.received = Timestamp::new(ev.time.sec, ev.time.usec as i64 - micros as i64);
    ev.flags |= flags::HAS_RECEIVED;
}

/// `b` as text, for messages.
pub(crate) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------------------------------------------------------------------------------------
// Speed helpers: a fast non-cryptographic hash for the in-memory tables (the keys come
// from the logs being read, not from an attacker who could choose collisions to slow a
// one-shot report down meaningfully) and substring search without per-window
// comparisons.

/// FxHash (the rustc hasher): one multiply per word.
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Fx {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut c = bytes.chunks_exact(8);
        for w in &mut c {
            self.add(u64::from_le_bytes(w.try_into().unwrap()));
        }
        let r = c.remainder();
        if !r.is_empty() {
            let mut b = [0u8; 8];
            b[..r.len()].copy_from_slice(r);
            self.add(u64::from_le_bytes(b) ^ ((r.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map with [`Fx`].
pub type Map<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;
/// A hash set with [`Fx`].
pub type Set<K> = HashSet<K, BuildHasherDefault<Fx>>;

/// Position of the first `needle` in `hay`.
#[inline]
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(p) = hay[from..].iter().position(|&b| b == first) {
        let at = from + p;
        let tail = &hay[at + 1..];
        if tail.len() >= rest.len() && tail.iter().zip(rest).all(|(a, b)| a == b) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Position of the last `needle` in `hay`.
pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| hay[i..].starts_with(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds() {
        assert_eq!(find(b"a: b: c", b": "), Some(1));
        assert_eq!(find(b"abc", b"cd"), None);
        assert_eq!(find(b"aab", b"ab"), Some(1));
        assert_eq!(rfind(b"a: b: c", b": "), Some(4));
        assert_eq!(find(b"", b"x"), None);
    }
}
