//! The phrase indexes of the classifier, built at compile time from [`RULES`], and the
//! one pass over a text that finds the first rule with a phrase in it (the module
//! documentation of [`classify`](super) describes the matching).

use super::When::{Any, NoCode, NotTemporary, Permanent, Temporary};
use super::rules::RULES;
use super::{SCAN_BYTES, Test};

/// Lower-case byte of a text byte, or 0 for a separator (for compile-time checks; the
/// scan reads [`CLASS`]).
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

/// What [`Scan::normalize`] does with each byte: the byte it writes (in the low eight
/// bits: the lowered word byte, or a space for a separator) and what the byte is (the
/// flags above them).
static CLASS: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut b = 0;
    while b < 256 {
        let m = MAP[b];
        t[b] = if m == 0 { b' ' as u16 | SEP } else { m as u16 };
        b += 1;
    }
    let mut k = 0;
    while k < 6 {
        t[[b' ', b'\t', b'\r', b'\n', 0x0b, 0x0c][k] as usize] = b' ' as u16 | SEP | BLANK;
        k += 1;
    }
    t[b'@' as usize] = b' ' as u16 | SEP | AT;
    t[0xC2] = 0xC2 | LEAD;
    t[0xE2] = 0xE2 | LEAD;
    t
};
/// A separator: written as a space, and only one space for a run of them.
const SEP: u16 = 0x100;
/// A blank: it also ends a token (see [`Scan::normalize`]).
const BLANK: u16 = 0x200;
/// An `@`: its token is an address.
const AT: u16 = 0x400;
/// The lead byte of a no-break space or of a General Punctuation character (separators),
/// or of another character (a word byte).
const LEAD: u16 = 0x800;

/// Phrases of at least this many bytes are indexed by their first [`LONG_KEY`] bytes,
/// shorter ones by their first three: a text's common words (`not`, `mailbox`, `user`)
/// begin many phrases, and a longer key leaves fewer of them to compare at each word.
const LONG_KEY: usize = 6;

/// Buckets of the index of long phrases, and of short ones.
const LONG_BUCKETS: usize = 1024;
const SHORT_BUCKETS: usize = 64;

/// The key of a phrase or of a text position: its first `len` bytes (little-endian).
const fn key(word: u64, len: usize) -> u64 {
    word & ((1u64 << (8 * len)) - 1)
}

/// The bucket of a key among `buckets` (a power of two).
const fn bucket(key: u64, buckets: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - buckets.trailing_zeros())) as usize
}

#[derive(Clone, Copy)]
struct Entry {
    /// The phrase's bytes 8 to 15 (little-endian, zero-padded) and the mask of them (0
    /// and 0 for a phrase of up to eight bytes); its first eight are in [`Table::heads`].
    head2: u64,
    mask2: u64,
    rule: u8,
    phrase: &'static [u8],
}

/// Eight bytes of `p` from `at` (little-endian, zero-padded) and the mask of them.
const fn word_of(p: &[u8], at: usize) -> (u64, u64) {
    let mut w = 0u64;
    let mut k = 0;
    while at + k < p.len() && k < 8 {
        w |= (p[at + k] as u64) << (8 * k);
        k += 1;
    }
    let mask = if k == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * k)) - 1
    };
    (w, mask)
}

/// Is `p` one of the phrases of a table of long (or short) phrases?
const fn in_table(p: &[u8], long: bool) -> bool {
    (p.len() >= LONG_KEY) == long
}

/// How many phrases a table of long (or short) phrases has.
const fn phrase_count(long: bool) -> usize {
    let mut n = 0;
    let mut r = 0;
    while r < RULES.len() {
        if let Test::Text(ps) = RULES[r].test {
            let mut j = 0;
            while j < ps.len() {
                if in_table(ps[j].as_bytes(), long) {
                    n += 1;
                }
                j += 1;
            }
        }
        r += 1;
    }
    n
}

const LONG_PHRASES: usize = phrase_count(true);
const SHORT_PHRASES: usize = phrase_count(false);

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

