//! The text report, in pflogsumm's layout: one function per section, and [`layout`], the
//! order in which they are printed. A new section is a function of the same type put in
//! its place in that list.

use std::cmp::Ordering;
use std::fmt::Write as _;

use super::rules::{kept_labels, normalize_host};
use super::{Conns, Counted, Counts, Nested2, Nested3, Options, Report};
use mtalog::format::read::Map;

/// One section of the text report.
pub type Section = fn(&Report, &mut String);

/// The sections in pflogsumm's order for these options.
pub fn layout(o: &Options) -> Vec<Section> {
    let mut v: Vec<Section> = vec![title, grand_totals];
    if o.smtpd_stats {
        v.push(smtpd_totals);
    }
    v.push(blank);
    if o.problems_first {
        v.extend(problems());
    }
    v.extend([
        per_day as Section,
        per_hour,
        recipient_domains,
        sending_domains,
    ]);
    if o.smtpd_stats {
        v.extend([smtpd_per_day as Section, smtpd_per_hour, smtpd_domains]);
    }
    v.extend([
        senders_by_count as Section,
        recipients_by_count,
        senders_by_size,
        recipients_by_size,
        no_size,
    ]);
    if !o.problems_first {
        v.extend(problems());
    }
    if o.extended {
        v.push(message_detail);
    }
    v
}

/// The "problems" sections (`--problems_first` prints them before the traffic).
fn problems() -> [Section; 12] {
    [
        deferrals,
        bounces,
        bounce_classes,
        rejects,
        reject_warnings,
        holds,
        discards,
        smtp_failures,
        warnings,
        fatals,
        panics,
        master,
    ]
}

/// The whole text report.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    for s in layout(&r.o) {
        s(r, &mut out);
    }
    out
}

// -- number formats ------------------------------------------------------------------------

/// `adj_int_units` with `%6d%s`: kilo and mega past 512k and 512m.
fn int6(v: f64) -> String {
    let (n, u) = if v > 536_870_912.0 {
        (v / 1_048_576.0, 'm')
    } else if v > 524_288.0 {
        (v / 1024.0, 'k')
    } else {
        (v, ' ')
    };
    format!("{:6}{u}", n.trunc() as i64)
}

fn int6u(v: u64) -> String {
    int6(v as f64)
}

/// `adj_time_units` with `%5.1f %s`.
fn time5(v: f64) -> String {
    let (n, u) = if v > 3600.0 {
        (v / 3600.0, 'h')
    } else if v > 60.0 {
        (v / 60.0, 'm')
    } else {
        (v, 's')
    };
    format!("{n:5.1} {u}")
}

/// `get_smh`: `%2d:%02d:%02d`.
fn hms(secs: f64) -> String {
    let h = (secs / 3600.0).trunc();
    let s = secs - h * 3600.0;
    let m = (s / 60.0).trunc();
    let s = s - m * 60.0;
    format!("{:2}:{:02}:{:02}", h as i64, m as i64, s.trunc() as i64)
}

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A day as pflogsumm prints it: `Mon dd yyyy`, or `yyyy-mm-dd ` with `--iso_date_time`.
fn day_label(d: super::Day, iso: bool) -> String {
    if iso {
        format!("{:04}-{:02}-{:02} ", d.0, d.1, d.2)
    } else {
        format!("{} {:2} {}", MONTHS[(d.1 - 1) as usize], d.2, d.0)
    }
}

fn hour_label(h: usize, iso: bool) -> String {
    if iso {
        format!("{h:02}:00-{:02}:00", h + 1)
    } else {
        format!("{h:02}00-{:02}00  ", h + 1)
    }
}

fn subsect(out: &mut String, t: &str) {
    let _ = write!(out, "\n{t}\n{}\n", "-".repeat(t.len()));
}

/// A title with its underline, or `title: none` (nothing with `-q`) when empty.
pub(super) fn heading(out: &mut String, t: &str, empty: bool, quiet: bool) -> bool {
    if empty {
        if !quiet {
            let _ = writeln!(out, "\n{t}: none");
        }
        return false;
    }
    let _ = write!(out, "\n{t}\n{}\n", "-".repeat(t.len()));
    true
}

// -- ordering ------------------------------------------------------------------------------

/// Rows by count, most first, then by [`normalize_host`], then by key (pflogsumm leaves
/// the last tie in hash order).
pub fn by_count(m: &Map<Vec<u8>, u64>) -> Vec<(&[u8], u64)> {
    let mut v: Vec<(&[u8], u64, Vec<u32>)> = m
        .iter()
        .map(|(k, n)| (k.as_slice(), *n, normalize_host(k)))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(&b.2)).then(a.0.cmp(b.0)));
    v.into_iter().map(|(k, n, _)| (k, n)).collect()
}

