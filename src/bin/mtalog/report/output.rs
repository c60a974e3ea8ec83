//! The report as text (pflogsumm's layout), JSON or HTML with inline SVG charts.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::BuildHasher;

use mtalog::format::read::Map;

use super::{COLS, CountBytes, DomainStat, Report};
use crate::time::day_text;

fn sorted<K: Clone + Ord, V: Copy, S: Ord, H: BuildHasher>(
    m: &HashMap<K, V, H>,
    key: impl Fn(&V) -> S,
) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
    v.sort_by(|a, b| key(&b.1).cmp(&key(&a.1)).then(a.0.cmp(&b.0)));
    v
}

/// Seconds with pflogsumm's units (`s`, `m`, `h`, `d`).
fn dly(us: u64) -> String {
    let s = us as f64 / 1e6;
    if s >= 86_400.0 {
        format!("{:.1} d", s / 86_400.0)
    } else if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.1} m", s / 60.0)
    } else {
        format!("{s:.1} s")
    }
}

fn title(out: &mut String, t: &str) {
    let _ = writeln!(out, "\n{t}\n{}", "-".repeat(t.len()));
}

impl Report {
    /// The top recipient domains, most delivered first, with their average delay.
    fn domain_rows(&self, top: usize) -> Vec<(String, DomainStat, u64)> {
        sorted(&self.recipient_domains, |s| (s.sent, s.bytes, s.defers))
            .into_iter()
            .take(top)
            .map(|(d, s)| {
                let avg = s.delay_sum.checked_div(s.sent).unwrap_or(0);
                (d, s, avg)
            })
            .collect()
    }

    fn pct_rejected(&self) -> u64 {
        let total = self.delivered + self.rejected;
        (self.rejected * 100).checked_div(total).unwrap_or(0)
    }

