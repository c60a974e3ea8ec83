//! postfix_logger output against the spec's golden example (spec/postfix.md §6), the
//! pitfalls of §7, and the real pflogsumm when it is installed.

use std::path::PathBuf;

use mtalog::event::{Event, Field, Kind, Timestamp, build, flags};
use mtalog::format::postfix::{Postfix, Settings, long_queue_id, queue_id};
use mtalog::format::{FixedZone, Formatter, Out, Target};

mod support;

use support::{pfl_total, pflogsumm, run_pflogsumm};

const GOLDEN_MAINLOG: &str = "\
Nov  3 09:15:02 mta1 postfix/smtpd[4242]: 3F2A91C0B7: client=mail.sender.example[192.0.2.10]
Nov  3 09:15:02 mta1 postfix/cleanup[4242]: 3F2A91C0B7: message-id=<a1@sender.example>
Nov  3 09:15:02 mta1 postfix/qmgr[4242]: 3F2A91C0B7: from=<alice@sender.example>, size=1234, nrcpt=1 (queue active)
Nov  3 09:15:03 mta1 postfix/smtp[4242]: 3F2A91C0B7: to=<bob@dest.example>, relay=mx.dest.example[198.51.100.5]:25, delay=1.2, delays=0.05/0.01/0.6/0.54, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4711)
Nov  3 09:15:03 mta1 postfix/qmgr[4242]: 3F2A91C0B7: removed
Nov  3 09:16:10 mta1 postfix/smtpd[4242]: 40B7720D11: client=unknown[192.0.2.77]
Nov  3 09:16:10 mta1 postfix/cleanup[4242]: 40B7720D11: message-id=<b2@other.example>
Nov  3 09:16:10 mta1 postfix/qmgr[4242]: 40B7720D11: from=<carol@other.example>, size=20480, nrcpt=1 (queue active)
Nov  3 09:16:11 mta1 postfix/smtp[4242]: 40B7720D11: to=<dave@grey.example>, relay=mx.grey.example[198.51.100.9]:25, delay=0.84, delays=0.02/0/0.4/0.42, dsn=4.7.1, status=deferred (host mx.grey.example[198.51.100.9] said: 451 4.7.1 Try again later (in reply to RCPT TO command))
Nov  3 09:17:00 mta1 postfix/smtpd[4242]: 41C0A3E5F2: client=mail.sender.example[192.0.2.10]
Nov  3 09:17:00 mta1 postfix/cleanup[4242]: 41C0A3E5F2: message-id=<c3@sender.example>
Nov  3 09:17:00 mta1 postfix/qmgr[4242]: 41C0A3E5F2: from=<alice@sender.example>, size=900, nrcpt=1 (queue active)
Nov  3 09:17:01 mta1 postfix/smtp[4242]: 41C0A3E5F2: to=<nobody@dest.example>, relay=mx.dest.example[198.51.100.5]:25, delay=0.31, delays=0.01/0/0.2/0.1, dsn=5.1.1, status=bounced (host mx.dest.example[198.51.100.5] said: 550 5.1.1 No such user (in reply to RCPT TO command))
Nov  3 09:17:01 mta1 postfix/qmgr[4242]: 41C0A3E5F2: removed
Nov  3 09:18:30 mta1 postfix/smtpd[4242]: 42D19F0A03: client=mail.sender.example[192.0.2.10]
Nov  3 09:18:30 mta1 postfix/cleanup[4242]: 42D19F0A03: message-id=<d4@sender.example>
Nov  3 09:18:30 mta1 postfix/qmgr[4242]: 42D19F0A03: from=<alice@sender.example>, size=700, nrcpt=1 (queue active)
Nov  3 09:18:40 mta1 postfix/smtp[4242]: 42D19F0A03: to=<eve@down.example>, relay=none, delay=10, delays=0.01/0/10/0, dsn=4.4.1, status=deferred (connect to mx.down.example[198.51.100.20]:25: Connection timed out)
Nov  3 09:19:00 mta1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from unknown[203.0.113.7]: 554 5.7.1 <x@dest.example>: Relay access denied; from=<spam@bad.example> to=<x@dest.example> proto=ESMTP helo=<bad.example>
Nov  3 09:19:05 mta1 postfix/smtpd[4242]: NOQUEUE: reject: MAIL from unknown[203.0.113.8]: 552 5.3.4 Message size exceeds fixed limit; from=<big@bad.example> proto=ESMTP helo=<bad2.example>
Nov  3 09:19:09 mta1 postfix/smtpd[4242]: NOQUEUE: reject: CONNECT from unknown[203.0.113.9]: 554 5.7.1 <unknown[203.0.113.9]>: Client host rejected: Access denied; proto=SMTP
Nov  3 09:21:11 mta1 postfix/smtp[4242]: 40B7720D11: to=<dave@grey.example>, relay=mx.grey.example[198.51.100.9]:25, delay=301, delays=300/0/0.5/0.4, dsn=4.7.1, status=deferred (host mx.grey.example[198.51.100.9] said: 451 4.7.1 Try again later (in reply to RCPT TO command))
Nov  3 09:31:12 mta1 postfix/smtp[4242]: 40B7720D11: to=<dave@grey.example>, relay=mx.grey.example[198.51.100.9]:25, delay=902, delays=901/0/0.5/0.3, dsn=2.0.0, status=sent (250 2.0.0 Message accepted)
Nov  3 09:31:12 mta1 postfix/qmgr[4242]: 40B7720D11: removed
Nov  4 09:18:45 mta1 postfix/smtp[4242]: 42D19F0A03: to=<eve@down.example>, relay=none, delay=86415, delays=86405/0/10/0, dsn=5.4.7, status=bounced (554 5.4.7 message expired after 1 day: connect to mx.down.example[198.51.100.20]:25: Connection timed out)
Nov  4 09:18:45 mta1 postfix/qmgr[4242]: 42D19F0A03: removed
";

