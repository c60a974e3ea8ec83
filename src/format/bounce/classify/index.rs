//! The phrase index of the classifier, built at compile time from [`RULES`], and the
//! one pass over a text that finds every rule with a phrase in it (the module
//! documentation of [`classify`](super) describes the matching).

use super::When::{Any, NoCode, NotTemporary, Permanent, Temporary};
use super::rules::RULES;
use super::{SCAN_BYTES, Test};

/// Lower-case byte of a text byte, or 0 for a separator (for compile-time checks; the
/// scan reads [`LOWER`]).
const MAP: [u8; 256] = {
    let mut m = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        m[b] = if c.is_ascii_uppercase() {
            c + 32
        } else if c.is_ascii_lowercase() || c.is_ascii_digit() || c >= 0x80 {
            c
        } else {
            0
        };
        b += 1;
    }
    m
};

/// What [`normalize`] does with each byte: a separator, a blank (ends a token), an `@`, a
/// lead byte of a UTF-8 punctuation character, or (from [`FIRST_WORD_BYTE`] up) the byte
/// it writes.
static SCAN: [u8; 256] = {
    let mut m = MAP;
    m[b' ' as usize] = BLANK;
    m[b'\t' as usize] = BLANK;
    m[b'\r' as usize] = BLANK;
    m[b'\n' as usize] = BLANK;
    m[0x0b] = BLANK;
    m[0x0c] = BLANK;
    m[b'@' as usize] = AT;
    m[0xC2] = LEAD;
    m[0xE2] = LEAD;
    m
};
const BLANK: u8 = 1;
const AT: u8 = 2;
const LEAD: u8 = 3;
/// Word bytes are digits, letters and non-ASCII bytes, all above the codes above.
const FIRST_WORD_BYTE: u8 = b'0';

/// Buckets of the phrase index.
const BUCKETS: usize = 1024;

/// The bucket of a phrase or a word start: a hash of its first three bytes.
const fn bucket(a: u8, b: u8, c: u8) -> usize {
    let key = a as u32 | (b as u32) << 8 | (c as u32) << 16;
    (key.wrapping_mul(0x9E37_79B1) >> 22) as usize
}

#[derive(Clone, Copy)]
struct Entry {
    /// The phrase's first eight bytes (little-endian, zero-padded) and the mask of them.
    head: u64,
    mask: u64,
    rule: u8,
    phrase: &'static [u8],
}

const fn entry(rule: u8, phrase: &'static [u8]) -> Entry {
    let mut head = 0u64;
    let mut k = 0;
    while k < phrase.len() && k < 8 {
        head |= (phrase[k] as u64) << (8 * k);
        k += 1;
    }
    let mask = if k == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * k)) - 1
    };
    Entry {
        head,
        mask,
        rule,
        phrase,
    }
}

const fn phrase_count() -> usize {
    let mut n = 0;
    let mut r = 0;
    while r < RULES.len() {
        if let Test::Text(ps) = RULES[r].test {
            n += ps.len();
        }
        r += 1;
    }
    n
}

const PHRASES: usize = phrase_count();

/// Rejects at compile time a phrase that could never match a normalized text.
const fn check_phrase(p: &[u8]) {
    assert!(p.len() >= 3, "a phrase has at least three bytes");
    assert!(p[0] != b' ', "a phrase starts with a word byte");
    let mut i = 0;
    while i < p.len() {
        let c = p[i];
        let word = MAP[c as usize] == c && c != 0;
        assert!(
            word || c == b' ',
            "phrases are lower case words and single spaces"
        );
        assert!(
            !(c == b' ' && i > 0 && p[i - 1] == b' '),
            "phrases have single spaces"
        );
        i += 1;
    }
}

struct Index {
    /// Bit `b` is set when bucket `b` has entries (128 bytes: always in cache).
    used: [u64; BUCKETS / 64],
    /// `starts[b]..starts[b + 1]` are the entries of bucket `b`.
    starts: [u16; BUCKETS + 1],
    entries: [Entry; PHRASES],
}

/// A `static`, not a `const`: every use of a `const` is a fresh copy of the table.
static INDEX: Index = {
    assert!(RULES.len() <= 128, "rule hits are a u128");
    let mut counts = [0u16; BUCKETS + 1];
    let mut r = 0;
    while r < RULES.len() {
        if let Test::Text(ps) = RULES[r].test {
            let mut j = 0;
            while j < ps.len() {
                let p = ps[j].as_bytes();
                check_phrase(p);
                counts[bucket(p[0], p[1], p[2]) + 1] += 1;
                j += 1;
            }
        }
        r += 1;
    }
    let mut k = 1;
    while k < BUCKETS + 1 {
        counts[k] += counts[k - 1];
        k += 1;
    }
    let starts = counts;
    let mut fill = counts;
    let mut entries = [entry(0, b""); PHRASES];
    let mut r = 0;
    while r < RULES.len() {
        if let Test::Text(ps) = RULES[r].test {
            let mut j = 0;
            while j < ps.len() {
                let p = ps[j].as_bytes();
                let b = bucket(p[0], p[1], p[2]);
                entries[fill[b] as usize] = entry(r as u8, p);
                fill[b] += 1;
                j += 1;
            }
        }
        r += 1;
    }
    let mut used = [0u64; BUCKETS / 64];
    let mut b = 0;
    while b < BUCKETS {
        if starts[b + 1] > starts[b] {
            used[b / 64] |= 1 << (b % 64);
        }
        b += 1;
    }
    Index {
        used,
        starts,
        entries,
    }
};

