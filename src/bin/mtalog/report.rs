//! `mtalog report`: pflogsumm's report, with pflogsumm's figures, for any of the formats.
//!
//! Postfix lines are counted the way pflogsumm 1.1.5 counts them, rule for rule (its main
//! loop is [`Report::postfix_line`], its text rules are in [`rules`]). The events of the
//! other formats (ec_logger, Sun) are first written as the Postfix lines that
//! postfix_logger would write for them, then counted the same way: their report is what
//! pflogsumm says of `mtalog convert --to postfix`.
//!
//! Where pflogsumm forgets nothing (the size of every message, every deferred queue ID),
//! the report forgets a message when Postfix logs it `removed`, so that memory follows
//! the messages in flight; `-e` (the per-message detail) keeps every message, as
//! pflogsumm does.

mod bounces;
mod output;
pub mod rules;
mod text;

use std::collections::BTreeMap;

use mtalog::format::postfix::read::header;
use mtalog::format::read::Map;
use mtalog::format::text::days_from_civil;

pub use text::text;

use rules::Action;

/// pflogsumm's options (`-1` is "all" for the counts, as in pflogsumm).
#[derive(Clone, Debug)]
pub struct Options {
    /// `-d`: only this day (year, month, day).
    pub day: Option<(i64, u32, u32)>,
    /// `-e`: the per-message detail.
    pub extended: bool,
    /// `-h`: rows of the host/domain summaries.
    pub hosts: i64,
    /// `-u`: rows of the sender/recipient lists.
    pub users: i64,
    /// `-i`: whole addresses lower-cased.
    pub ignore_case: bool,
    /// `--iso_date_time`.
    pub iso: bool,
    /// `--mailq`.
    pub mailq: bool,
    /// `--problems_first`.
    pub problems_first: bool,
    /// `--rej_add_from`.
    pub rej_add_from: bool,
    /// `--verbose_msg_detail`.
    pub verbose: bool,
    /// `--zero_fill`.
    pub zero_fill: bool,
    /// `--bounce_detail`.
    pub bounce_detail: i64,
    /// `--deferral_detail`.
    pub deferral_detail: i64,
    /// `--reject_detail`.
    pub reject_detail: i64,
    /// `--smtp_detail`.
    pub smtp_detail: i64,
    /// `--smtpd_warning_detail`.
    pub warning_detail: i64,
    /// `--no_smtpd_warnings`.
    pub no_smtpd_warnings: bool,
    /// `--no_no_msg_size`.
    pub no_no_msg_size: bool,
    /// `--smtpd_stats`.
    pub smtpd_stats: bool,
    /// `-q`.
    pub quiet: bool,
    /// `--syslog_name`.
    pub syslog_name: String,
    /// The year of traditional time stamps that are not after the current month (the year
    /// before for later months), and that month: pflogsumm's rule.
    pub this_year: i64,
    /// See `this_year` (1..=12).
    pub this_month: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            day: None,
            extended: false,
            hosts: -1,
            users: -1,
            ignore_case: false,
            iso: false,
            mailq: false,
            problems_first: false,
            rej_add_from: false,
            verbose: false,
            zero_fill: false,
            bounce_detail: -1,
            deferral_detail: -1,
            reject_detail: -1,
            smtp_detail: -1,
            warning_detail: -1,
            no_smtpd_warnings: false,
            no_no_msg_size: false,
            smtpd_stats: false,
            quiet: false,
            syslog_name: "postfix".into(),
            this_year: 1970,
            this_month: 1,
        }
    }
}

/// Messages and bytes of a sender, recipient or sending domain.
#[derive(Clone, Copy, Default, Debug)]
pub struct Counts {
    /// Messages.
    pub count: u64,
    /// Bytes.
    pub size: u64,
}

/// One recipient domain of the delivery summary.
#[derive(Clone, Copy, Default, Debug)]
pub struct DomainStat {
    /// Delivered.
    pub count: u64,
    /// Bytes delivered.
    pub size: u64,
    /// Deferrals.
    pub defers: u64,
    /// Sum of the delays of the deliveries, seconds.
    pub delay_sum: f64,
    /// Largest delay of a delivery or deferral, seconds.
    pub delay_max: f64,
}

