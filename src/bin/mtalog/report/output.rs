//! The report as JSON (one object; docs/command.md lists its keys) and as a self-contained
//! HTML page with SVG charts.

use std::fmt::Write as _;

use super::text::{by_count, by_count_then_size};
use super::{COLS, Conns, Counted, Counts, Nested2, Nested3, Report};
use mtalog::format::read::Map;

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

fn take<T>(v: Vec<T>, n: i64) -> impl Iterator<Item = T> {
    v.into_iter()
        .take(if n <= 0 { usize::MAX } else { n as usize })
}

/// `12345678` as `12,345,678`.
pub fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut o = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// A JSON string.
pub fn js(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn jb(b: &[u8]) -> String {
    js(&lossy(b))
}

fn day_iso(d: super::Day) -> String {
    format!("{:04}-{:02}-{:02}", d.0, d.1, d.2)
}

/// The rows of a two-level detail: (heading, key, count).
fn rows2(m: &Nested2, n: i64) -> Vec<(&[u8], &[u8], u64)> {
    let mut v = Vec::new();
    for (a, inner) in m {
        for (k, c) in take(by_count(inner), n) {
            v.push((a.as_slice(), k, c));
        }
    }
    v
}

/// The rows of a three-level detail: (heading, reason, key, count).
/// (stage, reason, key, count)
type Row3<'a> = (&'a [u8], &'a [u8], &'a [u8], u64);

fn rows3(m: &Nested3, n: i64) -> Vec<Row3<'_>> {
    let mut v = Vec::new();
    for (a, l2) in m {
        for (b, inner) in l2 {
            for (k, c) in take(by_count(inner), n) {
                v.push((a.as_slice(), b.as_slice(), k, c));
            }
        }
    }
    v
}

fn counts_rows(m: &Map<Vec<u8>, Counts>, by_size: bool) -> Vec<(&[u8], Counts)> {
    let c: Counted = m
        .iter()
        .map(|(k, c)| (k.clone(), if by_size { c.size } else { c.count }))
        .collect();
    by_count(&c)
        .into_iter()
        .map(|(k, _)| {
            let (k, v) = m.get_key_value(k).expect("same keys");
            (k.as_slice(), *v)
        })
        .collect()
}

impl Report {
    fn pct(&self, part: u64) -> u64 {
        (part * 100)
            .checked_div(self.delivered + self.rejected + self.discarded)
            .unwrap_or(0)
    }

