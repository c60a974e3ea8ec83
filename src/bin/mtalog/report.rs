//! `mtalog report`: pflogsumm's figures for any of the three formats, as text (pflogsumm's
//! layout), JSON or HTML with inline SVG charts.
//!
//! Counting follows pflogsumm: received and bytes received per reception (one per
//! recipient for every mtalog format), delivered and bounced per recipient line, deferred
//! per distinct message and deferrals per line, rejected per rejection line; senders,
//! recipients and domains from the envelope addresses (recipients and recipient domains
//! from delivered lines), delays from the queue time of each delivery or deferral.

mod bounces;
mod output;

use std::borrow::Cow;
use std::collections::BTreeMap;

use mtalog::event::{Event, Field, Kind};
use mtalog::format::bounce::read::BOUNCELOG;
use mtalog::format::read::{Map, PARTIAL, Rec, Set};
use mtalog::format::text::{bare_address, days_from_civil};
use mtalog::format::{Level, LocalZone, Zone, civil, split_severity};

/// Traffic columns of the per-day and per-hour tables.
pub const COLS: [&str; 5] = ["received", "delivered", "deferred", "bounced", "rejected"];

/// Count and bytes.
#[derive(Clone, Copy, Default, Debug)]
pub struct CountBytes {
    /// Messages.
    pub count: u64,
    /// Bytes.
    pub bytes: u64,
}

/// One recipient domain.
#[derive(Clone, Copy, Default, Debug)]
pub struct DomainStat {
    /// Delivered.
    pub sent: u64,
    /// Bytes delivered.
    pub bytes: u64,
    /// Deferrals.
    pub defers: u64,
    /// Sum of delivery delays, microseconds.
    pub delay_sum: u64,
    /// Largest delay of a delivery or deferral, microseconds.
    pub delay_max: u64,
}

/// Everything the report shows.
#[derive(Default)]
pub struct Report {
    /// Received (one per reception line).
    pub received: u64,
    /// Delivered.
    pub delivered: u64,
    /// Distinct deferred messages.
    pub deferred: u64,
    /// Deferral lines.
    pub deferrals: u64,
    /// Bounced.
    pub bounced: u64,
    /// Rejected.
    pub rejected: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Bytes delivered.
    pub bytes_delivered: u64,
    deferred_ids: Set<Vec<u8>>,
    zone: LocalZone,
    /// Per sender address.
    pub senders: Map<String, CountBytes>,
    /// Per recipient address (delivered).
    pub recipients: Map<String, CountBytes>,
    /// Per sending domain.
    pub sending_domains: Map<String, CountBytes>,
    /// Per recipient domain.
    pub recipient_domains: Map<String, DomainStat>,
    /// Per day (day number): the [`COLS`].
    pub per_day: BTreeMap<i64, [u64; 5]>,
    /// Per hour of the day: the [`COLS`].
    pub per_hour: [[u64; 5]; 24],
    /// Deferral reasons.
    pub deferral_reasons: Map<String, u64>,
    /// Bounce reasons by recipient domain.
    pub bounce_reasons: Map<(String, String), u64>,
    /// Rejection reasons by stage.
    pub reject_reasons: Map<(String, String), u64>,
    /// Bounces by Momentum bounce class.
    pub bounce_classes: bounces::BounceClasses,
    /// Diagnostics by severity (`warning`, `error`, `fatal`, `panic`), then source and text.
    pub diagnostics: BTreeMap<&'static str, Map<(String, String), u64>>,
    /// Lines read, and lines that carried no event.
    pub lines: u64,
    /// Only this day (day number), when set.
    pub day: Option<i64>,
}

/// An address as pflogsumm counts it: the domain part lower-cased.
fn addr_key(a: &[u8]) -> Cow<'_, str> {
    let a = String::from_utf8_lossy(bare_address(a));
    match a.rfind('@') {
        Some(i) if a[i..].bytes().any(|b| b.is_ascii_uppercase()) => {
            Cow::Owned(format!("{}{}", &a[..i], a[i..].to_ascii_lowercase()))
        }
        _ => a,
    }
}

/// The entry of `key`, made (with an owned copy of the key) only when it is new.
fn bump<'m, V: Default>(m: &'m mut Map<String, V>, key: &str) -> &'m mut V {
    if !m.contains_key(key) {
        m.insert(key.to_owned(), V::default());
    }
    m.get_mut(key).expect("just inserted")
}