/// smtpd connections of one hour, day or client domain.
#[derive(Clone, Copy, Default, Debug)]
pub struct Conns {
    /// Connections.
    pub count: u64,
    /// Their total time, seconds.
    pub secs: i64,
    /// The longest, seconds.
    pub max: i64,
}

/// Counts by one key.
pub type Counted = Map<Vec<u8>, u64>;
/// Counts by a heading, then a key (deferrals by service, bounces by relay, warnings).
pub type Nested2 = BTreeMap<Vec<u8>, Counted>;
/// Counts by a heading, a reason, then a key (rejects, reject warnings, holds, discards).
pub type Nested3 = BTreeMap<Vec<u8>, BTreeMap<Vec<u8>, Counted>>;

/// Traffic columns of the per-day and per-hour tables.
pub const COLS: [&str; 5] = ["received", "delivered", "deferred", "bounced", "rejected"];

/// A day as pflogsumm keys it: year, month (1..=12), day.
pub type Day = (i64, u32, u32);

/// Per-day traffic: the five [`COLS`]; `None` where pflogsumm has no value (printed 0).
pub type DayRow = [Option<u64>; 5];

/// What a message in flight needs remembered.
#[derive(Default)]
struct Flight {
    /// Received here (`client=`/pickup): the client's domain, or `pickup`.
    rcvd: Option<Vec<u8>>,
    /// The time of the `client=`/pickup line (seconds of the wall clock, for forgetting).
    rcvd_at: i64,
    /// Held by a check (may wait in the hold queue for days).
    held: bool,
    /// Size from the qmgr line (0 = none seen).
    size: u64,
    /// Deferred at least once.
    deferred: bool,
}

/// Everything the report shows.
#[derive(Default)]
pub struct Report {
    /// The options.
    pub o: Options,
    /// Received.
    pub received: u64,
    /// Delivered.
    pub delivered: u64,
    /// Forwarded (`status=sent (forwarded as ...)`).
    pub forwarded: u64,
    /// Distinct deferred messages.
    pub deferred: u64,
    /// Deferral lines.
    pub deferrals: u64,
    /// Bounced (`status=bounced`).
    pub bounced: u64,
    /// Every bounce in Momentum's classes (not pflogsumm's).
    pub bounce_classes: bounces::BounceClasses,
    /// The lines being counted were written for the events of another format, whose
    /// bounces are counted by class from the events themselves (see `BounceClasses::hold`).
    from_events: bool,
    /// Expired (`status=expired`): not counted as bounced by pflogsumm; `--json` only.
    pub expired: u64,
    /// Rejected.
    pub rejected: u64,
    /// Reject warnings.
    pub warned: u64,
    /// Held.
    pub held: u64,
    /// Discarded.
    pub discarded: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Bytes delivered.
    pub bytes_delivered: u64,
    /// Per sender address.
    pub senders: Map<Vec<u8>, Counts>,
    /// Per sending domain.
    pub sending_domains: Map<Vec<u8>, Counts>,
    /// Per recipient address.
    pub recipients: Map<Vec<u8>, Counts>,
    /// Per recipient domain.
    pub recipient_domains: Map<Vec<u8>, DomainStat>,
    /// Recipient domains with a delivery.
    pub recipient_domain_count: u64,
    /// Per day.
    pub per_day: BTreeMap<Day, DayRow>,
    /// Per hour: the [`COLS`].
    pub per_hour: [[u64; 5]; 24],
    /// Day changes seen (pflogsumm's `$dayCnt`: per-hour figures are averages over it).
    pub day_count: u64,
    last_day: u32,
    /// Deferral reasons by service.
    pub deferral_detail: Nested2,
    /// Bounce reasons by relay.
    pub bounce_detail: Nested2,
    /// Reject detail.
    pub rejects: Nested3,
    /// Reject warning detail.
    pub warns: Nested3,
    /// Hold detail.
    pub holds: Nested3,
    /// Discard detail.
    pub discards: Nested3,
    /// smtp delivery failures (pflogsumm's forms) by reason, then host.
    pub smtp_failures: Nested2,
    /// smtp connection failures as Postfix 2.x and later write them
    /// (`connect to HOST[ADDR]:PORT: REASON`) by reason, then host: `--json` only.
    pub connect_failures: Nested2,
    /// Warnings by service.
    pub warnings: Nested2,
    /// Fatal errors by service.
    pub fatals: Nested2,
    /// Panics by service.
    pub panics: Nested2,
    /// Master daemon messages.
    pub master: Counted,
    /// Deliveries of messages whose size is not in the input: queue ID → recipient.
    pub no_size: BTreeMap<Vec<u8>, Vec<u8>>,
    /// `-e`: per queue ID, the sender then the recipients.
    pub detail: Map<Vec<u8>, Vec<Vec<u8>>>,
    /// smtpd connections.
    pub smtpd: Conns,
    /// smtpd connections per hour.
    pub smtpd_per_hour: [Conns; 24],
    /// smtpd connections per day.
    pub smtpd_per_day: BTreeMap<Day, Conns>,
    /// smtpd connections per client domain.
    pub smtpd_per_domain: Map<Vec<u8>, Conns>,
    conn_start: Map<Vec<u8>, i64>,
    flights: Map<Vec<u8>, Flight>,
    /// Lines read.
    pub lines: u64,
    /// The first and last time stamps counted (wall clock, `YYYY-MM-DD hh:mm:ss`).
    pub span: Option<(String, String)>,
    /// The files read, in the order read.
    pub files: Vec<String>,
    sweep_at: u64,
}