/// pflogsumm's `reverse sort by_count_then_size`: most first, then largest, then by key.
pub fn by_count_then_size<V>(
    m: &Map<Vec<u8>, V>,
    key: impl Fn(&V) -> (u64, f64),
) -> Vec<(&[u8], &V)> {
    let mut v: Vec<(&[u8], &V)> = m.iter().map(|(k, v)| (k.as_slice(), v)).collect();
    v.sort_by(|a, b| {
        let (ka, kb) = (key(a.1), key(b.1));
        kb.0.cmp(&ka.0)
            .then(kb.1.partial_cmp(&ka.1).unwrap_or(Ordering::Equal))
            .then(a.0.cmp(b.0))
    });
    v
}

fn limit<T>(v: Vec<T>, n: i64) -> impl Iterator<Item = T> {
    let n = if n <= 0 { usize::MAX } else { n as usize };
    v.into_iter().take(n)
}

fn top_of(n: i64) -> String {
    if n > 0 {
        format!("(top {n})")
    } else {
        String::new()
    }
}

// -- sections ------------------------------------------------------------------------------

fn title(r: &Report, out: &mut String) {
    if let Some(d) = r.o.day {
        let _ = writeln!(
            out,
            "Postfix log summaries for {} {:2}",
            MONTHS[(d.1 - 1) as usize],
            d.2
        );
    }
}

fn pct(part: u64, r: &Report) -> u64 {
    let total = r.delivered + r.rejected + r.discarded;
    (part * 100).checked_div(total).unwrap_or(0)
}

fn grand_totals(r: &Report, out: &mut String) {
    subsect(out, "Grand Totals");
    out.push_str("messages\n\n");
    let line = |out: &mut String, v: u64, what: &str| {
        let _ = writeln!(out, " {}  {what}", int6u(v));
    };
    line(out, r.received, "received");
    line(out, r.delivered, "delivered");
    line(out, r.forwarded, "forwarded");
    let _ = write!(out, " {}  deferred", int6u(r.deferred));
    if r.deferrals > 0 {
        let s = int6u(r.deferrals);
        let _ = write!(out, "  ({}{} deferrals)", s[..6].trim_start(), &s[6..]);
    }
    out.push('\n');
    line(out, r.bounced, "bounced");
    let _ = writeln!(
        out,
        " {}  rejected ({}%)",
        int6u(r.rejected),
        pct(r.rejected, r)
    );
    line(out, r.warned, "reject warnings");
    line(out, r.held, "held");
    let _ = writeln!(
        out,
        " {}  discarded ({}%)",
        int6u(r.discarded),
        pct(r.discarded, r)
    );
    out.push('\n');
    line(out, r.bytes_received, "bytes received");
    line(out, r.bytes_delivered, "bytes delivered");
    line(out, r.senders.len() as u64, "senders");
    line(out, r.sending_domains.len() as u64, "sending hosts/domains");
    line(out, r.recipients.len() as u64, "recipients");
    line(out, r.recipient_domain_count, "recipient hosts/domains");
}

fn smtpd_totals(r: &Report, out: &mut String) {
    out.push_str("\nsmtpd\n\n");
    let _ = writeln!(out, "  {}  connections", int6u(r.smtpd.count));
    let _ = writeln!(
        out,
        "  {}  hosts/domains",
        int6u(r.smtpd_per_domain.len() as u64)
    );
    let avg = if r.smtpd.count > 0 {
        r.smtpd.secs as f64 / r.smtpd.count as f64 + 0.5
    } else {
        0.0
    };
    let _ = writeln!(
        out,
        "  {:6}   avg. connect time (seconds)",
        avg.trunc() as i64
    );
    let _ = writeln!(out, " {}  total connect time", hms(r.smtpd.secs as f64));
}

fn blank(_: &Report, out: &mut String) {
    out.push('\n');
}

const TRAFFIC_HEAD: &str =
    "    --------------------------------------------------------------------\n";

fn per_day(r: &Report, out: &mut String) {
    if r.day_count <= 1 {
        return;
    }
    subsect(out, "Per-Day Traffic Summary");
    out.push_str("    date          received  delivered   deferred    bounced     rejected\n");
    out.push_str(TRAFFIC_HEAD);
    for (d, row) in &r.per_day {
        out.push_str("    ");
        out.push_str(&day_label(*d, r.o.iso));
        // pflogsumm prints a Perl array: up to its last column that was ever set (a day
        // with no bounce and no reject has three figures), the unset ones before as 0.
        let n = row.iter().rposition(Option::is_some).map_or(0, |p| p + 1);
        for v in &row[..n] {
            let _ = write!(out, "    {}", int6u(v.unwrap_or(0)));
        }
        out.push('\n');
    }
}