    /// Text, in pflogsumm's layout.
    pub fn text(&self, top: usize) -> String {
        let mut o = String::new();
        if let Some(d) = self.day {
            let _ = writeln!(o, "mtalog report for {}", day_text(d));
        } else {
            let _ = writeln!(o, "mtalog report");
        }
        title(&mut o, "Grand Totals");
        let _ = writeln!(o, "messages\n");
        let n = |o: &mut String, v: u64, what: &str| {
            let _ = writeln!(o, " {v:10}   {what}");
        };
        n(&mut o, self.received, "received");
        n(&mut o, self.delivered, "delivered");
        let _ = writeln!(
            o,
            " {:10}   deferred  ({} deferrals)",
            self.deferred, self.deferrals
        );
        n(&mut o, self.bounced, "bounced");
        let _ = writeln!(
            o,
            " {:10}   rejected ({}%)",
            self.rejected,
            self.pct_rejected()
        );
        o.push('\n');
        n(&mut o, self.bytes_received, "bytes received");
        n(&mut o, self.bytes_delivered, "bytes delivered");
        n(&mut o, self.senders.len() as u64, "senders");
        n(
            &mut o,
            self.sending_domains.len() as u64,
            "sending hosts/domains",
        );
        n(&mut o, self.recipients.len() as u64, "recipients");
        n(
            &mut o,
            self.recipient_domains
                .values()
                .filter(|d| d.sent > 0)
                .count() as u64,
            "recipient hosts/domains",
        );

        title(&mut o, "Per-Day Traffic Summary");
        let _ = writeln!(
            o,
            "    date          received  delivered   deferred    bounced     rejected"
        );
        let _ = writeln!(
            o,
            "    --------------------------------------------------------------------"
        );
        for (d, c) in &self.per_day {
            let _ = writeln!(
                o,
                "    {}  {:10} {:10} {:10} {:10} {:10}",
                day_text(*d),
                c[0],
                c[1],
                c[2],
                c[3],
                c[4]
            );
        }

        title(&mut o, "Per-Hour Traffic Summary");
        let _ = writeln!(
            o,
            "    time          received  delivered   deferred    bounced     rejected"
        );
        let _ = writeln!(
            o,
            "    --------------------------------------------------------------------"
        );
        for (h, c) in self.per_hour.iter().enumerate() {
            let _ = writeln!(
                o,
                "    {h:02}00-{:02}00   {:10} {:10} {:10} {:10} {:10}",
                h + 1,
                c[0],
                c[1],
                c[2],
                c[3],
                c[4]
            );
        }

        title(
            &mut o,
            &format!("Host/Domain Summary: Message Delivery (top {top})"),
        );
        let _ = writeln!(
            o,
            " sent cnt      bytes   defers   avg dly max dly host/domain"
        );
        let _ = writeln!(
            o,
            " -------- ----------  -------  ------- ------- -----------"
        );
        for (d, s, avg) in self.domain_rows(top) {
            let _ = writeln!(
                o,
                " {:8} {:10}  {:7} {:>8} {:>7}  {d}",
                s.sent,
                s.bytes,
                s.defers,
                dly(avg),
                dly(s.delay_max)
            );
        }

        title(
            &mut o,
            &format!("Host/Domain Summary: Messages Received (top {top})"),
        );
        let _ = writeln!(o, " msg cnt       bytes   host/domain");
        let _ = writeln!(o, " -------- ----------  -----------");
        for (d, s) in sorted(&self.sending_domains, |s| (s.count, s.bytes))
            .into_iter()
            .take(top)
        {
            let _ = writeln!(o, " {:8} {:10}  {d}", s.count, s.bytes);
        }

        for (t, m, by_size) in [
            ("Senders by message count", &self.senders, false),
            ("Recipients by message count", &self.recipients, false),
            ("Senders by message size", &self.senders, true),
            ("Recipients by message size", &self.recipients, true),
        ] {
            title(&mut o, &format!("{t} (top {top})"));
            for (a, s) in sorted(m, |s| {
                if by_size {
                    (s.bytes, s.count)
                } else {
                    (s.count, s.bytes)
                }
            })
            .into_iter()
            .take(top)
            {
                let _ = writeln!(o, " {:10}   {a}", if by_size { s.bytes } else { s.count });
            }
        }

        title(&mut o, "message deferral detail");
        for (r, n) in sorted(&self.deferral_reasons, |n| *n).into_iter().take(top) {
            let _ = writeln!(o, " {n:8}   {r}");
        }
        title(&mut o, "message bounce detail (by recipient domain)");
        for ((d, r), n) in sorted(&self.bounce_reasons, |n| *n).into_iter().take(top) {
            let _ = writeln!(o, " {n:8}   {d}: {r}");
        }
        title(&mut o, "message reject detail");
        for ((s, r), n) in sorted(&self.reject_reasons, |n| *n).into_iter().take(top) {
            let _ = writeln!(o, " {n:8}   {s}: {r}");
        }
        for (sev, heading) in [
            ("warning", "Warnings"),
            ("error", "Errors"),
            ("fatal", "Fatal Errors"),
            ("panic", "Panics"),
        ] {
            title(&mut o, heading);
            if let Some(m) = self.diagnostics.get(sev) {
                for ((src, t), n) in sorted(m, |n| *n).into_iter().take(top) {
                    let _ = writeln!(o, " {n:8}   {src}: {t}");
                }
            } else {
                let _ = writeln!(o, "  none");
            }
        }
        o
    }