/// Seconds of a wall-clock time, for differences (pflogsumm's `Delta_DHMS`).
fn wall_secs(d: Day, h: u32, m: u32, s: u32) -> i64 {
    days_from_civil(d.0, d.1, d.2) * 86_400 + i64::from(h * 3600 + m * 60 + s)
}

/// The entry of `key`, made only when it is new.
fn entry<'m, V: Default>(m: &'m mut Map<Vec<u8>, V>, key: &[u8]) -> &'m mut V {
    if !m.contains_key(key) {
        m.insert(key.to_vec(), V::default());
    }
    m.get_mut(key).expect("just inserted")
}

fn bump2(m: &mut Nested2, a: &[u8], b: &[u8]) {
    if !m.contains_key(a) {
        m.insert(a.to_vec(), Map::default());
    }
    *entry(m.get_mut(a).expect("present"), b) += 1;
}

fn bump3(m: &mut Nested3, a: &[u8], b: &[u8], c: &[u8]) {
    let l2 = m.entry(a.to_vec()).or_default();
    if !l2.contains_key(b) {
        l2.insert(b.to_vec(), Map::default());
    }
    *entry(l2.get_mut(b).expect("present"), c) += 1;
}

/// How the tag of a line is read (pflogsumm's two expressions): the service (`$cmd`),
/// the first word after it (`$qid`), and where the text after the tag starts.
fn tag<'a>(rest: &'a [u8], syslog_name: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    // ^(?:postfix|NAME)(?:/(?:smtps|submission))?/([^\[:]*).*?: ([^:\s]+)
    let after_name = rest
        .strip_prefix(b"postfix")
        .filter(|r| r.first() == Some(&b'/'))
        .or_else(|| {
            rest.strip_prefix(syslog_name)
                .filter(|r| r.first() == Some(&b'/'))
        });
    if let Some(r) = after_name {
        let r = r
            .strip_prefix(b"/smtps")
            .or_else(|| r.strip_prefix(b"/submission"))
            .filter(|x| x.first() == Some(&b'/'))
            .unwrap_or(r);
        let r = &r[1..];
        let n = r.iter().take_while(|&&b| b != b'[' && b != b':').count();
        let cmd = &r[..n];
        if let Some(q) = first_word_after_colon(&r[n..]) {
            return Some((cmd, q));
        }
        return None;
    }
    // ^((?:postfix)(?:-script)?)(?:\[\d+\])?: ([^:\s]+)
    let (cmd, r) = if let Some(r) = rest.strip_prefix(b"postfix-script") {
        (&rest[..14], r)
    } else if let Some(r) = rest.strip_prefix(b"postfix") {
        (&rest[..7], r)
    } else {
        return None;
    };
    let r = match r.strip_prefix(b"[") {
        Some(p) => {
            let n = p.iter().take_while(|b| b.is_ascii_digit()).count();
            p[n..].strip_prefix(b"]").filter(|_| n > 0)?
        }
        None => r,
    };
    let r = r.strip_prefix(b": ")?;
    let n = word_len(r);
    (n > 0).then(|| (cmd, &r[..n]))
}