const GOLDEN_PANICLOG: &str = "\
Nov  3 09:20:00 mta1 postfix/qmgr[4242]: warning: spool partition is 91% full
Nov  3 09:20:01 mta1 postfix/master[4242]: panic: cannot allocate memory for message 42D19F0A03
";

/// Message ids of the golden messages, in the order of their golden queue IDs.
const IDS: [(&str, &str); 4] = [
    ("3F2A91C0B7", "10/00-04242-0A1B2C3D"),
    ("40B7720D11", "11/00-04242-0A1B2C3E"),
    ("41C0A3E5F2", "12/00-04242-0A1B2C3F"),
    ("42D19F0A03", "13/00-04242-0A1B2C40"),
];

fn qid(msg_id: &str) -> String {
    String::from_utf8(queue_id(msg_id.as_bytes()).to_vec()).unwrap()
}

/// Days since the epoch of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn current_year() -> i64 {
    let days = Timestamp::now().sec.div_euclid(86_400);
    // Walk from an estimate; exact enough for a year number.
    let mut y = 1970 + days / 365;
    while days_from_civil(y, 1, 1) > days {
        y -= 1;
    }
    while days_from_civil(y + 1, 1, 1) <= days {
        y += 1;
    }
    y
}

/// A time on November `day` of the current year, UTC.
fn at(day: i64, h: i64, m: i64, s: i64, usec: i64) -> Timestamp {
    let sec = days_from_civil(current_year(), 11, day) * 86_400 + h * 3600 + m * 60 + s;
    Timestamp::new(sec, usec)
}

fn formatter() -> Postfix {
    Postfix::new(
        Settings {
            host: "mta1".into(),
            pid: 4242,
            ..Settings::default()
        },
        Box::new(FixedZone(0)),
    )
}

fn with_times(mut ev: Event, time: Timestamp, received: Timestamp) -> Event {
    ev.time = time;
    ev.received = received;
    ev.flags |= flags::HAS_RECEIVED;
    ev
}

#[allow(clippy::too_many_arguments)]
fn reception(
    id: &str,
    name: &'static str,
    ip: &'static str,
    mid: &'static str,
    from: &'static str,
    rcpt: &'static str,
    size: u64,
    t: Timestamp,
) -> Event {
    let mut ev = build(
        Kind::Reception,
        vec![
            (Field::MsgId, id.as_bytes()),
            (Field::MailFrom, from.as_bytes()),
            (Field::RcptTo, rcpt.as_bytes()),
            (Field::MessageIdHeader, mid.as_bytes()),
            (Field::PeerIp, ip.as_bytes()),
            (Field::PeerName, name.as_bytes()),
            (Field::Protocol, b"esmtp"),
        ],
    );
    ev.flags |= flags::HAS_ACCEPT | flags::ESMTP;
    ev.size = size;
    ev.nrcpt = 1;
    with_times(ev, t, t)
}

