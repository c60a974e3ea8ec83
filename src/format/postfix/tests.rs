//! Tests of the postfix_logger formatter.

use super::sanitize::{bracketed_char, for_each_char, text_char};
use super::*;
use crate::config::{ConfigError, Entry};
use crate::event::{Event, Field, Kind, Timestamp, build, flags};
use crate::format::{FixedZone, FormatContext, Formatter, KindSetup, Level, Out, Target};

/// Byte strings of pieces that each sanitizer treats specially (and plain ones), made
/// from a fixed xorshift sequence.
fn tricky_inputs() -> Vec<Vec<u8>> {
    let pieces: [&[u8]; 22] = [
        b"a",
        b"Z9",
        b".-_",
        b"status",
        b"relay",
        b"reject",
        b"forwarded as",
        b"=",
        b":",
        b" ",
        b"<",
        b">",
        b"@",
        b"\n",
        b"\x7f",
        b"\xff",
        b"\xc3\xa9",
        b"\xc3",
        b"\xe2\x80\xa8",
        b"\xf0\x9f\x93\xa7",
        b"\x80\x80",
        b"x=y",
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..5000)
        .map(|_| {
            let n = next() % 12;
            (0..n)
                .flat_map(|_| pieces[(next() % pieces.len() as u64) as usize].to_vec())
                .collect()
        })
        .collect()
}

#[test]
fn sanitizers_copy_plain_runs_with_the_same_output_as_char_by_char() {
    for input in tricky_inputs() {
        for prefix in [&b""[..], b"to=<", b"status"] {
            let mut want = prefix.to_vec();
            for_each_char(&input, |c, raw| {
                bracketed_char(&mut want, prefix.len(), c, raw)
            });
            let mut got = prefix.to_vec();
            push_bracketed(&mut got, &input);
            assert_eq!(got, want, "bracketed {input:?}");

            let mut want = prefix.to_vec();
            for_each_char(&input, |c, raw| text_char(&mut want, prefix.len(), c, raw));
            let mut got = prefix.to_vec();
            push_text(&mut got, &input);
            assert_eq!(got, want, "text {input:?}");
        }
        for user in [false, true] {
            let want: Vec<u8> = input
                .iter()
                .map(|&b| {
                    let ok = b.is_ascii_alphanumeric()
                        || b".-_:".contains(&b)
                        || (user && b"@+%/".contains(&b));
                    if ok { b } else { b'?' }
                })
                .collect();
            let mut got = Vec::new();
            push_token(&mut got, &input, user);
            assert_eq!(got, want, "token {input:?}");
        }
    }
}

fn opts(pairs: &[(&str, &str)]) -> Vec<Entry> {
    pairs
        .iter()
        .enumerate()
        .map(|(i, (k, v))| Entry {
            key: (*k).into(),
            value: (*v).into(),
            line: i + 1,
        })
        .collect()
}

fn ctx() -> FormatContext {
    FormatContext {
        error_default_level: Level::Error,
        pid: 99,
        hostname: "mx.example.test".into(),
    }
}

fn setup_with(pairs: &[(&str, &str)]) -> Result<KindSetup, ConfigError> {
    let entries = opts(pairs);
    let mut o = Options::new(&entries);
    let r = setup(&mut o, &ctx());
    if r.is_ok() {
        o.finish()?;
    }
    r
}

fn fmt(s: Settings, ev: &Event) -> (String, String) {
    let mut f = Postfix::new(s, Box::new(FixedZone(0)));
    let mut out = Out::default();
    f.format(ev, &mut out);
    (
        String::from_utf8(out.bufs[Target::Main as usize].clone()).unwrap(),
        String::from_utf8(out.bufs[Target::Panic as usize].clone()).unwrap(),
    )
}

fn settings() -> Settings {
    Settings {
        host: "mx".into(),
        pid: 7,
        ..Settings::default()
    }
}

#[test]
fn defaults_and_files() {
    let k = setup_with(&[]).unwrap();
    assert!(!k.records && k.heartbeat.is_none());
    assert_eq!(
        k.files,
        vec![
            FileSpec {
                target: Target::Main,
                path: DEFAULT_MAINLOG.into(),
                mode: 0o644,
                key: "mainlog",
            },
            FileSpec {
                target: Target::Panic,
                path: DEFAULT_PANICLOG.into(),
                mode: 0o644,
                key: "paniclog",
            },
        ]
    );
    let k = setup_with(&[
        ("mainlog", "/tmp/m"),
        ("mainlog_mode", "0600"),
        ("paniclog", "/tmp/p"),
        ("paniclog_mode", "0640"),
        ("myhostname", "relay.example.test"),
        ("syslog_name", "postfix"),
        ("timestamp_style", "rfc3339"),
        ("pid", "12"),
        ("error_severity", "error"),
        ("error_service", "qmgr"),
        ("long_queue_ids", "yes"),
        ("log_expired_line", "true"),
        ("utc", "true"),
    ])
    .unwrap();
    assert_eq!(k.files[0].mode, 0o600);
    assert_eq!(k.files[1].path, PathBuf::from("/tmp/p"));
    let mut f = k.formatter;
    let mut ev = build(Kind::Error, vec![(Field::Note, b"oops")]);
    ev.time = Timestamp { sec: 0, usec: 5 };
    let mut out = Out::default();
    f.format(&ev, &mut out);
    assert_eq!(
        out.bufs[Target::Panic as usize],
        b"1970-01-01T00:00:00.000005+00:00 relay postfix/qmgr[12]: error: oops\n"
    );
}