/// The phrases of one length class, by the bucket of their key.
struct Table<const K: usize, const B: usize, const P: usize> {
    /// Bit `b` is set when bucket `b` has entries (at most 1024 buckets).
    used: [u64; 16],
    /// `starts[b]..starts[b + 1]` are the entries of bucket `b`.
    starts: [u16; B],
    /// The entries' first eight bytes and their masks, side by side: what every
    /// candidate is compared with first.
    heads: [(u64, u64); P],
    entries: [Entry; P],
}

/// Builds the table of the phrases of `K` bytes or more (`long`) or of fewer, keyed by
/// their first `K` (or three) bytes; `B` is the number of buckets plus one.
const fn table<const K: usize, const B: usize, const P: usize>(long: bool) -> Table<K, B, P> {
    assert!(RULES.len() <= 128, "rules are bits of a u128");
    let buckets = B - 1;
    assert!(buckets.is_power_of_two() && buckets <= 1024);
    let mut counts = [0u16; B];
    let mut r = 0;
    while r < RULES.len() {
        if let Test::Text(ps) = RULES[r].test {
            let mut j = 0;
            while j < ps.len() {
                let p = ps[j].as_bytes();
                check_phrase(p);
                if in_table(p, long) {
                    counts[bucket(key(word_of(p, 0).0, K), buckets) + 1] += 1;
                }
                j += 1;
            }
        }
        r += 1;
    }
    let mut k = 1;
    while k < B {
        counts[k] += counts[k - 1];
        k += 1;
    }
    let starts = counts;
    let mut fill = counts;
    let empty = Entry {
        head2: 0,
        mask2: 0,
        rule: 0,
        phrase: b"",
    };
    let mut entries = [empty; P];
    let mut heads = [(0u64, 0u64); P];
    let mut r = 0;
    while r < RULES.len() {
        if let Test::Text(ps) = RULES[r].test {
            let mut j = 0;
            while j < ps.len() {
                let p = ps[j].as_bytes();
                if in_table(p, long) {
                    let b = bucket(key(word_of(p, 0).0, K), buckets);
                    let (head2, mask2) = word_of(p, 8);
                    heads[fill[b] as usize] = word_of(p, 0);
                    entries[fill[b] as usize] = Entry {
                        head2,
                        mask2,
                        rule: r as u8,
                        phrase: p,
                    };
                    fill[b] += 1;
                }
                j += 1;
            }
        }
        r += 1;
    }
    let mut used = [0u64; 16];
    let mut b = 0;
    while b < buckets {
        if starts[b + 1] > starts[b] {
            used[b / 64] |= 1 << (b % 64);
        }
        b += 1;
    }
    Table {
        used,
        starts,
        heads,
        entries,
    }
}

impl<const K: usize, const B: usize, const P: usize> Table<K, B, P> {
    /// The bucket of the text whose first eight bytes are `word`, if it has entries.
    #[inline]
    fn bucket_of(&self, word: u64) -> (usize, bool) {
        let b = bucket(key(word, K), B - 1);
        (b, (self.used[b / 64] >> (b % 64)) & 1 != 0)
    }
}

/// `static`s, not `const`s: every use of a `const` is a fresh copy of the table.
static LONG: Table<LONG_KEY, { LONG_BUCKETS + 1 }, LONG_PHRASES> = table(true);
static SHORT: Table<3, { SHORT_BUCKETS + 1 }, SHORT_PHRASES> = table(false);

/// Bytes a [`Scan`] reads past the end of the normalized text (two words of eight).
const SLACK: usize = 16;

/// A text as the matching reads it: normalized (see [`Scan::normalize`]), with the
/// position of each word start. Kept by the caller and reused: nothing in it is read before
/// [`Scan::normalize`] wrote it.
pub(super) struct Scan {
    /// ` word word ... ` and [`SLACK`] zero bytes.
    buf: [u8; SCAN_BYTES + 2 + SLACK],
    /// Length of the normalized text.
    len: usize,
    /// Where its words start.
    starts: [u16; SCAN_BYTES / 2 + 2],
    words: usize,
    /// The word starts whose first three bytes may begin a phrase.
    candidates: [u16; SCAN_BYTES / 2 + 2],
}