#[allow(clippy::too_many_arguments)]
fn outcome(
    kind: Kind,
    id: &str,
    from: &'static str,
    rcpt: &'static str,
    mx: (&'static str, &'static str),
    cmd: &'static str,
    note: &str,
    t: Timestamp,
    received: Timestamp,
) -> Event {
    let ev = build(
        kind,
        vec![
            (Field::MsgId, id.as_bytes()),
            (Field::MailFrom, from.as_bytes()),
            (Field::RcptTo, rcpt.as_bytes()),
            (Field::MxHost, mx.0.as_bytes()),
            (Field::MxIp, mx.1.as_bytes()),
            (Field::SmtpCommand, cmd.as_bytes()),
            (Field::Note, note.as_bytes()),
        ],
    );
    with_times(ev, t, received)
}

#[allow(clippy::too_many_arguments)]
fn rejection(
    phase: i32,
    ip: &'static str,
    from: &'static str,
    rcpt: &'static str,
    helo: &'static str,
    esmtp: bool,
    note: &'static str,
    t: Timestamp,
) -> Event {
    let mut ev = build(
        Kind::Rejection,
        vec![
            (Field::PeerIp, ip.as_bytes()),
            (Field::Helo, helo.as_bytes()),
            (Field::VMailFrom, from.as_bytes()),
            (Field::VRcptTo, rcpt.as_bytes()),
            (Field::Note, note.as_bytes()),
        ],
    );
    ev.flags |= flags::HAS_ACCEPT;
    if esmtp {
        ev.flags |= flags::ESMTP;
    }
    ev.phase = phase;
    ev.time = t;
    ev
}

fn error(text: &str, t: Timestamp) -> Event {
    let mut ev = build(Kind::Error, vec![(Field::Note, text.as_bytes())]);
    ev.time = t;
    ev
}

/// The hook calls of the golden traffic, in time order.
fn golden_events() -> Vec<Event> {
    let [m1, m2, m3, m4] = IDS.map(|(_, id)| id);
    let r1 = at(3, 9, 15, 2, 100_000);
    let r2 = at(3, 9, 16, 10, 160_000);
    let r3 = at(3, 9, 17, 0, 690_000);
    let r4 = at(3, 9, 18, 30, 0);
    let grey = ("mx.grey.example", "198.51.100.9");
    let dest = ("mx.dest.example", "198.51.100.5");
    let down = ("mx.down.example", "198.51.100.20");
    let alice = "alice@sender.example";
    let sender = "mail.sender.example";
    vec![
        reception(
            m1,
            sender,
            "192.0.2.10",
            "<a1@sender.example>",
            alice,
            "bob@dest.example",
            1234,
            r1,
        ),
        outcome(
            Kind::Delivery,
            m1,
            alice,
            "bob@dest.example",
            dest,
            "",
            "250 2.0.0 Ok: queued as 4711",
            at(3, 9, 15, 3, 300_000),
            r1,
        ),
        reception(
            m2,
            "",
            "192.0.2.77",
            "<b2@other.example>",
            "carol@other.example",
            "dave@grey.example",
            20480,
            r2,
        ),
        outcome(
            Kind::TransientFailure,
            m2,
            "carol@other.example",
            "dave@grey.example",
            grey,
            "RCPT TO",
            "451 4.7.1 Try again later",
            at(3, 9, 16, 11, 0),
            r2,
        ),
        reception(
            m3,
            sender,
            "192.0.2.10",
            "c3@sender.example",
            alice,
            "nobody@dest.example",
            900,
            r3,
        ),
        outcome(
            Kind::PermanentFailure,
            m3,
            alice,
            "nobody@dest.example",
            dest,
            "RCPT TO",
            "550 5.1.1 No such user\r\n",
            at(3, 9, 17, 1, 0),
            r3,
        ),
        reception(
            m4,
            sender,
            "192.0.2.10",
            "<d4@sender.example>",
            alice,
            "eve@down.example",
            700,
            r4,
        ),
        outcome(
            Kind::TransientFailure,
            m4,
            alice,
            "eve@down.example",
            down,
            "",
            "Connection timed out",
            at(3, 9, 18, 40, 0),
            r4,
        ),
        rejection(
            6,
            "203.0.113.7",
            "spam@bad.example",
            "x@dest.example",
            "bad.example",
            true,
            "554 5.7.1 Relay access denied\r\n",
            at(3, 9, 19, 0, 0),
        ),
        rejection(
            4,
            "203.0.113.8",
            "big@bad.example",
            "",
            "bad2.example",
            true,
            "552 5.3.4 Message size exceeds fixed limit",
            at(3, 9, 19, 5, 0),
        ),
        rejection(
            0,
            "203.0.113.9",
            "",
            "",
            "",
            false,
            "554 Client host rejected: Access denied",
            at(3, 9, 19, 9, 0),
        ),
        error("warning: spool partition is 91% full\n", at(3, 9, 20, 0, 0)),
        error(
            &format!("panic: cannot allocate memory for message {}", qid(m4)),
            at(3, 9, 20, 1, 0),
        ),
        outcome(
            Kind::TransientFailure,
            m2,
            "carol@other.example",
            "dave@grey.example",
            grey,
            "RCPT TO",
            "451 4.7.1 Try again later",
            at(3, 9, 21, 11, 160_000),
            r2,
        ),
        outcome(
            Kind::Delivery,
            m2,
            "carol@other.example",
            "dave@grey.example",
            grey,
            "",
            "250 2.0.0 Message accepted",
            at(3, 9, 31, 12, 160_000),
            r2,
        ),
        outcome(
            Kind::PermanentFailure,
            m4,
            alice,
            "eve@down.example",
            ("", ""),
            "",
            "554 5.4.7 message expired after 1 day: connect to mx.down.example[198.51.100.20]:25: Connection timed out",
            at(4, 9, 18, 45, 0),
            r4,
        ),
    ]
}