#[test]
fn bad_options_are_refused() {
    for bad in [
        ("myhostname", ""),
        ("myhostname", "a b"),
        ("myhostname", ".x"),
        ("syslog_name", "post fix"),
        ("syslog_name", ""),
        ("error_service", "a/b"),
        ("timestamp_style", "iso"),
        ("error_severity", "fatal"),
        ("pid", "-1"),
    ] {
        let e = setup_with(&[bad])
            .err()
            .unwrap_or_else(|| panic!("{bad:?}"));
        assert_eq!(e.key.as_deref(), Some(bad.0));
    }
    assert_eq!(default_host(""), "localhost");
    assert_eq!(default_host("mx.example.test"), "mx");
    assert_eq!(default_host("a b.c"), "a-b");
}

fn delay(us: u64) -> String {
    let mut v = Vec::new();
    push_delay(&mut v, us);
    String::from_utf8(v).unwrap()
}

#[test]
fn delay_numbers_follow_postfix() {
    for (us, s) in [
        (0, "0"),
        (4_999, "0"),
        (5_000, "0.01"),
        (70_000, "0.07"),
        (600_000, "0.6"),
        (540_000, "0.54"),
        (996_000, "1"),
        (1_200_000, "1.2"),
        (3_000_000, "3"),
        (9_960_000, "10"),
        (10_000_000, "10"),
        (38_400_000, "38"),
        (86_415_000_000, "86415"),
    ] {
        assert_eq!(delay(us), s, "{us}");
    }
}

#[test]
fn delay_of_a_reception_time_far_in_the_past_does_not_overflow() {
    // The host's reception time is any timeval: the delay may be up to u64::MAX µs.
    assert_eq!(delay(u64::MAX), "18446744073709");
    assert_eq!(delay(u64::MAX - 499_999), "18446744073709");
}

#[test]
fn severities() {
    let cases: [(&[u8], &str); 8] = [
        (b"debug: d\n", "postfix/postlog[7]: d\n"),
        (b"info: i", "postfix/postlog[7]: i\n"),
        (b"notice: n", "postfix/postlog[7]: n\n"),
        (b"warning: w", "postfix/master[7]: warning: w\n"),
        (b"plain text", "postfix/master[7]: warning: plain text\n"),
        (b"critical: c", "postfix/master[7]: fatal: c\n"),
        (b"fatal: f", "postfix/master[7]: fatal: f\n"),
        (b"panic: p\r\n", "postfix/master[7]: panic: p\n"),
    ];
    for (text, want) in cases {
        let ev = build(Kind::Error, vec![(Field::Note, text)]);
        let (main, panic) = fmt(settings(), &ev);
        assert!(main.is_empty());
        assert_eq!(&panic["Jan  1 00:00:00 mx ".len()..], want);
    }
    let ev = build(Kind::Error, vec![(Field::Note, b"line1\nline2\n")]);
    assert!(fmt(settings(), &ev).1.ends_with("warning: line1?line2\n"));
}

#[test]
fn attempts_and_records_write_nothing() {
    for kind in [Kind::Attempt, Kind::Acct, Kind::Import] {
        let (m, p) = fmt(settings(), &build(kind, vec![(Field::Note, b"x")]));
        assert!(m.is_empty() && p.is_empty());
    }
}

