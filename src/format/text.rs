//! Numbers, dates and small text helpers the formats share, written by hand: the writer
//! thread formats millions of lines a second and `core::fmt` is several times slower than
//! these. The inverse conversions ([`num`], [`month`], [`days_from_civil`],
//! [`local_epoch`]) serve the readers.

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

/// Strips one pair of enclosing angle brackets from an address.
pub fn bare_address(a: &[u8]) -> &[u8] {
    match a {
        [b'<', inner @ .., b'>'] => inner,
        _ => a,
    }
}

/// Splits an address at its last `@` into (localpart, domain).
pub fn split_address(a: &[u8]) -> (&[u8], &[u8]) {
    let a = bare_address(a);
    match a.iter().rposition(|&b| b == b'@') {
        Some(i) => (&a[..i], &a[i + 1..]),
        None => (a, &[]),
    }
}

/// The 3-digit SMTP reply code at the start of a note (2xx to 5xx, followed by a space, `-`
/// or the end), if any.
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

/// The enhanced status code (`X.Y.Z`, RFC 3463: class 2, 4 or 5, then one to three digits
/// twice) at the start of `t`, ending at a space or the end.
pub fn enhanced_code(t: &[u8]) -> Option<&[u8]> {
    if !matches!(t, [b'2' | b'4' | b'5', b'.', ..]) {
        return None;
    }
    let mut i = 2;
    for part in 0..2 {
        let start = i;
        while i < t.len() && t[i].is_ascii_digit() && i - start < 4 {
            i += 1;
        }
        if !(1..=3).contains(&(i - start)) {
            return None;
        }
        if part == 0 {
            if t.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    matches!(t.get(i), None | Some(b' ')).then_some(&t[..i])
}

// ---------------------------------------------------------------------------------------
// Numbers

/// Appends the decimal form of `n`.
pub fn push_u64(buf: &mut Vec<u8>, n: u64) {
    let (digits, start) = u64_digits(n);
    buf.extend_from_slice(&digits[start..]);
}

/// The decimal form of `n`: `digits[start..]`.
#[inline(always)]
pub fn u64_digits(mut n: u64) -> ([u8; 20], usize) {
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
    (tmp, i)
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

/// Parses a run of ASCII digits (any `u64`, up to 18446744073709551615); `None` for
/// anything else, or a larger number.
pub fn num(b: &[u8]) -> Option<u64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
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

/// Month number (1-12) of an English abbreviation (one of [`MONTHS`]).
pub fn month(abbr: &[u8]) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| m.as_bytes() == abbr)
        .map(|i| i as u32 + 1)
}

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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, the inverse of [`civil`]).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Epoch seconds of a civil time read as UTC.
pub fn utc_epoch(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64
}

/// Epoch seconds of a civil time read in the local time zone.
pub fn local_epoch(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    let t = utc_epoch(y, mo, d, h, mi, s);
    let t0 = t - crate::sys::utc_offset(t) as i64;
    t - crate::sys::utc_offset(t0) as i64
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
    fn enhanced_codes() {
        for (t, want) in [
            (&b"5.1.1 user unknown"[..], Some(&b"5.1.1"[..])),
            (b"2.0.0", Some(b"2.0.0")),
            (b"4.123.999 x", Some(b"4.123.999")),
            (b"4.1234.1 x", None),
            (b"3.1.1 x", None),
            (b"5.1.1x", None),
            (b"5.1.1.2", None),
            (b"5..1", None),
            (b"5.1", None),
            (b"5.1.", None),
            (b"", None),
        ] {
            assert_eq!(enhanced_code(t), want, "{}", String::from_utf8_lossy(t));
        }
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