fn per_hour(r: &Report, out: &mut String) {
    let avg = r.day_count > 1;
    subsect(
        out,
        if avg {
            "Per-Hour Traffic Daily Average"
        } else {
            "Per-Hour Traffic Summary"
        },
    );
    out.push_str("    time          received  delivered   deferred    bounced     rejected\n");
    out.push_str(TRAFFIC_HEAD);
    for (h, row) in r.per_hour.iter().enumerate() {
        out.push_str("    ");
        out.push_str(&hour_label(h, r.o.iso));
        for &v in row {
            let v = if r.day_count > 0 {
                v as f64 / r.day_count as f64 + 0.5
            } else {
                v as f64
            };
            let _ = write!(out, "    {}", int6(v));
        }
        out.push('\n');
    }
}

fn recipient_domains(r: &Report, out: &mut String) {
    let n = r.o.hosts;
    if n == 0 {
        return;
    }
    subsect(
        out,
        &format!("Host/Domain Summary: Message Delivery {}", top_of(n)),
    );
    out.push_str(" sent cnt  bytes   defers   avg dly max dly host/domain\n");
    out.push_str(" -------- -------  -------  ------- ------- -----------\n");
    let rows = by_count_then_size(&r.recipient_domains, |d| (d.count, d.size as f64));
    for (k, d) in limit(rows, n) {
        let avg = if d.count > 0 {
            d.delay_sum / d.count as f64
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            " {}  {}  {}  {}  {}  {}",
            int6u(d.count),
            int6u(d.size),
            int6u(d.defers),
            time5(avg),
            time5(d.delay_max),
            lossy(k)
        );
    }
}

fn sending_domains(r: &Report, out: &mut String) {
    let n = r.o.hosts;
    if n == 0 {
        return;
    }
    subsect(
        out,
        &format!("Host/Domain Summary: Messages Received {}", top_of(n)),
    );
    out.push_str(" msg cnt   bytes   host/domain\n");
    out.push_str(" -------- -------  -----------\n");
    let rows = by_count_then_size(&r.sending_domains, |d| (d.count, d.size as f64));
    for (k, d) in limit(rows, n) {
        let _ = writeln!(out, " {}  {}  {}", int6u(d.count), int6u(d.size), lossy(k));
    }
}

fn smtpd_per_day(r: &Report, out: &mut String) {
    if r.day_count <= 1 {
        return;
    }
    subsect(out, "Per-Day SMTPD Connection Summary");
    out.push_str("    date        connections    time conn.    avg./conn.   max. time\n");
    out.push_str(TRAFFIC_HEAD);
    for (d, c) in &r.smtpd_per_day {
        let avg = c.secs as f64 / c.count as f64 + 0.5;
        let _ = writeln!(
            out,
            "    {}   {}       {}      {:6}s      {:6}s",
            day_label(*d, r.o.iso),
            int6u(c.count),
            hms(c.secs as f64),
            avg.trunc() as i64,
            c.max
        );
    }
}

fn smtpd_per_hour(r: &Report, out: &mut String) {
    let days = r.day_count;
    if days > 1 {
        subsect(out, "Per-Hour SMTPD Connection Daily Average");
        out.push_str("    hour        connections    time conn.\n");
        out.push_str("    -------------------------------------\n");
    } else {
        subsect(out, "Per-Hour SMTPD Connection Summary");
        out.push_str("    hour        connections    time conn.    avg./conn.   max. time\n");
        out.push_str(TRAFFIC_HEAD);
    }
    for (h, c) in r.smtpd_per_hour.iter().enumerate() {
        if c.count == 0 {
            continue;
        }
        let avg = (c.secs as f64 / c.count as f64 + 0.5).trunc() as i64;
        let (count, secs) = if days > 1 {
            (
                c.count as f64 / days as f64 + 0.5,
                c.secs as f64 / days as f64 + 0.5,
            )
        } else {
            (c.count as f64, c.secs as f64)
        };
        let _ = write!(
            out,
            "    {}   {}       {}",
            hour_label(h, r.o.iso),
            int6(count),
            hms(secs)
        );
        if days < 2 {
            let _ = write!(out, "      {avg:6}s      {:6}s", c.max);
        }
        out.push('\n');
    }
}