#[test]
fn pickup_and_sasl_receptions() {
    let mut ev = build(
        Kind::Reception,
        vec![
            (Field::MsgId, b"m"),
            (Field::MailFrom, b"root"),
            (Field::PeerIp, b"2001:db8::1"),
            (Field::Protocol, b"REST"),
            (Field::AcceptAuthUser, b"bob@x, y"),
        ],
    );
    ev.flags |= flags::HAS_ACCEPT;
    let (m, _) = fmt(settings(), &ev);
    let q = QueueId::short(b"m");
    let q = q.as_str();
    assert_eq!(
        m,
        format!(
            "Jan  1 00:00:00 mx postfix/pickup[7]: {q}: uid=0 from=<root>\n\
             Jan  1 00:00:00 mx postfix/cleanup[7]: {q}: message-id=<>\n\
             Jan  1 00:00:00 mx postfix/qmgr[7]: {q}: from=<root>, size=0, nrcpt=1 (queue active)\n"
        )
    );
    let mut ev = build(
        Kind::Reception,
        vec![
            (Field::MsgId, b"m"),
            (Field::PeerIp, b"2001:db8::1"),
            (Field::AcceptAuthUser, b"bob@x, y"),
        ],
    );
    ev.flags |= flags::HAS_ACCEPT;
    ev.nrcpt = 3;
    let (m, _) = fmt(settings(), &ev);
    assert!(m.contains(": client=unknown[2001:db8::1], sasl_username=bob@x??y\n"));
    assert!(m.contains("from=<>, size=0, nrcpt=3 (queue active)\n"));
}

#[test]
fn expiry_line_and_orig_to() {
    let mut ev = build(
        Kind::PermanentFailure,
        vec![
            (Field::MsgId, b"m"),
            (Field::MailFrom, b"s@x"),
            (Field::RcptTo, b"r@y"),
            (Field::Orcpt, b"<o@y>"),
            (Field::MxHost, b"mx.y"),
            (Field::MxIp, b"192.0.2.1"),
            (Field::Note, b"Message too old"),
        ],
    );
    ev.time = Timestamp { sec: 100, usec: 0 };
    let s = Settings {
        log_expired_line: true,
        ..settings()
    };
    let (m, _) = fmt(s, &ev);
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].ends_with(
        ": to=<r@y>, orig_to=<o@y>, relay=none, delay=0, delays=0/0/0/0, dsn=5.4.7, status=bounced (Message too old)"
    ));
    assert!(lines[1].ends_with(": from=<s@x>, status=expired, returned to sender"));
    assert!(lines[2].ends_with(": removed"));
    // Same original recipient: no orig_to; default is no expired line.
    let mut ev = build(
        Kind::PermanentFailure,
        vec![
            (Field::RcptTo, b"r@y"),
            (Field::Orcpt, b"r@y"),
            (Field::Note, b"expired"),
        ],
    );
    ev.time = Timestamp { sec: 100, usec: 0 };
    let (m, _) = fmt(settings(), &ev);
    assert_eq!(m.lines().count(), 2);
    assert!(!m.contains("orig_to"));
}

#[test]
fn rejection_stages() {
    type Case = (
        i32,
        &'static [u8],
        &'static [u8],
        &'static [u8],
        u8,
        &'static str,
    );
    let cases: [Case; 9] = [
        (3, b"", b"", b"pc", 0, "HELO"),
        (2, b"", b"", b"pc", flags::ESMTP, "EHLO"),
        (18, b"", b"", b"", 0, "CONNECT"),
        (13, b"s@x", b"r@y", b"h", 0, "RCPT"),
        (8, b"s@x", b"r@y", b"h", 0, "DATA"),
        (9, b"s@x", b"r@y", b"h", 0, "END-OF-MESSAGE"),
        (11, b"s@x", b"r@y", b"h", 0, "END-OF-MESSAGE"),
        (12, b"s@x", b"r@y", b"h", 0, "END-OF-MESSAGE"),
        (14, b"s@x", b"", b"h", 0, "MAIL"),
    ];
    for (phase, from, to, helo, fl, stage) in cases {
        let mut ev = build(
            Kind::Rejection,
            vec![
                (Field::PeerIp, b"192.0.2.1"),
                (Field::Helo, helo),
                (Field::VMailFrom, from),
                (Field::VRcptTo, to),
                (Field::Note, b"550 no"),
            ],
        );
        ev.phase = phase;
        ev.flags = fl;
        let (m, _) = fmt(settings(), &ev);
        assert!(
            m.contains(&format!(
                ": NOQUEUE: reject: {stage} from unknown[192.0.2.1]: 550 5.7.1 "
            )),
            "{phase}: {m}"
        );
    }
    // Before its greeting the client has said neither HELO nor EHLO: proto=SMTP, even on
    // a listener whose sessions are ESMTP.
    let mut ev = build(
        Kind::Rejection,
        vec![(Field::PeerIp, b"192.0.2.1"), (Field::Note, b"554 go away")],
    );
    ev.phase = 0;
    ev.flags = flags::ESMTP;
    let (m, _) = fmt(settings(), &ev);
    assert!(
        m.ends_with(
            ": NOQUEUE: reject: CONNECT from unknown[192.0.2.1]: 554 5.7.1 <unknown[192.0.2.1]>: go away; proto=SMTP\n"
        ),
        "{m}"
    );
    ev.phase = 6;
    let (m, _) = fmt(settings(), &ev);
    assert!(m.contains(" proto=ESMTP"), "{m}");
    // A queued message: its queue ID and END-OF-MESSAGE; 4xx without enhanced code;
    // sender rejections name the sender.
    let mut ev = build(
        Kind::Rejection,
        vec![
            (Field::MsgId, b"m"),
            (Field::PeerIp, b"192.0.2.1"),
            (Field::PeerName, b"c.example"),
            (Field::Helo, b"c.example"),
            (Field::VMailFrom, b"s@x"),
            (Field::VRcptTo, b"r@y"),
            (Field::Note, b"450 Sender address rejected: later\n"),
        ],
    );
    ev.phase = 6;
    ev.flags = flags::ESMTP;
    let (m, _) = fmt(settings(), &ev);
    let q = QueueId::short(b"m");
    assert_eq!(
        m,
        format!(
            "Jan  1 00:00:00 mx postfix/smtpd[7]: {}: reject: END-OF-MESSAGE from c.example[192.0.2.1]: 450 4.7.1 <s@x>: Sender address rejected: later; from=<s@x> to=<r@y> proto=ESMTP helo=<c.example>\n",
            q.as_str()
        )
    );
}