    /// JSON: every figure of the text report (lists limited by the same options), plus
    /// what pflogsumm leaves out (`expired`, `connect_failures`).
    pub fn json(&self) -> String {
        let o = &self.o;
        let mut s = String::from("{");
        let _ = write!(
            s,
            "\"period\":{},\"files\":[{}],",
            match &self.span {
                Some((a, b)) => format!("{{\"first\":{},\"last\":{}}}", js(a), js(b)),
                None => "null".into(),
            },
            self.files
                .iter()
                .map(|f| js(f))
                .collect::<Vec<_>>()
                .join(",")
        );
        let _ = write!(
            s,
            "\"totals\":{{\"received\":{},\"delivered\":{},\"forwarded\":{},\"deferred\":{},\"deferrals\":{},\"bounced\":{},\"expired\":{},\"rejected\":{},\"rejected_percent\":{},\"reject_warnings\":{},\"held\":{},\"discarded\":{},\"discarded_percent\":{},\"bytes_received\":{},\"bytes_delivered\":{},\"senders\":{},\"sending_domains\":{},\"recipients\":{},\"recipient_domains\":{}}},",
            self.received,
            self.delivered,
            self.forwarded,
            self.deferred,
            self.deferrals,
            self.bounced,
            self.expired,
            self.rejected,
            self.pct(self.rejected),
            self.warned,
            self.held,
            self.discarded,
            self.pct(self.discarded),
            self.bytes_received,
            self.bytes_delivered,
            self.senders.len(),
            self.sending_domains.len(),
            self.recipients.len(),
            self.recipient_domain_count
        );
        let _ = write!(
            s,
            "\"smtpd\":{{\"connections\":{},\"domains\":{},\"seconds\":{}}},\"days\":{},",
            self.smtpd.count,
            self.smtpd_per_domain.len(),
            self.smtpd.secs,
            self.day_count
        );
        let row = |c: &[u64; 5]| {
            COLS.iter()
                .zip(c)
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let days: Vec<String> = self
            .per_day
            .iter()
            .map(|(d, c)| {
                let c = c.map(|v| v.unwrap_or(0));
                format!("{{\"date\":{},{}}}", js(&day_iso(*d)), row(&c))
            })
            .collect();
        let _ = write!(s, "\"per_day\":[{}],", days.join(","));
        let hours: Vec<String> = self
            .per_hour
            .iter()
            .enumerate()
            .map(|(h, c)| format!("{{\"hour\":{h},{}}}", row(c)))
            .collect();
        let _ = write!(s, "\"per_hour\":[{}]", hours.join(","));
        let list = |s: &mut String, name: &str, items: Vec<String>| {
            let _ = write!(s, ",\"{name}\":[{}]", items.join(","));
        };
        list(
            &mut s,
            "recipient_domains",
            take(
                by_count_then_size(&self.recipient_domains, |d| (d.count, d.size as f64)),
                o.hosts,
            )
            .map(|(k, d)| {
                format!(
                    "{{\"domain\":{},\"delivered\":{},\"bytes\":{},\"deferrals\":{},\"avg_delay\":{:.2},\"max_delay\":{:.2}}}",
                    jb(k),
                    d.count,
                    d.size,
                    d.defers,
                    if d.count > 0 { d.delay_sum / d.count as f64 } else { 0.0 },
                    d.delay_max
                )
            })
            .collect(),
        );
        list(
            &mut s,
            "sending_domains",
            take(
                by_count_then_size(&self.sending_domains, |d| (d.count, d.size as f64)),
                o.hosts,
            )
            .map(|(k, d)| {
                format!(
                    "{{\"domain\":{},\"count\":{},\"bytes\":{}}}",
                    jb(k),
                    d.count,
                    d.size
                )
            })
            .collect(),
        );
        for (name, m, by_size) in [
            ("senders_by_count", &self.senders, false),
            ("recipients_by_count", &self.recipients, false),
            ("senders_by_size", &self.senders, true),
            ("recipients_by_size", &self.recipients, true),
        ] {
            list(
                &mut s,
                name,
                take(counts_rows(m, by_size), o.users)
                    .map(|(k, c)| {
                        format!(
                            "{{\"address\":{},\"count\":{},\"bytes\":{}}}",
                            jb(k),
                            c.count,
                            c.size
                        )
                    })
                    .collect(),
            );
        }
        for (name, m, head, key, n) in [
            (
                "deferrals",
                &self.deferral_detail,
                "service",
                "reason",
                o.deferral_detail,
            ),
            (
                "bounces",
                &self.bounce_detail,
                "relay",
                "reason",
                o.bounce_detail,
            ),
            (
                "smtp_failures",
                &self.smtp_failures,
                "reason",
                "host",
                o.smtp_detail,
            ),
            (
                "connect_failures",
                &self.connect_failures,
                "reason",
                "host",
                o.smtp_detail,
            ),
            (
                "warnings",
                &self.warnings,
                "service",
                "text",
                o.warning_detail,
            ),
            ("fatals", &self.fatals, "service", "text", -1),
            ("panics", &self.panics, "service", "text", -1),
        ] {
            list(
                &mut s,
                name,
                rows2(m, n)
                    .into_iter()
                    .map(|(a, k, c)| {
                        format!("{{\"{head}\":{},\"{key}\":{},\"count\":{c}}}", jb(a), jb(k))
                    })
                    .collect(),
            );
        }
        self.bounce_classes.json(
            &mut s,
            usize::try_from(o.bounce_detail).unwrap_or(usize::MAX),
        );
        for (name, m) in [
            ("rejects", &self.rejects),
            ("reject_warnings", &self.warns),
            ("holds", &self.holds),
            ("discards", &self.discards),
        ] {
            list(
                &mut s,
                name,
                rows3(m, o.reject_detail)
                    .into_iter()
                    .map(|(a, b, k, c)| {
                        format!(
                            "{{\"stage\":{},\"reason\":{},\"key\":{},\"count\":{c}}}",
                            jb(a),
                            jb(b),
                            jb(k)
                        )
                    })
                    .collect(),
            );
        }
        list(
            &mut s,
            "master",
            by_count(&self.master)
                .into_iter()
                .map(|(k, c)| format!("{{\"text\":{},\"count\":{c}}}", jb(k)))
                .collect(),
        );
        list(
            &mut s,
            "smtpd_domains",
            take(
                by_count_then_size(&self.smtpd_per_domain, |c: &Conns| (c.count, c.secs as f64)),
                o.hosts,
            )
            .map(|(k, c)| {
                format!(
                    "{{\"domain\":{},\"connections\":{},\"seconds\":{},\"max_seconds\":{}}}",
                    jb(k),
                    c.count,
                    c.secs,
                    c.max
                )
            })
            .collect(),
        );
        list(
            &mut s,
            "no_size",
            self.no_size
                .iter()
                .map(|(q, a)| format!("{{\"queue_id\":{},\"recipient\":{}}}", jb(q), jb(a)))
                .collect(),
        );
        s.push_str("}\n");
        s
    }

    /// A self-contained HTML page: a header (period, files, when made), the totals, SVG
    /// charts of the hourly and daily traffic, and the tables of the text report.
    pub fn html(&self) -> String {
        let o = &self.o;
        let mut h = String::new();
        let period = match &self.span {
            Some((a, b)) => format!("{a} to {b}"),
            None => "no Postfix traffic".into(),
        };
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mail report: {}</title>\n<style>\
             body{{font-family:sans-serif;margin:2em;color:#222;max-width:80em}} table{{border-collapse:collapse;margin:.5em 0 1.5em}}\
             td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}} td.l,th.l{{text-align:left}}\
             th{{background:#f0f0f0}} .legend span{{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle}}\
             .chart{{overflow-x:auto}} dl{{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}} dd{{margin:0}}\
             </style></head><body>\n<h1>Mail report</h1>\n<dl>",
            esc(&period)
        );
        let _ = writeln!(
            h,
            "<dt>period</dt><dd>{}</dd><dt>files</dt><dd>{}</dd><dt>made</dt><dd>{}</dd></dl>",
            esc(&period),
            esc(&self.files.join(", ")),
            esc(&crate::time::now_text())
        );
        h.push_str("<h2>Grand totals</h2>\n<table>");
        for (k, v) in [
            ("received", self.received),
            ("delivered", self.delivered),
            ("forwarded", self.forwarded),
            ("deferred (messages)", self.deferred),
            ("deferrals", self.deferrals),
            ("bounced", self.bounced),
            ("expired (not in bounced)", self.expired),
            ("rejected", self.rejected),
            ("reject warnings", self.warned),
            ("held", self.held),
            ("discarded", self.discarded),
            ("bytes received", self.bytes_received),
            ("bytes delivered", self.bytes_delivered),
            ("senders", self.senders.len() as u64),
            ("sending hosts/domains", self.sending_domains.len() as u64),
            ("recipients", self.recipients.len() as u64),
            ("recipient hosts/domains", self.recipient_domain_count),
        ] {
            let _ = write!(
                h,
                "<tr><th class=\"l\">{k}</th><td>{}</td></tr>",
                thousands(v)
            );
        }
        h.push_str("</table>\n");
        h.push_str(&legend());
        let hours: Vec<(Vec<String>, [u64; 5])> = self
            .per_hour
            .iter()
            .enumerate()
            .map(|(hr, c)| (vec![format!("{hr:02}")], *c))
            .collect();
        h.push_str("<h2>Per-hour traffic</h2>\n<div class=\"chart\">");
        h.push_str(&svg_chart(&hours));
        h.push_str("</div>\n");
        if self.per_day.len() > 1 {
            let mut last_month = None;
            let days: Vec<(Vec<String>, [u64; 5])> = self
                .per_day
                .iter()
                .map(|(d, c)| {
                    let mut label = vec![d.2.to_string()];
                    if last_month != Some((d.0, d.1)) {
                        label.push(format!("{} {}", MONTHS[(d.1 - 1) as usize], d.0));
                        last_month = Some((d.0, d.1));
                    }
                    (label, c.map(|v| v.unwrap_or(0)))
                })
                .collect();
            h.push_str("<h2>Per-day traffic</h2>\n<div class=\"chart\">");
            h.push_str(&svg_chart(&days));
            h.push_str("</div>\n<table><tr><th class=\"l\">date</th>");
            for c in LEGEND {
                let _ = write!(h, "<th>{c}</th>");
            }
            h.push_str("</tr>");
            for (d, c) in &self.per_day {
                let _ = write!(h, "<tr><td class=\"l\">{}</td>", day_iso(*d));
                for v in c {
                    let _ = write!(h, "<td>{}</td>", thousands(v.unwrap_or(0)));
                }
                h.push_str("</tr>");
            }
            h.push_str("</table>\n");
        }
        table(
            &mut h,
            "Recipient domains",
            &[
                "delivered",
                "bytes",
                "deferrals",
                "avg delay (s)",
                "max delay (s)",
                "domain",
            ],
            take(
                by_count_then_size(&self.recipient_domains, |d| (d.count, d.size as f64)),
                o.hosts,
            )
            .map(|(k, d)| {
                vec![
                    thousands(d.count),
                    thousands(d.size),
                    thousands(d.defers),
                    format!(
                        "{:.1}",
                        if d.count > 0 {
                            d.delay_sum / d.count as f64
                        } else {
                            0.0
                        }
                    ),
                    format!("{:.1}", d.delay_max),
                    lossy(k).into_owned(),
                ]
            })
            .collect(),
        );
        table(
            &mut h,
            "Sending domains",
            &["messages", "bytes", "domain"],
            take(
                by_count_then_size(&self.sending_domains, |d| (d.count, d.size as f64)),
                o.hosts,
            )
            .map(|(k, d)| vec![thousands(d.count), thousands(d.size), lossy(k).into_owned()])
            .collect(),
        );
        for (t, m, by_size) in [
            ("Senders by message count", &self.senders, false),
            ("Recipients by message count", &self.recipients, false),
            ("Senders by message size", &self.senders, true),
            ("Recipients by message size", &self.recipients, true),
        ] {
            table(
                &mut h,
                t,
                &["messages", "bytes", "address"],
                take(counts_rows(m, by_size), o.users)
                    .map(|(k, c)| {
                        vec![thousands(c.count), thousands(c.size), lossy(k).into_owned()]
                    })
                    .collect(),
            );
        }
        for (t, m, head, n) in [
            (
                "Deferrals",
                &self.deferral_detail,
                "service",
                o.deferral_detail,
            ),
            ("Bounces", &self.bounce_detail, "relay", o.bounce_detail),
            ("Warnings", &self.warnings, "service", o.warning_detail),
            ("Fatal errors", &self.fatals, "service", -1),
            ("Panics", &self.panics, "service", -1),
        ] {
            table(
                &mut h,
                t,
                &["count", head, "detail"],
                rows2(m, n)
                    .into_iter()
                    .map(|(a, k, c)| {
                        vec![thousands(c), lossy(a).into_owned(), lossy(k).into_owned()]
                    })
                    .collect(),
            );
        }
        if o.bounce_detail != 0 {
            self.bounce_classes.html(
                &mut h,
                usize::try_from(o.bounce_detail).unwrap_or(usize::MAX),
            );
        }
        for (t, m) in [
            ("Rejects", &self.rejects),
            ("Reject warnings", &self.warns),
            ("Held", &self.holds),
            ("Discarded", &self.discards),
        ] {
            table(
                &mut h,
                t,
                &["count", "stage", "reason", "client or address"],
                rows3(m, o.reject_detail)
                    .into_iter()
                    .map(|(a, b, k, c)| {
                        vec![
                            thousands(c),
                            lossy(a).into_owned(),
                            lossy(b).into_owned(),
                            lossy(k).into_owned(),
                        ]
                    })
                    .collect(),
            );
        }
        table(
            &mut h,
            "Master daemon messages",
            &["count", "message"],
            by_count(&self.master)
                .into_iter()
                .map(|(k, c)| vec![thousands(c), lossy(k).into_owned()])
                .collect(),
        );
        h.push_str("</body></html>\n");
        h
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The series of the charts: what each bar counts.
pub const LEGEND: [&str; 5] = [
    "received",
    "delivered",
    "deferrals",
    "bounced",
    "rejected, warned, held, discarded",
];

const COLORS: [&str; 5] = ["#4e79a7", "#59a14f", "#f28e2b", "#e15759", "#9c9c9c"];

fn legend() -> String {
    let mut o = String::from("<p class=\"legend\">");
    for (i, c) in LEGEND.iter().enumerate() {
        let _ = write!(o, "<span style=\"background:{}\"></span>{c}", COLORS[i]);
    }
    o.push_str("</p>\n");
    o
}

fn table(o: &mut String, title: &str, head: &[&str], rows: Vec<Vec<String>>) {
    let _ = writeln!(o, "<h2>{}</h2>", esc(title));
    if rows.is_empty() {
        o.push_str("<p>none</p>\n");
        return;
    }
    o.push_str("<table><tr>");
    let last = head.len() - 1;
    for (i, c) in head.iter().enumerate() {
        let class = if i == last
            || (i > 0 && rows[0][i].parse::<f64>().is_err() && !rows[0][i].contains(','))
        {
            " class=\"l\""
        } else {
            ""
        };
        let _ = write!(o, "<th{class}>{}</th>", esc(c));
    }
    o.push_str("</tr>");
    for r in rows {
        o.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let numeric = c.replace(',', "").parse::<f64>().is_ok();
            let class = if i == last || !numeric {
                " class=\"l\""
            } else {
                ""
            };
            let _ = write!(o, "<td{class}>{}</td>", esc(c));
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>\n");
}

/// The step between axis ticks: 1, 2 or 5 times a power of ten, for at most `n` steps up
/// to `max`.
pub fn tick_step(max: u64, n: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            let step = m * p;
            if max.div_ceil(step) <= n {
                return step;
            }
        }
        p *= 10;
    }
}

/// Width in pixels the charts give a character of their 10-pixel labels (an upper bound
/// for the sans-serif digits and letters they use).
pub const CHAR_WIDTH: f64 = 6.5;

/// Grouped bars, one group per slot, one bar per series; each slot's label is one or two
/// lines under it. Groups are wide enough for their longest label line.
pub fn svg_chart(slots: &[(Vec<String>, [u64; 5])]) -> String {
    let max = slots.iter().flat_map(|s| s.1).max().unwrap_or(0).max(1);
    let step = tick_step(max, 5);
    let top_value = max.div_ceil(step) * step;
    let widest = slots
        .iter()
        .flat_map(|s| s.0.iter())
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1);
    let bars = 5 * 6;
    let group = (bars + 8).max((widest as f64 * CHAR_WIDTH).ceil() as usize + 6);
    let axis_label = thousands(top_value).len();
    let left = (axis_label as f64 * CHAR_WIDTH) as usize + 12;
    let (top, h) = (10usize, 200usize);
    let w = left + slots.len().max(1) * group + 10;
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" role=\"img\" font-family=\"sans-serif\">\n",
        top + h + 40
    );
    let ticks = top_value / step;
    for i in 0..=ticks {
        let y = top + h - (h as u64 * i / ticks) as usize;
        let _ = writeln!(
            o,
            "<line x1=\"{left}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#ddd\"/><text class=\"tick\" x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            w - 10,
            left - 4,
            y + 3,
            thousands(step * i)
        );
    }
    for (i, (label, c)) in slots.iter().enumerate() {
        let x0 = left + i * group + (group - bars) / 2;
        for (k, v) in c.iter().enumerate() {
            let bh = (*v as f64 / top_value as f64 * h as f64).round() as usize;
            let _ = writeln!(
                o,
                "<rect x=\"{}\" y=\"{}\" width=\"5\" height=\"{bh}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                x0 + k * 6,
                top + h - bh,
                COLORS[k],
                esc(&label.join(" ")),
                LEGEND[k],
                thousands(*v)
            );
        }
        for (line, l) in label.iter().enumerate() {
            let _ = writeln!(
                o,
                "<text class=\"label\" x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
                left + i * group + group / 2,
                top + h + 14 + 12 * line,
                esc(l)
            );
        }
    }
    o.push_str("</svg>\n");
    o
}

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks_and_separators() {
        assert_eq!(tick_step(27, 5), 10);
        assert_eq!(tick_step(86, 5), 20);
        assert_eq!(tick_step(120, 5), 50);
        assert_eq!(tick_step(1, 5), 1);
        assert_eq!(tick_step(12_345, 5), 5000);
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(js("a\"b\n"), "\"a\\\"b\\n\"");
    }
}