impl Scan {
    /// An empty scan.
    pub(super) const fn new() -> Scan {
        Scan {
            buf: [0; SCAN_BYTES + 2 + SLACK],
            len: 0,
            starts: [0; SCAN_BYTES / 2 + 2],
            words: 0,
            candidates: [0; SCAN_BYTES / 2 + 2],
        }
    }

    /// Lowers `text` into the buffer as ` word word ... ` (see the module documentation):
    /// ASCII letters are lowered, ASCII digits and other non-ASCII bytes kept, everything
    /// else is a separator, and so are the UTF-8 forms of a no-break space and of the
    /// General Punctuation block (dashes, curly quotes, ...). A blank-separated token with
    /// an `@` in it (an address: `<jdoe@example.com>:`) is left out, so that
    /// `User <x@y> unknown` reads `user unknown`. The start of each word is noted on the
    /// way.
    pub(super) fn normalize(&mut self, text: &[u8]) {
        let text = &text[..text.len().min(SCAN_BYTES)];
        let buf = &mut self.buf;
        let starts = &mut self.starts;
        buf[0] = b' ';
        let mut n = 1;
        let mut words = 0;
        // Whether the last byte written is a space.
        let mut spaced = true;
        // Where the current blank-separated token starts in `buf`, and whether it has an
        // `@`.
        let mut token = 1;
        let mut at = false;
        let mut j = 0;
        // A run of word bytes is copied in a tight loop, left once a word. Every other
        // byte is written, and counted or not, without a branch on what it is: separators
        // and word starts alternate at random, and a branch on them would be mispredicted.
        // Only the rare cases branch: a lead byte, the end of an address.
        while j < text.len() {
            let mut c = CLASS[text[j] as usize];
            j += 1;
            if c & (SEP | AT | LEAD) == 0 {
                // A word byte, and the word bytes after it: copied in a tight loop (most of
                // a text is words; the branch out is taken once a word).
                starts[words] = n as u16;
                words += usize::from(spaced);
                spaced = false;
                buf[n] = c as u8;
                n += 1;
                while let Some(&b) = text.get(j) {
                    let d = CLASS[b as usize];
                    if d & (SEP | AT | LEAD) != 0 {
                        break;
                    }
                    buf[n] = d as u8;
                    n += 1;
                    j += 1;
                }
                continue;
            }
            if c & LEAD != 0 {
                // A no-break space or a General Punctuation character is a separator.
                let next = |k: usize| text.get(j + k).copied().unwrap_or(0);
                if c & 0xFF == 0xC2 && next(0) == 0xA0 {
                    c = b' ' as u16 | SEP;
                    j += 1;
                } else if c & 0xFF == 0xE2 && next(0) == 0x80 && (0x80..0xC0).contains(&next(1)) {
                    c = b' ' as u16 | SEP;
                    j += 2;
                }
            }
            at |= c & AT != 0;
            if at && c & BLANK != 0 {
                // The token was an address: left out.
                n = token;
                while words > 0 && usize::from(starts[words - 1]) >= token {
                    words -= 1;
                }
                spaced = true;
                at = false;
            }
            let sep = c & SEP != 0;
            buf[n] = c as u8;
            starts[words] = n as u16;
            words += usize::from(!sep & spaced);
            n += usize::from(!(sep & spaced));
            spaced = sep;
            token = if c & BLANK != 0 { n } else { token };
        }
        if at {
            n = token;
            while words > 0 && usize::from(starts[words - 1]) >= token {
                words -= 1;
            }
            spaced = true;
        }
        if !spaced {
            buf[n] = b' ';
            n += 1;
        }
        // The word reads of `first_hit` look up to SLACK bytes past the end: no byte left
        // there by a longer text or a dropped address may complete a phrase.
        buf[n..n + SLACK].fill(0);
        self.len = n;
        self.words = words;
    }