fn word_len(r: &[u8]) -> usize {
    r.iter()
        .take_while(|&&b| b != b':' && !b.is_ascii_whitespace())
        .count()
}

/// `.*?: ([^:\s]+)`: the first word after a `: ` that has one.
fn first_word_after_colon(s: &[u8]) -> Option<&[u8]> {
    let mut from = 0;
    while let Some(p) = rules::find_from(s, b": ", from) {
        let r = &s[p + 2..];
        let n = word_len(r);
        if n > 0 {
            return Some(&r[..n]);
        }
        from = p + 1;
    }
    None
}

impl Report {
    /// An empty report.
    pub fn new(o: Options) -> Report {
        Report {
            o,
            ..Report::default()
        }
    }

    /// Counts one Postfix syslog line (pflogsumm's main loop). Lines of other programs,
    /// and lines that are not syslog lines, are left out as pflogsumm leaves them out.
    pub fn postfix_line(&mut self, line: &[u8]) {
        let owned;
        let line = if mtalog::format::read::find(line, b": [ID ").is_some() {
            owned = strip_solaris_id(line);
            &owned[..]
        } else {
            line
        };
        let Some(h) = header(line) else {
            return;
        };
        let year = h.year.unwrap_or(if h.month > self.o.this_month {
            self.o.this_year - 1
        } else {
            self.o.this_year
        });
        let day: Day = (year, h.month, h.day);
        if self.o.day.is_some_and(|d| d != day) {
            return;
        }
        let log = h.rest;
        let syslog_name = self.o.syslog_name.clone();
        let Some((cmd, qid)) = tag(log, syslog_name.as_bytes()) else {
            return;
        };
        if h.day != self.last_day {
            self.last_day = h.day;
            self.day_count += 1;
            if self.o.zero_fill {
                self.per_day.entry(day).or_default()[4] = Some(0);
            }
        }
        let stamp = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            day.0, day.1, day.2, h.hour, h.min, h.sec
        );
        match &mut self.span {
            None => self.span = Some((stamp.clone(), stamp)),
            Some((a, b)) => {
                if stamp < *a {
                    *a = stamp;
                } else if stamp > *b {
                    *b = stamp;
                }
            }
        }
        let hr = h.hour as usize;
        let now = wall_secs(day, h.hour, h.min, h.sec);
        self.sweep(now);