#[test]
fn free_text_rule() {
    let mut v = Vec::new();
    push_text(
        &mut v,
        "a=b x = y from=<z> reject: hold:x forwarded as Q é\u{85}\x01\x7f".as_bytes(),
    );
    assert_eq!(
        String::from_utf8(v).unwrap(),
        "a?b x = y from?<z> reject? hold?x forwarded as?Q é???"
    );
    let mut v = Vec::new();
    push_text(&mut v, b"\xff=");
    assert_eq!(v, b"?=");
    let mut v = Vec::new();
    push_bracketed(&mut v, b"a <b> c\n");
    assert_eq!(v, b"a??b??c?");
    // A field name that starts a word loses its `=`; other `=` stay.
    for (value, written) in [
        ("x status=sent", "x?status?sent"),
        ("status=bounced@evil.example", "status?bounced@evil.example"),
        ("a;Relay=mx;DSN=2.0.0", "a;Relay?mx;DSN?2.0.0"),
        (
            "SRS0=HHH=TT=example.com=user@fwd.example",
            "SRS0=HHH=TT=example.com=user@fwd.example",
        ),
        (
            "prvs=1234567890=user@example.com",
            "prvs=1234567890=user@example.com",
        ),
        ("bounce-to=x@example.com", "bounce-to=x@example.com"),
        ("mystatus=1", "mystatus?1"),
        ("myrelay=1", "myrelay=1"),
    ] {
        let mut v = Vec::new();
        push_bracketed(&mut v, value.as_bytes());
        assert_eq!(String::from_utf8(v).unwrap(), written, "{value}");
    }
}

#[test]
fn stamps_are_cached_per_second_and_space_padded() {
    let mut f = Postfix::new(settings(), Box::new(FixedZone(-3600)));
    let mut buf = Vec::new();
    f.push_stamp(&mut buf, Timestamp::new(1_793_700_000, 0)); // 2026-11-03 10:00 UTC
    buf.push(b'|');
    f.push_stamp(&mut buf, Timestamp::new(1_793_700_000, 999_999));
    buf.push(b'|');
    f.push_stamp(&mut buf, Timestamp::new(1_793_700_001, 0));
    assert_eq!(buf, b"Nov  3 09:00:00|Nov  3 09:00:00|Nov  3 09:00:01");
}

#[test]
fn reject_stage_names_and_phases_read_back() {
    for s in Stage::ALL {
        assert_eq!(Stage::parse(s.name(false)), Some(s));
        assert_eq!(Stage::parse(s.name(true)), Some(s));
        assert_eq!(Stage::of_phase(s.phase(), b"", b"", b""), s);
    }
    assert_eq!(Stage::parse(b"QUIT"), None);
}

#[test]
fn the_reply_of_a_reason_names_its_command_when_there_is_one() {
    use super::read::reply_of;
    let (note, cmd) = reply_of(
        b"host mx[192.0.2.1] said: 550 5.1.1 <a@b>: User unknown (in reply to RCPT TO command)",
    );
    assert_eq!(
        (note, cmd),
        (&b"550 5.1.1 <a@b>: User unknown"[..], &b"RCPT TO"[..])
    );
    // No command between the markers (they share a space): the whole text, no panic.
    let (note, cmd) = reply_of(b"host h[192.0.2.1] said: 550 x (in reply to command)");
    assert_eq!((note, cmd), (&b"550 x (in reply to command)"[..], &b""[..]));
    let (note, cmd) = reply_of(b"connect to h[192.0.2.1]:25: Connection refused");
    assert_eq!((note, cmd), (&b"Connection refused"[..], &b""[..]));
    assert_eq!(
        reply_of(b"unknown user: \"x\""),
        (&b"unknown user: \"x\""[..], &b""[..])
    );
}