/// Lowers `text` into `buf` as ` word word ... ` (see the module documentation): ASCII
/// letters are lowered, ASCII digits and other non-ASCII bytes kept, everything else is a
/// separator, and so are the UTF-8 forms of a no-break space and of the General
/// Punctuation block (dashes, curly quotes, ...). A blank-separated token with an `@` in
/// it (an address: `<jdoe@example.com>:`) is left out, so that `User <x@y> unknown` reads
/// `user unknown`.
pub(super) fn normalize(text: &[u8], buf: &mut [u8; SCAN_BYTES + 2]) -> usize {
    let text = &text[..text.len().min(SCAN_BYTES)];
    buf[0] = b' ';
    let mut n = 1;
    // Where the current blank-separated token starts in `buf`, and whether it has an `@`.
    let mut token = 1;
    let mut at = false;
    let mut j = 0;
    while j < text.len() {
        let b = text[j];
        let m = SCAN[b as usize];
        j += 1;
        if m >= FIRST_WORD_BYTE {
            buf[n] = m;
            n += 1;
            continue;
        }
        match m {
            BLANK => {
                if at {
                    n = token;
                    at = false;
                }
                if buf[n - 1] != b' ' {
                    buf[n] = b' ';
                    n += 1;
                }
                token = n;
                continue;
            }
            AT => at = true,
            // A no-break space or a General Punctuation character is a separator.
            LEAD if b == 0xC2 && text.get(j) == Some(&0xA0) => j += 1,
            LEAD if b == 0xE2
                && text.get(j) == Some(&0x80)
                && text.get(j + 1).is_some_and(|c| (0x80..0xC0).contains(c)) =>
            {
                j += 2
            }
            LEAD => {
                buf[n] = b;
                n += 1;
                continue;
            }
            _ => {}
        }
        if buf[n - 1] != b' ' {
            buf[n] = b' ';
            n += 1;
        }
    }
    if at {
        n = token;
    }
    if buf[n - 1] != b' ' {
        buf[n] = b' ';
        n += 1;
    }
    // The word reads of `text_hits` look up to 8 bytes past the end: no byte left there
    // by a dropped address may complete a phrase.
    let tail = (n + 8).min(buf.len());
    buf[n..tail].fill(0);
    n
}

/// The set of text rules (bit = index in [`RULES`]) with a phrase in the normalized text
/// `buf[..n]`.
pub(super) fn text_hits(buf: &[u8; SCAN_BYTES + 2], n: usize) -> u128 {
    let norm = &buf[..n];
    let mut hits = 0u128;
    for i in 1..n.saturating_sub(2) {
        if norm[i - 1] != b' ' || norm[i] == b' ' {
            continue;
        }
        let b = bucket(norm[i], norm[i + 1], norm[i + 2]);
        if INDEX.used[b / 64] & (1 << (b % 64)) == 0 {
            continue;
        }
        let entries = &INDEX.entries[INDEX.starts[b] as usize..INDEX.starts[b + 1] as usize];
        let mut word = [0u8; 8];
        let avail = (buf.len() - i).min(8);
        word[..avail].copy_from_slice(&buf[i..i + avail]);
        let word = u64::from_le_bytes(word);
        for e in entries {
            if word & e.mask == e.head && (e.phrase.len() <= 8 || norm[i..].starts_with(e.phrase)) {
                hits |= 1 << e.rule;
            }
        }
    }
    hits
}

/// Which rules apply, by the reply's class digit: none, 4, 5, other.
pub(super) const APPLIES: [u128; 4] = {
    let mut m = [0u128; 4];
    let mut r = 0;
    while r < RULES.len() {
        let bit = 1u128 << r;
        let (none, temp, perm, other) = match RULES[r].when {
            Any => (true, true, true, true),
            NoCode => (true, false, false, false),
            Temporary => (false, true, false, false),
            Permanent => (false, false, true, false),
            NotTemporary => (true, false, true, true),
        };
        if none {
            m[0] |= bit;
        }
        if temp {
            m[1] |= bit;
        }
        if perm {
            m[2] |= bit;
        }
        if other {
            m[3] |= bit;
        }
        r += 1;
    }
    m
};

/// The rules whose test is a list of phrases.
pub(super) const TEXT_RULES: u128 = {
    let mut m = 0u128;
    let mut r = 0;
    while r < RULES.len() {
        if let Test::Text(_) = RULES[r].test {
            m |= 1 << r;
        }
        r += 1;
    }
    m
};