        if cmd == b"cleanup"
            && let Some(after) = cleanup_text(log)
            && let Some((action, what, rmdr)) = rules::cleanup_action(after)
        {
            let rmdr = if self.o.verbose {
                rmdr
            } else {
                rules::cut_cleanup_envelope(rmdr)
            };
            let rmdr = rules::string_trimmer(rmdr, 64, self.o.verbose);
            let detail = self.o.reject_detail != 0;
            let (map, n) = match action {
                "reject" | "milter-reject" => (&mut self.rejects, &mut self.rejected),
                "warning" => (&mut self.warns, &mut self.warned),
                "hold" => (&mut self.holds, &mut self.held),
                _ => (&mut self.discards, &mut self.discarded),
            };
            if detail {
                bump3(map, cmd, what, &rmdr);
            }
            *n += 1;
            if action == "hold" {
                entry(&mut self.flights, qid).held = true;
            }
            self.count(day, hr, 4);
            return;
        }
        match qid {
            b"warning" | b"fatal" | b"panic" => {
                let mut key = qid.to_vec();
                key.extend_from_slice(b": ");
                let reason = rules::rfind_after(log, &key);
                let reason = rules::string_trimmer(reason, 66, self.o.verbose);
                let map = match qid {
                    b"warning" => {
                        if cmd == b"smtpd" && self.o.no_smtpd_warnings {
                            return;
                        }
                        &mut self.warnings
                    }
                    b"fatal" => &mut self.fatals,
                    _ => &mut self.panics,
                };
                bump2(map, cmd, &reason);
                return;
            }
            b"reject" => return self.reject(log, Action::Reject, day, hr),
            b"reject_warning" => return self.reject(log, Action::Warn, day, hr),
            b"hold" => return self.reject(log, Action::Hold, day, hr),
            b"discard" => return self.reject(log, Action::Discard, day, hr),
            _ => {}
        }
        if cmd == b"master" {
            let text = mtalog::format::read::rfind(log, b": ").map_or(&b""[..], |p| &log[p + 2..]);
            *entry(&mut self.master, text) += 1;
            return;
        }
        if cmd == b"smtpd" || cmd == b"postscreen" {
            return self.smtpd(log, qid, day, hr, (h.hour, h.min, h.sec));
        }
        if let Some((addr, size)) = rules::from_size(log) {
            return self.queued(qid, addr, size);
        }
        if let Some(d) = rules::delivery(log) {
            return self.delivery(cmd, qid, log, &d, day, hr);
        }
        if cmd == b"pickup" && (has_after_colon(log, b"sender=") || has_after_colon(log, b"uid=")) {
            self.count(day, hr, 0);
            self.received += 1;
            let f = entry(&mut self.flights, qid);
            f.rcvd = Some(b"pickup".to_vec());
            f.rcvd_at = now;
            return;
        }
        if cmd == b"smtp" {
            if self.o.smtp_detail != 0
                && let Some((reason, host)) = rules::old_connect_failure(log)
            {
                bump2(&mut self.smtp_failures, &reason, host);
            } else if let Some(p) = mtalog::format::read::find(log, b": connect to ") {
                let r = &log[p + 13..];
                if let Some(c) = mtalog::format::read::find(r, b": ") {
                    let host = r[..c].split(|&b| b == b'[').next().unwrap_or(b"");
                    bump2(&mut self.connect_failures, &r[c + 2..], host);
                }
            }
            return;
        }
        if cmd == b"qmgr" && mtalog::format::read::find(log, b", status=expired").is_some() {
            self.expired += 1;
            return;
        }
        if mtalog::format::read::find(log, b": removed").is_some_and(|p| p + 9 == log.len()) {
            self.forget(qid);
        }
    }

    /// Adds one to column `col` of the day and the hour.
    fn count(&mut self, day: Day, hr: usize, col: usize) {
        self.per_hour[hr][col] += 1;
        let v = &mut self.per_day.entry(day).or_default()[col];
        *v = Some(v.unwrap_or(0) + 1);
    }

    /// `proc_smtpd_reject`.
    fn reject(&mut self, log: &[u8], action: Action, day: Day, hr: usize) {
        match action {
            Action::Reject => self.rejected += 1,
            Action::Warn => self.warned += 1,
            Action::Hold => self.held += 1,
            Action::Discard => self.discarded += 1,
        }
        self.count(day, hr, 4);
        if self.o.reject_detail == 0 {
            return;
        }
        let row = rules::reject_row(log, self.o.verbose, self.o.rej_add_from, self.o.ignore_case);
        let map = match action {
            Action::Reject => &mut self.rejects,
            Action::Warn => &mut self.warns,
            Action::Hold => &mut self.holds,
            Action::Discard => &mut self.discards,
        };
        bump3(map, &row.stage, &row.reason, &row.key);
    }

    /// smtpd lines: receptions, rejects, and the connection figures.
    fn smtpd(&mut self, log: &[u8], qid: &[u8], day: Day, hr: usize, hms: (u32, u32, u32)) {
        if let Some(client) = after_qid(log, b"client=") {
            let e = client
                .iter()
                .position(|&b| b == b',')
                .unwrap_or(client.len());
            self.count(day, hr, 0);
            self.received += 1;
            let f = entry(&mut self.flights, qid);
            f.rcvd = Some(rules::gimme_domain(&client[..e]));
            f.rcvd_at = wall_secs(day, hms.0, hms.1, hms.2);
            return;
        }
        for (word, action) in [
            (&b"reject: "[..], Action::Reject),
            (b"reject_warning: ", Action::Warn),
            (b"hold: ", Action::Hold),
            (b"discard: ", Action::Discard),
        ] {
            if after_qid(log, word).is_some() {
                if action == Action::Hold {
                    entry(&mut self.flights, qid).held = true;
                }
                return self.reject(log, action, day, hr);
            }
        }
        if !self.o.smtpd_stats {
            return;
        }
        let now = wall_secs(day, hms.0, hms.1, hms.2);
        if mtalog::format::read::find(log, b": connect from ").is_some() {
            if let Some(pid) = smtpd_pid(log) {
                self.conn_start.insert(pid.to_vec(), now);
            }
        } else if let Some(pid) = smtpd_pid(log)
            && let Some(p) = mtalog::format::read::find(log, b"]: disconnect from ")
            && let Some(start) = self.conn_start.remove(pid)
        {
            let host = rules::gimme_domain(&log[p + 19..]);
            let t = now - start;
            let add = |c: &mut Conns| {
                c.count += 1;
                c.secs += t;
                c.max = c.max.max(t);
            };
            add(&mut self.smtpd_per_hour[hr]);
            add(self.smtpd_per_day.entry(day).or_default());
            add(entry(&mut self.smtpd_per_domain, &host));
            self.smtpd.count += 1;
            self.smtpd.secs += t;
        }
    }

    /// The qmgr line with the sender and size.
    fn queued(&mut self, qid: &[u8], addr: &[u8], size: u64) {
        let f = entry(&mut self.flights, qid);
        if f.size != 0 {
            return;
        }
        f.size = size;
        let addr = if addr.is_empty() {
            b"from=<>".to_vec()
        } else {
            rules::addr_key(addr, self.o.ignore_case)
        };
        let rcvd = f.rcvd.take();
        if self.o.extended {
            entry(&mut self.detail, qid).push(addr.clone());
        }
        let Some(client) = rcvd else {
            return;
        };
        let dom = match rules::addr_domain(&addr) {
            Some(d) => d.to_vec(),
            None if client == b"pickup" => addr.clone(),
            None => client,
        };
        let d = entry(&mut self.sending_domains, &dom);
        d.count += 1;
        d.size += size;
        let s = entry(&mut self.senders, &addr);
        s.count += 1;
        s.size += size;
        self.bytes_received += size;
    }

    /// A `to=<...>, relay=..., status=...` line.
    fn delivery(
        &mut self,
        cmd: &[u8],
        qid: &[u8],
        log: &[u8],
        d: &rules::Delivery<'_>,
        day: Day,
        hr: usize,
    ) {
        let addr = rules::addr_key(d.to, self.o.ignore_case);
        let dom: Vec<u8> = match addr.iter().position(|&b| b == b'@') {
            Some(p) if p > 0 => addr[p + 1..].to_vec(),
            _ => addr.clone(),
        };
        let delay: f64 = std::str::from_utf8(d.delay)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0.0);
        match d.status {
            b"sent" => {
                if mtalog::format::read::find(d.rest, b"forwarded as ").is_some() {
                    self.forwarded += 1;
                    return;
                }
                let size = self.flights.get(qid).map_or(0, |f| f.size);
                let r = entry(&mut self.recipient_domains, &dom);
                if r.count == 0 {
                    self.recipient_domain_count += 1;
                }
                r.count += 1;
                r.size += size;
                r.delay_sum += delay;
                if r.delay_max == 0.0 || delay > r.delay_max {
                    r.delay_max = delay;
                }
                let u = entry(&mut self.recipients, &addr);
                u.count += 1;
                u.size += size;
                self.count(day, hr, 1);
                self.delivered += 1;
                self.bytes_delivered += size;
                if size == 0 {
                    if !self.o.no_no_msg_size {
                        self.no_size.insert(qid.to_vec(), addr.clone());
                    }
                    if self.o.extended {
                        entry(&mut self.detail, qid).push(b"(sender not in log)".to_vec());
                    }
                }
                if self.o.extended {
                    entry(&mut self.detail, qid).push(addr);
                }
            }
            b"deferred" => {
                if self.o.deferral_detail != 0 {
                    let reason = paren_reason(log, b", status=deferred (", false);
                    let reason = if self.o.verbose {
                        reason.to_vec()
                    } else {
                        let t = rules::said_string_trimmer(reason, 65);
                        let t = rules::drop_reply_code(&t);
                        t.strip_prefix(b"connect to ").unwrap_or(t).to_vec()
                    };
                    bump2(&mut self.deferral_detail, cmd, &reason);
                }
                self.count(day, hr, 2);
                self.deferrals += 1;
                let f = entry(&mut self.flights, qid);
                if !f.deferred {
                    f.deferred = true;
                    self.deferred += 1;
                }
                let r = entry(&mut self.recipient_domains, &dom);
                r.defers += 1;
                if r.delay_max == 0.0 || delay > r.delay_max {
                    r.delay_max = delay;
                }
            }
            b"bounced" => {
                if self.from_events {
                    self.bounce_classes.counted();
                } else {
                    let reason = paren_reason(log, b", status=bounced (", true);
                    let reply = mtalog::format::postfix::read::reply_of(reason).0;
                    self.bounce_classes.add_reply(reply);
                }
                if self.o.bounce_detail != 0 {
                    let reason = paren_reason(log, b", status=bounced (", true);
                    let reason = if self.o.verbose {
                        reason.to_vec()
                    } else {
                        let t = rules::said_string_trimmer(reason, 66);
                        rules::drop_reply_code(&t).to_vec()
                    };
                    let relay = if self.o.ignore_case {
                        d.relay.to_ascii_lowercase()
                    } else {
                        d.relay.to_vec()
                    };
                    bump2(&mut self.bounce_detail, &relay, &reason);
                }
                self.count(day, hr, 3);
                self.bounced += 1;
            }
            _ => {}
        }
    }

    /// Forgets a message that Postfix removed from its queue.
    fn forget(&mut self, qid: &[u8]) {
        self.flights.remove(qid);
    }

    /// Every 64k lines: forgets the receptions that never reached the queue manager
    /// (rejected by cleanup, lost connections) six hours after them, unless held.
    fn sweep(&mut self, now: i64) {
        self.lines += 1;
        if self.lines < self.sweep_at {
            return;
        }
        self.sweep_at = self.lines + 65_536;
        self.flights
            .retain(|_, f| f.size != 0 || f.deferred || f.held || now - f.rcvd_at < 6 * 3600);
        self.conn_start.retain(|_, t| now - *t < 24 * 3600);
    }
}