fn smtpd_domains(r: &Report, out: &mut String) {
    let n = r.o.hosts;
    if n == 0 {
        return;
    }
    subsect(
        out,
        &format!("Host/Domain Summary: SMTPD Connections {}", top_of(n)),
    );
    out.push_str(" connections  time conn.  avg./conn.  max. time  host/domain\n");
    out.push_str(" -----------  ----------  ----------  ---------  -----------\n");
    let rows = by_count_then_size(&r.smtpd_per_domain, |c: &Conns| (c.count, c.secs as f64));
    for (k, c) in limit(rows, n) {
        let avg = (c.secs as f64 / c.count as f64 + 0.5).trunc() as i64;
        let _ = writeln!(
            out,
            "  {}      {}     {avg:6}s    {:6}s   {}",
            int6u(c.count),
            hms(c.secs as f64),
            c.max,
            lossy(k)
        );
    }
}

fn user_data(r: &Report, out: &mut String, m: &Map<Vec<u8>, Counts>, what: &str, size: bool) {
    let n = r.o.users;
    if n == 0 {
        return;
    }
    let t = if n > 0 {
        format!("top {n} {what}")
    } else {
        what.to_owned()
    };
    if !heading(out, &t, m.is_empty(), r.o.quiet) {
        return;
    }
    let counts: Counted = m
        .iter()
        .map(|(k, c)| (k.clone(), if size { c.size } else { c.count }))
        .collect();
    for (k, v) in limit(by_count(&counts), n) {
        let _ = writeln!(out, " {}  {}", int6u(v), lossy(k));
    }
}

fn senders_by_count(r: &Report, out: &mut String) {
    user_data(r, out, &r.senders, "Senders by message count", false);
}

fn recipients_by_count(r: &Report, out: &mut String) {
    user_data(r, out, &r.recipients, "Recipients by message count", false);
}

fn senders_by_size(r: &Report, out: &mut String) {
    user_data(r, out, &r.senders, "Senders by message size", true);
}

fn recipients_by_size(r: &Report, out: &mut String) {
    user_data(r, out, &r.recipients, "Recipients by message size", true);
}

fn no_size(r: &Report, out: &mut String) {
    if !heading(
        out,
        "Messages with no size data",
        r.no_size.is_empty(),
        true,
    ) {
        return;
    }
    for (q, a) in &r.no_size {
        let _ = writeln!(out, " {}  {}", lossy(q), lossy(a));
    }
}

/// `really_print_hash_by_cnt_vals`.
fn counted_rows(out: &mut String, m: &Counted, n: i64, indent: &str) {
    for (k, v) in limit(by_count(m), n) {
        let _ = writeln!(out, "{indent}{}  {}", int6u(v), lossy(k));
    }
}

fn total_of(m: &Counted) -> u64 {
    m.values().sum()
}

fn top_total(n: i64, total: u64) -> String {
    if n > 0 {
        format!(" (top {n}) (total: {total})")
    } else {
        format!(" (total: {total})")
    }
}

/// `print_nested_hash` of two levels.
fn nested2(out: &mut String, m: &Nested2, t: &str, n: i64, quiet: bool) {
    if !heading(out, t, m.is_empty(), quiet) {
        return;
    }
    for (k, inner) in m {
        let _ = writeln!(out, "  {}{}", lossy(k), top_total(n, total_of(inner)));
        counted_rows(out, inner, n, "    ");
    }
}

/// `print_nested_hash` of three levels.
fn nested3(out: &mut String, m: &Nested3, t: &str, n: i64, quiet: bool) {
    if !heading(out, t, m.is_empty(), quiet) {
        return;
    }
    for (k, l2) in m {
        let _ = writeln!(out, "  {}", lossy(k));
        for (k2, inner) in l2 {
            let _ = writeln!(out, "    {}{}", lossy(k2), top_total(n, total_of(inner)));
            counted_rows(out, inner, n, "      ");
        }
    }
}

fn deferrals(r: &Report, out: &mut String) {
    let n = r.o.deferral_detail;
    if n != 0 {
        nested2(
            out,
            &r.deferral_detail,
            "message deferral detail",
            n,
            r.o.quiet,
        );
    }
}

fn bounces(r: &Report, out: &mut String) {
    let n = r.o.bounce_detail;
    if n != 0 {
        nested2(
            out,
            &r.bounce_detail,
            "message bounce detail (by relay)",
            n,
            r.o.quiet,
        );
    }
}

/// Not pflogsumm's: every bounce in Momentum's classes (see `report/bounces.rs`).
fn bounce_classes(r: &Report, out: &mut String) {
    let n = r.o.bounce_detail;
    if n != 0 {
        r.bounce_classes
            .text(out, usize::try_from(n).unwrap_or(usize::MAX), r.o.quiet);
    }
}