fn run(f: &mut Postfix, events: &[Event]) -> (String, String) {
    let mut out = Out::default();
    for ev in events {
        f.format(ev, &mut out);
    }
    let main = String::from_utf8(out.buf(Target::Main).clone()).unwrap();
    let panic = String::from_utf8(out.buf(Target::Panic).clone()).unwrap();
    (main, panic)
}

/// The golden text with our queue IDs, `delays=D/0/0/0` (the hooks carry no finer
/// timing) and the diagnostic service `master` (the MTA is one process).
fn expected(golden: &str) -> String {
    let mut text = golden.replace(
        "postfix/qmgr[4242]: warning:",
        "postfix/master[4242]: warning:",
    );
    for (golden_id, id) in IDS {
        text = text.replace(golden_id, &qid(id));
    }
    text.lines()
        .map(|l| match (l.find(", delay="), l.find(", delays=")) {
            (Some(d), Some(ds)) => {
                let d_val = &l[d + 8..ds];
                let end = ds + l[ds..].find(", dsn=").unwrap();
                format!("{}, delays={}/0/0/0{}\n", &l[..ds], d_val, &l[end..])
            }
            _ => format!("{l}\n"),
        })
        .collect()
}

#[test]
fn golden_example_line_by_line() {
    let (main, panic) = run(&mut formatter(), &golden_events());
    let want = expected(GOLDEN_MAINLOG);
    for (got, want) in main.lines().zip(want.lines()) {
        assert_eq!(got, want);
    }
    assert_eq!(main, want);
    assert_eq!(panic, expected(GOLDEN_PANICLOG));
}

#[test]
fn queue_ids_are_stable_and_well_formed() {
    let a = qid("60/00-31337-EF0F3556");
    assert_eq!(a, qid("60/00-31337-EF0F3556"));
    assert_ne!(a, qid("70/00-31337-EF0F3556"));
    assert_eq!(a.len(), 10);
    assert!(
        a.bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    );
    // FNV-1a 64 of "" is 0xcbf29ce484222325: top 40 bits.
    assert_eq!(qid(""), "CBF29CE484");
    // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
    assert_eq!(qid("a"), "AF63DC4C86");

    let t = Timestamp {
        sec: 1_795_432_137,
        usec: 602_652,
    };
    let long = long_queue_id(b"a", t);
    // Seconds and microseconds as in the spec's real example `4jY3954GsSz5brs`.
    assert!(long.as_str().starts_with("4jY3954GsSz"), "{long:?}");
    let (head, tail) = long.as_str().split_at(11);
    assert!(head.ends_with('z'));
    let alphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy";
    assert!(!tail.is_empty() && tail.chars().all(|c| alphabet.contains(c)));
}

#[test]
fn long_ids_follow_the_reception_time_on_every_line() {
    let mut f = Postfix::new(
        Settings {
            host: "mta1".into(),
            pid: 1,
            long_queue_ids: true,
            ..Settings::default()
        },
        Box::new(FixedZone(0)),
    );
    let (main, _) = run(&mut f, &golden_events()[..4]);
    let ids: Vec<&str> = main
        .lines()
        .map(|l| l.split(": ").nth(1).unwrap())
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[1], ids[2]);
    assert_eq!(ids[2], ids[3]);
    assert_ne!(ids[0], ids[5]);
    assert!(
        ids[0].len() >= 12 && ids[0][10..].starts_with('z'),
        "{ids:?}"
    );
}