/// The events of the formats that are not Postfix's, counted as the Postfix lines that
/// postfix_logger writes for them.
pub struct Events {
    fmt: mtalog::format::postfix::Postfix,
    out: mtalog::format::Out,
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

impl Events {
    /// A postfix_logger formatter in the local time zone.
    pub fn new() -> Events {
        let s = mtalog::format::postfix::Settings {
            host: "localhost".into(),
            ..Default::default()
        };
        Events {
            fmt: mtalog::format::postfix::Postfix::new(s, mtalog::format::zone(false)),
            out: mtalog::format::Out::default(),
        }
    }

    /// Counts one record. A bouncelog record counts only in the bounces by class: the
    /// bouncelog repeats the mainlog's bounces and deferrals.
    pub fn add(&mut self, rep: &mut Report, rec: &mtalog::format::read::Rec) {
        use mtalog::format::Formatter;
        if rec.source == mtalog::format::bounce::read::BOUNCELOG {
            // Never a Postfix line, so `-d` is applied here.
            let day = crate::time::ymd(crate::time::local_day(rec.ev.time.sec).0);
            if rep.o.day.is_some_and(|d| d != day) {
                return;
            }
        }
        rep.bounce_classes.hold(rec);
        if rec.ev.kind == mtalog::event::Kind::Attempt
            || rec.source == mtalog::format::bounce::read::BOUNCELOG
        {
            return;
        }
        self.out.clear();
        self.fmt.format(&rec.ev, &mut self.out);
        rep.from_events = true;
        for b in &self.out.bufs {
            for line in b.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                rep.postfix_line(line);
            }
        }
        rep.from_events = false;
    }
}