fn rejects(r: &Report, out: &mut String) {
    let n = r.o.reject_detail;
    if n != 0 {
        nested3(out, &r.rejects, "message reject detail", n, r.o.quiet);
    }
}

fn reject_warnings(r: &Report, out: &mut String) {
    let n = r.o.reject_detail;
    if n != 0 {
        nested3(out, &r.warns, "message reject warning detail", n, r.o.quiet);
    }
}

fn holds(r: &Report, out: &mut String) {
    let n = r.o.reject_detail;
    if n != 0 {
        nested3(out, &r.holds, "message hold detail", n, r.o.quiet);
    }
}

fn discards(r: &Report, out: &mut String) {
    let n = r.o.reject_detail;
    if n != 0 {
        nested3(out, &r.discards, "message discard detail", n, r.o.quiet);
    }
}

fn smtp_failures(r: &Report, out: &mut String) {
    let n = r.o.smtp_detail;
    if n != 0 {
        nested2(
            out,
            &r.smtp_failures,
            "smtp delivery failures",
            n,
            r.o.quiet,
        );
    }
}

fn warnings(r: &Report, out: &mut String) {
    let n = r.o.warning_detail;
    if n != 0 {
        nested2(out, &r.warnings, "Warnings", n, r.o.quiet);
    }
}

fn fatals(r: &Report, out: &mut String) {
    nested2(out, &r.fatals, "Fatal Errors", 0, r.o.quiet);
}

fn panics(r: &Report, out: &mut String) {
    nested2(out, &r.panics, "Panics", 0, r.o.quiet);
}

fn master(r: &Report, out: &mut String) {
    if !heading(
        out,
        "Master daemon messages",
        r.master.is_empty(),
        r.o.quiet,
    ) {
        return;
    }
    counted_rows(out, &r.master, 0, " ");
}

/// `by_domain_then_user`'s key of a sender: domain (reordered `host.dom.mach`), user.
fn domain_user(sender: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut parts = sender.split(|&b| b == b'@');
    let user = parts.next().unwrap_or(b"");
    let domain = parts.next().unwrap_or(b"");
    let (user, domain) = if domain.is_empty() {
        let bang: Vec<&[u8]> = sender.split(|&b| b == b'!').collect();
        let n = bang.len();
        (bang[n - 1], if n >= 2 { bang[n - 2] } else { &b""[..] })
    } else {
        (user, domain)
    };
    let labels: Vec<&[u8]> = domain.split(|&b| b == b'.').collect();
    let n = labels.len();
    let keep = kept_labels(&labels).unwrap_or(0);
    let domain = if keep > 0 {
        let mut d = labels[n - keep..].join(&b'.');
        d.push(b'.');
        d.extend_from_slice(&labels[..n - keep].join(&b'.'));
        d
    } else {
        domain.to_vec()
    };
    let user = match user.iter().rposition(|&b| b == b'!') {
        Some(p) => &user[p + 1..],
        None => user,
    };
    (domain, user.to_vec())
}

fn message_detail(r: &Report, out: &mut String) {
    if !heading(out, "Message detail", r.detail.is_empty(), r.o.quiet) {
        return;
    }
    type Keyed<'a> = (&'a Vec<u8>, &'a Vec<Vec<u8>>, (Vec<u8>, Vec<u8>));
    let mut v: Vec<Keyed<'_>> = r
        .detail
        .iter()
        .map(|(q, l)| (q, l, domain_user(l.first().map_or(&b""[..], |s| s))))
        .collect();
    v.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(b.0)));
    for (q, l, _) in v {
        let _ = writeln!(
            out,
            " {}  {}",
            lossy(q),
            lossy(l.first().map_or(&b""[..], |s| s))
        );
        for a in &l[1..] {
            let _ = writeln!(out, "   {}", lossy(a));
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_pflogsumm_prints_them() {
        assert_eq!(int6u(86), "    86 ");
        assert_eq!(int6u(674_015), "   658k");
        assert_eq!(time5(43.0), " 43.0 s");
        assert_eq!(time5(108.0), "  1.8 m");
        assert_eq!(hms(56.0), " 0:00:56");
        assert_eq!(day_label((2026, 12, 7), false), "Dec  7 2026");
        assert_eq!(day_label((2026, 12, 7), true), "2026-12-07 ");
    }

    #[test]
    fn message_detail_order() {
        assert!(domain_user(b"from=<>") < domain_user(b"alice@example.test"));
        assert_eq!(
            domain_user(b"u@mail.example.com").0,
            b"example.com.mail".to_vec()
        );
    }
}
