//! Local civil time <-> epoch seconds, and the dates of the `-d` filter.

use mtalog::format::{MONTHS, civil};
use mtalog::sys::utc_offset;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
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
    let t0 = t - utc_offset(t) as i64;
    t - utc_offset(t0) as i64
}

/// Month number (1-12) of an English abbreviation.
pub fn month(abbr: &[u8]) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| m.as_bytes() == abbr)
        .map(|i| i as u32 + 1)
}

/// Parses a run of ASCII digits.
pub fn num(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |n, &d| n * 10 + (d - b'0') as u64))
}

/// The local date (`YYYY-MM-DD`) of an epoch time, as a sortable day number and text.
pub fn local_day(epoch: i64) -> (i64, u32) {
    let c = civil(epoch, utc_offset(epoch));
    (days_from_civil(c.year, c.month, c.day), c.hour)
}

/// `YYYY-MM-DD` of a day number.
pub fn day_text(day: i64) -> String {
    let c = civil(day * 86_400, 0);
    format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
}

/// The day number of `today`, `yesterday` or `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<i64> {
    let now = mtalog::event::Timestamp::now().sec;
    let today = local_day(now).0;
    match s {
        "today" => Some(today),
        "yesterday" => Some(today - 1),
        _ => {
            let b = s.as_bytes();
            if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
                return None;
            }
            let y = num(&b[..4])? as i64;
            let m = num(&b[5..7])? as u32;
            let d = num(&b[8..10])? as u32;
            if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
                return None;
            }
            Some(days_from_civil(y, m, d))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        for t in [0i64, 951_865_200, 1_795_432_137, -86_400] {
            let c = civil(t, 0);
            assert_eq!(utc_epoch(c.year, c.month, c.day, c.hour, c.min, c.sec), t);
        }
        assert_eq!(day_text(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(parse_day("2024-03-07"), Some(days_from_civil(2024, 3, 7)));
        assert_eq!(parse_day("2024-13-07"), None);
    }
}
