//! The dates of the `-d` filter.

use mtalog::format::text::{civil, days_from_civil, num};
use mtalog::sys::utc_offset;

/// The local date (`YYYY-MM-DD`) of an epoch time, as a sortable day number and text.
pub fn local_day(epoch: i64) -> (i64, u32) {
    let c = civil(epoch, utc_offset(epoch));
    (days_from_civil(c.year, c.month, c.day), c.hour)
}

/// Now, local time, as `YYYY-MM-DD hh:mm:ss`.
pub fn now_text() -> String {
    let now = mtalog::event::Timestamp::now().sec;
    let c = civil(now, utc_offset(now));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.min, c.sec
    )
}

/// The local year and month (1..=12) of now.
pub fn this_year_month() -> (i64, u32) {
    let now = mtalog::event::Timestamp::now().sec;
    let c = civil(now, utc_offset(now));
    (c.year, c.month)
}

/// Year, month and day of a day number.
pub fn ymd(day: i64) -> (i64, u32, u32) {
    let c = civil(day * 86_400, 0);
    (c.year, c.month, c.day)
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
    use mtalog::format::text::utc_epoch;

    #[test]
    fn days_round_trip() {
        for t in [0i64, 951_865_200, 1_795_432_137, -86_400] {
            let c = civil(t, 0);
            assert_eq!(utc_epoch(c.year, c.month, c.day, c.hour, c.min, c.sec), t);
        }
        assert_eq!(ymd(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(parse_day("2024-03-07"), Some(days_from_civil(2024, 3, 7)));
        assert_eq!(parse_day("2024-13-07"), None);
    }
}