    /// Eight bytes of the buffer from `i` (which is at most the text's length).
    #[inline]
    fn word(&self, i: usize) -> u64 {
        u64::from_le_bytes(self.buf[i..i + 8].try_into().expect("eight bytes"))
    }

    /// The first rule of `applies` with a phrase in the text, if it comes before `limit`
    /// (an index in [`RULES`]); else `limit`. Phrases of rules at or after the best found
    /// so far are not compared.
    pub(super) fn first_hit(&mut self, applies: u128, limit: usize) -> usize {
        // The word starts in a bucket with entries, kept without a branch: which ones are
        // is different for every text, and a branch on it would be mispredicted often.
        let mut n = 0;
        for &start in &self.starts[..self.words] {
            let word = self.word(usize::from(start));
            self.candidates[n] = start;
            n += usize::from(LONG.bucket_of(word).1 | SHORT.bucket_of(word).1);
        }
        let mut limit = limit;
        for k in 0..n {
            let i = usize::from(self.candidates[k]);
            let word = self.word(i);
            limit = self.hits(&LONG, i, word, applies, limit);
            limit = self.hits(&SHORT, i, word, applies, limit);
        }
        limit
    }

    /// [`Scan::first_hit`] for the phrases of `table` at the word start `i` (whose first
    /// eight bytes are `word`).
    #[inline]
    fn hits<const K: usize, const B: usize, const P: usize>(
        &self,
        table: &Table<K, B, P>,
        i: usize,
        word: u64,
        applies: u128,
        mut limit: usize,
    ) -> usize {
        let b = table.bucket_of(word).0;
        let (lo, hi) = (table.starts[b] as usize, table.starts[b + 1] as usize);
        for (k, &(head, mask)) in table.heads[lo..hi].iter().enumerate() {
            if word & mask != head {
                continue;
            }
            let e = &table.entries[lo + k];
            let r = usize::from(e.rule);
            if r < limit
                && applies & (1 << r) != 0
                && (e.phrase.len() <= 8
                    || (self.word(i + 8) & e.mask2 == e.head2
                        && (e.phrase.len() <= 16 || self.buf[i..self.len].starts_with(e.phrase))))
            {
                limit = r;
            }
        }
        limit
    }
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

/// The first rule of `applies` that is not a list of phrases and passes for a reply with
/// the enhanced code `subject.detail` (`None`: without one); `RULES.len()` when none does.
pub(super) const fn first_other(applies: u128, enhanced: Option<(u16, u16)>) -> usize {
    let mut others = applies & !TEXT_RULES;
    while others != 0 {
        let i = others.trailing_zeros() as usize;
        let pass = match (RULES[i].test, enhanced) {
            (Test::Status(subject, details), Some((s, d))) => {
                let mut hit = s == subject && details.is_empty();
                let mut k = 0;
                while s == subject && k < details.len() {
                    hit |= details[k] == d;
                    k += 1;
                }
                hit
            }
            (Test::Status(..), None) => false,
            (Test::Text(_) | Test::Always, _) => true,
        };
        if pass {
            return i;
        }
        others &= others - 1;
    }
    RULES.len()
}

/// Enhanced-code subjects and details that [`OTHERS`] holds.
pub(super) const SUBJECTS: usize = 8;
pub(super) const DETAILS: usize = 64;

/// [`first_other`] worked out at compile time, by the reply's case (the index of
/// [`APPLIES`]), then subject and detail; subject [`SUBJECTS`] is a reply without an
/// enhanced code.
pub(super) static OTHERS: [[[u8; DETAILS]; SUBJECTS + 1]; 4] = {
    assert!(RULES.len() < 256);
    let mut t = [[[0u8; DETAILS]; SUBJECTS + 1]; 4];
    let mut case = 0;
    while case < 4 {
        let mut s = 0;
        while s <= SUBJECTS {
            let mut d = 0;
            while d < DETAILS {
                let enhanced = if s == SUBJECTS {
                    None
                } else {
                    Some((s as u16, d as u16))
                };
                t[case][s][d] = first_other(APPLIES[case], enhanced) as u8;
                d += 1;
            }
            s += 1;
        }
        case += 1;
    }
    t
};