/// The domain of an address made by [`addr_key`] (already lower-case).
fn domain_key(addr: &str) -> Option<&str> {
    addr.rfind('@').map(|i| &addr[i + 1..])
}

/// The reason of a reply text: without its reply code and enhanced code.
fn reason(note: &[u8]) -> String {
    let s = String::from_utf8_lossy(note);
    let mut t = s.trim();
    if t.len() >= 4
        && t.as_bytes()[..3].iter().all(u8::is_ascii_digit)
        && matches!(t.as_bytes()[3], b' ' | b'-')
    {
        t = &t[4..];
        let w = t.split(' ').next().unwrap_or("");
        if w.len() >= 5
            && w.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && w.matches('.').count() == 2
        {
            t = t[w.len()..].trim_start();
        }
    }
    if t.is_empty() {
        "(no reason given)".into()
    } else {
        t.chars().take(120).collect()
    }
}

/// The reason of a rejection, deferral or bounce, for grouping: without codes, without a
/// leading `<object>: ` (pflogsumm's grouping of rejections), up to a `;`.
fn reject_reason(note: &[u8]) -> String {
    let r = reason(note);
    let r = match (r.starts_with('<'), r.find(">: ")) {
        (true, Some(p)) => r[p + 3..].to_owned(),
        _ => r,
    };
    r.split(';').next().unwrap_or("").to_owned()
}

fn stage_name(phase: i32) -> &'static str {
    match phase {
        0 | 1 | 18 => "CONNECT",
        2 | 3 => "HELO",
        4 | 5 => "MAIL",
        6 | 7 | 19 | 20 => "RCPT",
        8 => "DATA",
        9..=12 => "END-OF-MESSAGE",
        _ => "other",
    }
}

impl Report {
    /// An empty report, for one day or all.
    pub fn new(day: Option<i64>) -> Report {
        Report {
            day,
            ..Report::default()
        }
    }

    /// Counts one record.
    pub fn add(&mut self, rec: &Rec) {
        let ev = &rec.ev;
        let c = civil(ev.time.sec, self.zone.offset_at(ev.time.sec));
        let (day, hour) = (days_from_civil(c.year, c.month, c.day), c.hour);
        if self.day.is_some_and(|d| d != day) {
            return;
        }
        self.bounce_classes.add(rec);
        if rec.source == BOUNCELOG {
            // The bouncelog repeats the mainlog's P and T lines: its bounces by class only.
            return;
        }
        let col = match ev.kind {
            Kind::Reception => Some(0),
            Kind::Delivery => Some(1),
            Kind::TransientFailure => Some(2),
            Kind::PermanentFailure => Some(3),
            Kind::Rejection => Some(4),
            _ => None,
        };
        if let Some(c) = col {
            self.per_day.entry(day).or_default()[c] += 1;
            self.per_hour[hour as usize][c] += 1;
        }
        match ev.kind {
            Kind::Reception if rec.source == PARTIAL => self.received += 1,
            Kind::Reception => self.reception(ev),
            Kind::Delivery => self.delivery(ev),
            Kind::TransientFailure => {
                self.deferrals += 1;
                if self.deferred_ids.insert(ev.get(Field::MsgId).to_vec()) {
                    self.deferred += 1;
                }
                let dom = self.rcpt_domain(ev).into_owned();
                let delay = delay(ev);
                let d = bump(&mut self.recipient_domains, &dom);
                d.defers += 1;
                d.delay_max = d.delay_max.max(delay);
                *self
                    .deferral_reasons
                    .entry(reject_reason(ev.get(Field::Note)))
                    .or_default() += 1;
            }
            Kind::PermanentFailure => {
                self.bounced += 1;
                let dom = self.rcpt_domain(ev);
                *self
                    .bounce_reasons
                    .entry((dom.into_owned(), reject_reason(ev.get(Field::Note))))
                    .or_default() += 1;
            }
            Kind::Rejection => {
                self.rejected += 1;
                *self
                    .reject_reasons
                    .entry((
                        stage_name(ev.phase).to_owned(),
                        reject_reason(ev.get(Field::Note)),
                    ))
                    .or_default() += 1;
            }
            Kind::Error => {
                let (level, text, _) = split_severity(ev.get(Field::Note), Level::Error);
                let sev = match level {
                    Level::Debug | Level::Info | Level::Notice => return,
                    Level::Warning => "warning",
                    Level::Error => "error",
                    Level::Critical | Level::Fatal => "fatal",
                    Level::Panic => "panic",
                };
                let text: String = String::from_utf8_lossy(text).chars().take(120).collect();
                *self
                    .diagnostics
                    .entry(sev)
                    .or_default()
                    .entry((rec.source.clone(), text))
                    .or_default() += 1;
            }
            _ => {}
        }
    }