    /// JSON (one object; docs/command.md lists its keys).
    pub fn json(&self, top: usize) -> String {
        let mut o = String::from("{");
        let _ = write!(
            o,
            "\"day\":{},",
            self.day.map_or("null".into(), |d| js(&day_text(d)))
        );
        let _ = write!(
            o,
            "\"totals\":{{\"received\":{},\"delivered\":{},\"deferred\":{},\"deferrals\":{},\"bounced\":{},\"rejected\":{},\"bytes_received\":{},\"bytes_delivered\":{},\"senders\":{},\"sending_domains\":{},\"recipients\":{},\"recipient_domains\":{}}},",
            self.received,
            self.delivered,
            self.deferred,
            self.deferrals,
            self.bounced,
            self.rejected,
            self.bytes_received,
            self.bytes_delivered,
            self.senders.len(),
            self.sending_domains.len(),
            self.recipients.len(),
            self.recipient_domains
                .values()
                .filter(|d| d.sent > 0)
                .count()
        );
        let row = |c: &[u64; 5]| {
            COLS.iter()
                .zip(c)
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        o.push_str("\"per_day\":[");
        let days: Vec<String> = self
            .per_day
            .iter()
            .map(|(d, c)| format!("{{\"date\":{},{}}}", js(&day_text(*d)), row(c)))
            .collect();
        o.push_str(&days.join(","));
        o.push_str("],\"per_hour\":[");
        let hours: Vec<String> = self
            .per_hour
            .iter()
            .enumerate()
            .map(|(h, c)| format!("{{\"hour\":{h},{}}}", row(c)))
            .collect();
        o.push_str(&hours.join(","));
        o.push_str("],\"recipient_domains\":[");
        let v: Vec<String> = self
            .domain_rows(top)
            .into_iter()
            .map(|(d, s, avg)| {
                format!(
                    "{{\"domain\":{},\"delivered\":{},\"bytes\":{},\"deferrals\":{},\"avg_delay\":{:.2},\"max_delay\":{:.2}}}",
                    js(&d),
                    s.sent,
                    s.bytes,
                    s.defers,
                    avg as f64 / 1e6,
                    s.delay_max as f64 / 1e6
                )
            })
            .collect();
        o.push_str(&v.join(","));
        o.push(']');
        for (k, m) in [
            ("sending_domains", &self.sending_domains),
            ("senders", &self.senders),
            ("recipients", &self.recipients),
        ] {
            for (suffix, by_size) in [("by_count", false), ("by_size", true)] {
                if k == "sending_domains" && by_size {
                    continue;
                }
                let name = if k == "sending_domains" {
                    k.to_owned()
                } else {
                    format!("{k}_{suffix}")
                };
                let v: Vec<String> = sorted(m, |s| {
                    if by_size {
                        (s.bytes, s.count)
                    } else {
                        (s.count, s.bytes)
                    }
                })
                .into_iter()
                .take(top)
                .map(|(a, s)| {
                    format!(
                        "{{\"name\":{},\"count\":{},\"bytes\":{}}}",
                        js(&a),
                        s.count,
                        s.bytes
                    )
                })
                .collect();
                let _ = write!(o, ",\"{name}\":[{}]", v.join(","));
            }
        }
        let v: Vec<String> = sorted(&self.deferral_reasons, |n| *n)
            .into_iter()
            .take(top)
            .map(|(r, n)| format!("{{\"reason\":{},\"count\":{n}}}", js(&r)))
            .collect();
        let _ = write!(o, ",\"deferral_reasons\":[{}]", v.join(","));
        let v: Vec<String> = sorted(&self.bounce_reasons, |n| *n)
            .into_iter()
            .take(top)
            .map(|((d, r), n)| {
                format!(
                    "{{\"domain\":{},\"reason\":{},\"count\":{n}}}",
                    js(&d),
                    js(&r)
                )
            })
            .collect();
        let _ = write!(o, ",\"bounce_reasons\":[{}]", v.join(","));
        let v: Vec<String> = sorted(&self.reject_reasons, |n| *n)
            .into_iter()
            .take(top)
            .map(|((s, r), n)| {
                format!(
                    "{{\"stage\":{},\"reason\":{},\"count\":{n}}}",
                    js(&s),
                    js(&r)
                )
            })
            .collect();
        let _ = write!(o, ",\"reject_reasons\":[{}]", v.join(","));
        for sev in ["warning", "error", "fatal", "panic"] {
            let v: Vec<String> = self
                .diagnostics
                .get(sev)
                .map(|m| {
                    sorted(m, |n| *n)
                        .into_iter()
                        .take(top)
                        .map(|((s, t), n)| {
                            format!(
                                "{{\"source\":{},\"text\":{},\"count\":{n}}}",
                                js(&s),
                                js(&t)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let _ = write!(o, ",\"{sev}s\":[{}]", v.join(","));
        }
        o.push_str("}\n");
        o
    }

    /// A self-contained HTML page: the text report's tables plus SVG bar charts of the
    /// hourly and daily traffic.
    pub fn html(&self, top: usize) -> String {
        let mut o = String::new();
        let title_text = match self.day {
            Some(d) => format!("mtalog report for {}", day_text(d)),
            None => "mtalog report".to_owned(),
        };
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\
             body{{font-family:sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;margin:.5em 0 1.5em}}\
             td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}} td.l,th.l{{text-align:left}}\
             th{{background:#f0f0f0}} .legend span{{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle}}\
             </style></head><body>\n<h1>{}</h1>\n",
            esc(&title_text),
            esc(&title_text)
        );
        o.push_str("<h2>Grand totals</h2>\n<table>");
        for (k, v) in [
            ("received", self.received),
            ("delivered", self.delivered),
            ("deferred", self.deferred),
            ("deferrals", self.deferrals),
            ("bounced", self.bounced),
            ("rejected", self.rejected),
            ("bytes received", self.bytes_received),
            ("bytes delivered", self.bytes_delivered),
            ("senders", self.senders.len() as u64),
            ("sending hosts/domains", self.sending_domains.len() as u64),
            ("recipients", self.recipients.len() as u64),
            (
                "recipient hosts/domains",
                self.recipient_domains
                    .values()
                    .filter(|d| d.sent > 0)
                    .count() as u64,
            ),
        ] {
            let _ = write!(o, "<tr><th class=\"l\">{k}</th><td>{v}</td></tr>");
        }
        o.push_str("</table>\n");
        o.push_str("<p class=\"legend\">");
        for (i, c) in COLS.iter().enumerate() {
            let _ = write!(o, "<span style=\"background:{}\"></span>{c}", COLORS[i]);
        }
        o.push_str("</p>\n<h2>Per-hour traffic</h2>\n");
        let hours: Vec<(String, [u64; 5])> = self
            .per_hour
            .iter()
            .enumerate()
            .map(|(h, c)| (format!("{h:02}"), *c))
            .collect();
        o.push_str(&svg_chart(&hours));
        o.push_str("<h2>Per-day traffic</h2>\n");
        let days: Vec<(String, [u64; 5])> = self
            .per_day
            .iter()
            .map(|(d, c)| (day_text(*d), *c))
            .collect();
        o.push_str(&svg_chart(&days));
        o.push_str("<table><tr><th class=\"l\">date</th>");
        for c in COLS {
            let _ = write!(o, "<th>{c}</th>");
        }
        o.push_str("</tr>");
        for (d, c) in &days {
            let _ = write!(o, "<tr><td class=\"l\">{d}</td>");
            for v in c {
                let _ = write!(o, "<td>{v}</td>");
            }
            o.push_str("</tr>");
        }
        o.push_str("</table>\n");
        let _ = write!(
            o,
            "<h2>Recipient domains (top {top})</h2>\n<table><tr><th>delivered</th><th>bytes</th><th>deferrals</th><th>avg delay</th><th>max delay</th><th class=\"l\">domain</th></tr>"
        );
        for (d, s, avg) in self.domain_rows(top) {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
                s.sent,
                s.bytes,
                s.defers,
                dly(avg),
                dly(s.delay_max),
                esc(&d)
            );
        }
        o.push_str("</table>\n");
        let two = |o: &mut String, t: &str, m: &Map<String, CountBytes>, by_size: bool| {
            let _ = write!(
                o,
                "<h2>{t} (top {top})</h2>\n<table><tr><th>messages</th><th>bytes</th><th class=\"l\">name</th></tr>"
            );
            for (a, s) in sorted(m, |s| {
                if by_size {
                    (s.bytes, s.count)
                } else {
                    (s.count, s.bytes)
                }
            })
            .into_iter()
            .take(top)
            {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
                    s.count,
                    s.bytes,
                    esc(&a)
                );
            }
            o.push_str("</table>\n");
        };
        two(&mut o, "Sending domains", &self.sending_domains, false);
        two(&mut o, "Senders by message count", &self.senders, false);
        two(
            &mut o,
            "Recipients by message count",
            &self.recipients,
            false,
        );
        two(&mut o, "Senders by message size", &self.senders, true);
        two(&mut o, "Recipients by message size", &self.recipients, true);
        let list = |o: &mut String, t: &str, rows: Vec<(String, u64)>| {
            let _ = write!(
                o,
                "<h2>{t}</h2>\n<table><tr><th>count</th><th class=\"l\">detail</th></tr>"
            );
            for (r, n) in rows.into_iter().take(top) {
                let _ = write!(o, "<tr><td>{n}</td><td class=\"l\">{}</td></tr>", esc(&r));
            }
            o.push_str("</table>\n");
        };
        list(
            &mut o,
            "Deferral reasons",
            sorted(&self.deferral_reasons, |n| *n),
        );
        list(
            &mut o,
            "Bounce reasons",
            sorted(&self.bounce_reasons, |n| *n)
                .into_iter()
                .map(|((d, r), n)| (format!("{d}: {r}"), n))
                .collect(),
        );
        list(
            &mut o,
            "Rejection reasons",
            sorted(&self.reject_reasons, |n| *n)
                .into_iter()
                .map(|((s, r), n)| (format!("{s}: {r}"), n))
                .collect(),
        );
        for (sev, heading) in [
            ("warning", "Warnings"),
            ("error", "Errors"),
            ("fatal", "Fatal errors"),
            ("panic", "Panics"),
        ] {
            let rows = self
                .diagnostics
                .get(sev)
                .map(|m| {
                    sorted(m, |n| *n)
                        .into_iter()
                        .map(|((s, t), n)| (format!("{s}: {t}"), n))
                        .collect()
                })
                .unwrap_or_default();
            list(&mut o, heading, rows);
        }
        o.push_str("</body></html>\n");
        o
    }
}

const COLORS: [&str; 5] = ["#4e79a7", "#59a14f", "#f28e2b", "#e15759", "#9c9c9c"];

/// Grouped bars, one group per slot, one bar per column.
fn svg_chart(slots: &[(String, [u64; 5])]) -> String {
    let max = slots.iter().flat_map(|s| s.1).max().unwrap_or(0).max(1);
    let group = 5 * 6 + 8;
    let (left, top, h) = (50, 10, 200);
    let w = left + slots.len().max(1) * group + 10;
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" role=\"img\">\n",
        top + h + 40
    );
    for i in 0..=4 {
        let y = top + h - h * i / 4;
        let _ = writeln!(
            o,
            "<line x1=\"{left}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            w - 10,
            left - 4,
            y + 3,
            max * i as u64 / 4
        );
    }
    for (i, (label, c)) in slots.iter().enumerate() {
        let x0 = left + i * group + 4;
        for (k, v) in c.iter().enumerate() {
            let bh = (*v as f64 / max as f64 * h as f64).round() as usize;
            let _ = writeln!(
                o,
                "<rect x=\"{}\" y=\"{}\" width=\"5\" height=\"{bh}\" fill=\"{}\"><title>{} {}: {v}</title></rect>",
                x0 + k * 6,
                top + h - bh,
                COLORS[k],
                esc(label),
                COLS[k]
            );
        }
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x0 + 15,
            top + h + 14,
            esc(label)
        );
    }
    o.push_str("</svg>\n");
    o
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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