#[test]
fn pitfalls() {
    let (main, panic) = run(&mut formatter(), &golden_events());
    for l in main.lines().chain(panic.lines()) {
        // Stamp: `Mmm dd hh:mm:ss` with a space-padded day, no fraction.
        let (stamp, rest) = l.split_at(15);
        assert!(stamp.starts_with("Nov "), "{l}");
        assert!(stamp[4..6] == *" 3" || stamp[4..6] == *" 4", "{l}");
        assert!(!stamp.contains('.'));
        // Host, then `postfix/SERVICE[PID]: `.
        let rest = rest.strip_prefix(" mta1 postfix/").unwrap();
        let service_end = rest.find('[').unwrap();
        assert!(rest[..service_end].bytes().all(|b| b.is_ascii_lowercase()));
        assert!(rest[service_end..].starts_with("[4242]: "), "{l}");
    }
    // Field order of the delivery line.
    for l in main.lines().filter(|l| l.contains("postfix/smtp[")) {
        let pos: Vec<usize> = [
            "to=<",
            ", relay=",
            ", delay=",
            ", delays=",
            ", dsn=",
            ", status=",
        ]
        .iter()
        .map(|k| l.find(k).unwrap())
        .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{l}");
    }

    // RFC 3339 stamps: `YYYY-MM-DDThh:mm:ss.ffffff+hh:mm`.
    let mut f = Postfix::new(
        Settings {
            host: "mta1".into(),
            pid: 7,
            rfc3339: true,
            ..Settings::default()
        },
        Box::new(FixedZone(3600)),
    );
    let ev = error("warning: x", Timestamp::new(1_795_432_137, 602_848));
    let (_, panic) = run(&mut f, &[ev]);
    assert_eq!(
        panic,
        "2026-11-23T12:08:57.602848+01:00 mta1 postfix/master[7]: warning: x\n"
    );
}

#[test]
fn unusual_addresses_and_multi_line_notes_stay_one_line_per_field() {
    let ev = outcome(
        Kind::TransientFailure,
        "id",
        "a@b",
        "\"odd user\"<x>@dest.example",
        ("mx.dest.example", "198.51.100.5"),
        "DATA",
        "451-4.3.0 first\r\n451 4.3.0 second\r\n",
        Timestamp::new(1_795_432_137, 0),
        Timestamp::new(1_795_432_100, 0),
    );
    let (main, _) = run(&mut formatter(), &[ev]);
    assert_eq!(main.matches('\n').count(), 1);
    assert!(main.ends_with('\n'));
    assert!(
        main.contains(" to=<\"odd?user\"?x?@dest.example>, relay=mx.dest.example[198.51.100.5]:25, delay=37, delays=37/0/0/0, dsn=4.3.0, status=deferred (host mx.dest.example[198.51.100.5] said: 451-4.3.0 first??451 4.3.0 second (in reply to DATA command))\n"),
        "{main}"
    );
}

// ---------------------------------------------------------------------------------------
// pflogsumm

/// Runs pflogsumm on the two logs; `None` (after a note) when it is not installed.
fn summarize(name: &str, main: &str, panic: &str) -> Option<String> {
    let bin = pflogsumm()?;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let m = dir.join("mainlog");
    let p = dir.join("paniclog");
    std::fs::write(&m, main).unwrap();
    std::fs::write(&p, panic).unwrap();
    Some(run_pflogsumm(&bin, &[m, p]))
}

fn deferrals(report: &str) -> u64 {
    let l = report.lines().find(|l| l.contains(" deferrals)")).unwrap();
    let inner = l.split('(').nth(1).unwrap();
    inner.split_whitespace().next().unwrap().parse().unwrap()
}