    fn rcpt_domain<'e>(&self, ev: &'e Event) -> Cow<'e, str> {
        let rcpt = addr_key(ev.get(Field::RcptTo));
        if let Some(d) = domain_key(&rcpt) {
            return Cow::Owned(d.to_owned());
        }
        if !ev.get(Field::DomainName).is_empty() {
            return Cow::Owned(
                String::from_utf8_lossy(ev.get(Field::DomainName)).to_ascii_lowercase(),
            );
        }
        rcpt
    }

    fn reception(&mut self, ev: &Event) {
        self.received += 1;
        self.bytes_received += ev.size;
        let from = ev.get(Field::MailFrom);
        let sender = if bare_address(from).is_empty() {
            Cow::Borrowed("from=<>")
        } else {
            addr_key(from)
        };
        let client;
        let dom: &str = match domain_key(&sender) {
            Some(d) => d,
            None => {
                let name = ev.get(Field::PeerName);
                let ip = ev.get(Field::PeerIp);
                client = if !name.is_empty() {
                    client_domain(&String::from_utf8_lossy(name))
                } else if !ip.is_empty() {
                    String::from_utf8_lossy(ip).into_owned()
                } else {
                    sender.clone().into_owned()
                };
                &client
            }
        };
        let d = bump(&mut self.sending_domains, dom);
        d.count += 1;
        d.bytes += ev.size;
        let s = bump(&mut self.senders, &sender);
        s.count += 1;
        s.bytes += ev.size;
    }

    fn delivery(&mut self, ev: &Event) {
        self.delivered += 1;
        self.bytes_delivered += ev.size;
        let rcpt = addr_key(ev.get(Field::RcptTo));
        let delay = delay(ev);
        let d = match domain_key(&rcpt) {
            Some(dom) => bump(&mut self.recipient_domains, dom),
            None => {
                let dom = self.rcpt_domain(ev).into_owned();
                bump(&mut self.recipient_domains, &dom)
            }
        };
        d.sent += 1;
        d.bytes += ev.size;
        d.delay_sum += delay;
        d.delay_max = d.delay_max.max(delay);
        let r = bump(&mut self.recipients, &rcpt);
        r.count += 1;
        r.bytes += ev.size;
    }
}

fn delay(ev: &Event) -> u64 {
    if ev.has(mtalog::event::flags::HAS_RECEIVED) {
        ev.time.micros_since(ev.received)
    } else {
        0
    }
}

/// pflogsumm's `gimme_domain`: `mach.host.dom` → `host.dom`.
fn client_domain(name: &str) -> String {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() >= 3 {
        let last = parts[parts.len() - 1];
        if last.len() == 3
            || (parts.len() >= 4 && last.len() == 2 && parts[parts.len() - 2].len() <= 3)
        {
            let n = if last.len() == 3 { 2 } else { 3 };
            return parts[parts.len() - n..].join(".").to_ascii_lowercase();
        }
    }
    name.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::output::js;
    use super::*;

    #[test]
    fn reasons_lose_their_codes() {
        assert_eq!(reason(b"451 4.7.1 Try again later"), "Try again later");
        assert_eq!(reason(b"Connection refused"), "Connection refused");
        assert_eq!(
            reject_reason(b"554 5.7.1 <x@d0.example>: Relay access denied"),
            "Relay access denied"
        );
        assert_eq!(js("a\"b\n"), "\"a\\\"b\\n\"");
        assert_eq!(client_domain("client.src.example"), "client.src.example");
        assert_eq!(client_domain("mx.mail.example.com"), "example.com");
    }
}