/// The text after `/cleanup[PID]: `.
fn cleanup_text(log: &[u8]) -> Option<&[u8]> {
    let p = mtalog::format::read::find(log, b"/cleanup[")?;
    let r = &log[p + 9..];
    let n = r.iter().take_while(|b| b.is_ascii_digit()).count();
    r[n..].strip_prefix(b"]: ").filter(|_| n > 0)
}

/// `\[\d+\]: \w+: WORD`: what follows `WORD` after the queue ID.
fn after_qid<'a>(log: &'a [u8], word: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(p) = rules::find_from(log, b"]: ", from) {
        from = p + 1;
        let o = log[..p].iter().rposition(|&b| b == b'[')?;
        if o + 1 == p || !log[o + 1..p].iter().all(u8::is_ascii_digit) {
            continue;
        }
        let r = &log[p + 3..];
        let n = r
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        if n > 0
            && let Some(x) = r[n..].strip_prefix(b": ")
            && let Some(v) = x.strip_prefix(word)
        {
            return Some(v);
        }
    }
    None
}

/// `/: (sender|uid)=/`
fn has_after_colon(log: &[u8], word: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = rules::find_from(log, b": ", from) {
        if log[p + 2..].starts_with(word) {
            return true;
        }
        from = p + 1;
    }
    false
}