fn assert_golden_totals(
    report: &str,
    extra_rcvd: u64,
    extra_dlv: u64,
    extra_rej: u64,
    extra_bytes: u64,
) {
    assert_eq!(pfl_total(report, "received"), 4 + extra_rcvd, "{report}");
    assert_eq!(pfl_total(report, "delivered"), 2 + extra_dlv, "{report}");
    assert_eq!(pfl_total(report, "forwarded"), 0, "{report}");
    assert_eq!(pfl_total(report, "deferred"), 2, "{report}");
    assert_eq!(deferrals(report), 3, "{report}");
    assert_eq!(pfl_total(report, "bounced"), 2, "{report}");
    assert_eq!(pfl_total(report, "rejected"), 3 + extra_rej, "{report}");
    assert_eq!(
        pfl_total(report, "bytes received"),
        23314 + extra_bytes,
        "{report}"
    );
    assert_eq!(
        pfl_total(report, "bytes delivered"),
        21714 + extra_bytes,
        "{report}"
    );
}

#[test]
fn pflogsumm_counts_the_golden_traffic() {
    let (main, panic) = run(&mut formatter(), &golden_events());
    let Some(report) = summarize("golden", &main, &panic) else {
        return;
    };
    assert_golden_totals(&report, 0, 0, 0, 0);
    assert_eq!(pfl_total(&report, "senders"), 2, "{report}");
    assert_eq!(pfl_total(&report, "recipient hosts/domains"), 2, "{report}");
    assert!(report.contains("spool partition is 91% full"), "{report}");
    assert!(report.contains("cannot allocate memory"), "{report}");
    assert!(report.contains("Relay access denied"), "{report}");
    assert!(
        report.contains("Client host rejected: Access denied"),
        "{report}"
    );
    assert!(
        report.contains("Message size exceeds fixed limit"),
        "{report}"
    );
}

#[test]
fn hostile_text_does_not_change_what_pflogsumm_counts() {
    let mut events = golden_events();
    let t = at(3, 9, 40, 0, 0);
    // A rejection whose HELO and reply try to add fields or a reception.
    let mut rej = rejection(
        6,
        "203.0.113.66",
        "spam@bad.example",
        "x@dest.example",
        "x; from=<a@b> to=<c@d> [1]: ABC: client=evil",
        true,
        "550 5.7.1 no [4242]: ABCDEF: client=evil, reject: RCPT from evil[1.1.1.1]: 250 ok; from=<inj@evil.example> to=<inj@evil.example> , status=sent",
        t,
    );
    rej.flags |= flags::HAS_ACCEPT;
    // A message whose sender, Message-ID and reply texts carry field-looking text.
    let hostile_id = "99/00-04242-FFFFFFFF";
    let mut rec = reception(
        hostile_id,
        "evil.example[1.2.3.4], x",
        "192.0.2.99",
        "<x reject: header Subject: x>",
        "a>, size=99999 <b@sender.example",
        "r@ok.example",
        100,
        t,
    );
    rec.time = Timestamp::new(t.sec + 1, 0);
    rec.received = rec.time;
    let del = outcome(
        Kind::Delivery,
        hostile_id,
        "a@b",
        "r@ok.example>, relay=x, delay=1, status=bounced (x",
        ("mx.ok.example, status=bounced", "198.51.100.1"),
        "",
        "250 ok from=<z@z.example>, size=5 forwarded as ABC; to=<q@q.example>, relay=x, delay=1, status=bounced (y)",
        Timestamp::new(t.sec + 2, 0),
        rec.received,
    );
    let info = error(
        "info: ABCDEF: to=<a@evil.example>, relay=x, delay=1, status=sent (ok) from=<b@evil.example>, size=77",
        Timestamp::new(t.sec + 3, 0),
    );
    events.extend([rej, rec, del]);
    let (main, mut panic) = run(&mut formatter(), &events);
    let (_, info_line) = run(&mut formatter(), &[info]);
    panic.push_str(&info_line);
    assert!(
        main.contains("helo=<x;?from??a@b??to??c@d??[1]:?ABC:?client?evil>"),
        "{main}"
    );
    // Inside brackets a field name loses its `=`: each line has one status=, the real one
    // (mailgraph counts any `\bstatus=sent\b`).
    for line in main.lines() {
        assert!(line.matches("status=").count() <= 1, "{line}");
    }
    let Some(report) = summarize("hostile", &main, &panic) else {
        return;
    };
    assert_golden_totals(&report, 1, 1, 1, 100);
    for injected in [
        "inj@evil",
        "z@z.example",
        "q@q.example",
        "a@evil",
        "b@evil",
        "c@d",
    ] {
        assert!(
            !report.contains(injected),
            "{injected} leaked into:\n{report}"
        );
    }
    // Recipient domains: the golden two plus ok.example.
    assert_eq!(pfl_total(&report, "recipient hosts/domains"), 3, "{report}");
}