/// `/smtpd[PID]: `: the PID.
fn smtpd_pid(log: &[u8]) -> Option<&[u8]> {
    let p = mtalog::format::read::find(log, b"/smtpd[")?;
    let r = &log[p + 7..];
    let n = r.iter().take_while(|b| b.is_ascii_digit()).count();
    (n > 0 && r[n..].starts_with(b"]: ")).then(|| &r[..n])
}

/// The reason in parentheses after `key`: up to the first `)` (deferrals), or the last
/// (`greedy`, bounces).
fn paren_reason<'a>(log: &'a [u8], key: &[u8], greedy: bool) -> &'a [u8] {
    let Some(p) = mtalog::format::read::find(log, key) else {
        return b"";
    };
    let r = &log[p + key.len()..];
    let e = if greedy {
        r.iter().rposition(|&b| b == b')')
    } else {
        r.iter().position(|&b| b == b')')
    };
    match e {
        Some(e) if e > 0 => &r[..e],
        _ => b"",
    }
}

/// `s/: \[ID \d+ [^\]]+\] /: /` (Solaris syslog).
fn strip_solaris_id(line: &[u8]) -> Vec<u8> {
    let mut from = 0;
    while let Some(p) = rules::find_from(line, b": [ID ", from) {
        from = p + 1;
        let r = &line[p + 6..];
        let n = r.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || r.get(n) != Some(&b' ') {
            continue;
        }
        let r2 = &r[n + 1..];
        if let Some(c) = r2.iter().position(|&b| b == b']')
            && c > 0
            && r2.get(c + 1) == Some(&b' ')
        {
            let mut v = line[..p + 2].to_vec();
            v.extend_from_slice(&r2[c + 2..]);
            return v;
        }
    }
    line.to_vec()
}
