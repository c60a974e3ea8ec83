//! imta_logger through the public API: option parsing, file layout and round trips of
//! every entry code under every combination of the optional fields.

use std::path::PathBuf;

use mtalog::config::{Entry, Options};
use mtalog::event::{Event, Field, Kind, Timestamp, build, flags};
use mtalog::format::imta::{self, ImtaOptions, parse_line, parse_service_line};
use mtalog::format::{FormatContext, Level, Out, Target};

fn ctx() -> FormatContext {
    FormatContext {
        error_default_level: Level::Error,
        pid: 4242,
        hostname: "mx1.example.org".into(),
    }
}

fn entries(kv: &[(&str, &str)]) -> Vec<Entry> {
    kv.iter()
        .enumerate()
        .map(|(i, (k, v))| Entry {
            key: (*k).into(),
            value: (*v).into(),
            line: i + 1,
        })
        .collect()
}

fn opts(kv: &[(&str, &str)]) -> ImtaOptions {
    let e = entries(kv);
    let mut o = Options::new(&e);
    let x = imta::options(&mut o, &ctx()).unwrap();
    o.finish().unwrap();
    x
}

#[test]
fn defaults_and_files() {
    let e = entries(&[]);
    let mut o = Options::new(&e);
    let k = imta::setup(&mut o, &ctx()).unwrap();
    o.finish().unwrap();
    let files: Vec<_> = k
        .files
        .iter()
        .map(|f| (f.target, f.path.clone(), f.mode))
        .collect();
    assert_eq!(
        files,
        vec![
            (
                Target::Main,
                PathBuf::from("/var/log/imta/mail.log_current"),
                0o644
            ),
            (Target::Panic, PathBuf::from("/var/log/imta/imta"), 0o644),
        ]
    );
    assert!(k.heartbeat.is_none());
    assert!(!k.records);
    let d = opts(&[]);
    assert_eq!(d.log_connection, 0);
    assert!(d.log_diagnostics);
    assert_eq!(d.log_format, 1);
    assert_eq!(d.block_size, 1024);
    assert_eq!(
        (
            d.inbound_channel.as_str(),
            d.auth_channel.as_str(),
            d.outbound_channel.as_str()
        ),
        ("tcp_local", "tcp_auth", "tcp_local")
    );
    assert_eq!(d.loglevel, Some(3));
    assert_eq!(d.host, "mx1");
}

#[test]
fn paths_modes_and_separate_connection_log() {
    let e = entries(&[
        ("logdir", "/srv/log"),
        ("mainlog", "/x/mail.log_current"),
        ("separate_connection_log", "true"),
        ("connection_log_mode", "0600"),
        ("paniclog_mode", "0640"),
        ("service_name", "mta"),
        ("service_loglevel", "debug"),
    ]);
    let mut o = Options::new(&e);
    let k = imta::setup(&mut o, &ctx()).unwrap();
    o.finish().unwrap();
    let files: Vec<_> = k
        .files
        .iter()
        .map(|f| (f.target, f.path.clone(), f.mode))
        .collect();
    assert_eq!(
        files,
        vec![
            (Target::Main, PathBuf::from("/x/mail.log_current"), 0o644),
            (
                Target::Connection,
                PathBuf::from("/srv/log/connection.log_current"),
                0o600
            ),
            (Target::Panic, PathBuf::from("/srv/log/mta"), 0o640),
        ]
    );
    // Nolog: no service log file at all.
    let e = entries(&[("loglevel", "NOLOG"), ("connection_log", "/c")]);
    let mut o = Options::new(&e);
    let k = imta::setup(&mut o, &ctx()).unwrap();
    o.finish().unwrap();
    assert_eq!(k.files.len(), 1);
}

#[test]
fn bad_options_are_errors() {
    for kv in [
        ("log_format", "4"),
        ("block_size", "0"),
        ("loglevel", "loud"),
        ("inbound_channel", "tcp local"),
        ("outbound_channel", "-"),
        ("log_sensitivity", "1"),
        ("log_connection", "x"),
        ("log_envelope_id", "maybe"),
        ("log_queue_time", "2"),
        ("legacy_codes", "yes please"),
        ("service_default_level", "Nolog"),
        ("service_default_level", "loud"),
    ] {
        let e = entries(&[kv]);
        let mut o = Options::new(&e);
        assert!(imta::setup(&mut o, &ctx()).is_err(), "{kv:?}");
    }
    // Keys of the common layer are not read here.
    let e = entries(&[("log_receptions", "false")]);
    let mut o = Options::new(&e);
    imta::setup(&mut o, &ctx()).unwrap();
    assert!(o.finish().is_err());
}

#[test]
fn sun_v1_options_are_read() {
    let e = entries(&[
        ("log_envelope_id", "1"),
        ("log_queue_time", "1"),
        ("legacy_codes", "true"),
        ("service_default_level", "Warning"),
        ("utc", "true"),
        ("process_name", "ecelerity"),
    ]);
    let mut o = Options::new(&e);
    let mut k = imta::setup(&mut o, &ctx()).unwrap();
    o.finish().unwrap();
    let x = opts(&[
        ("log_envelope_id", "1"),
        ("log_queue_time", "1"),
        ("legacy_codes", "true"),
        ("service_default_level", "Warning"),
    ]);
    assert!(x.log_envelope_id && x.log_queue_time && x.legacy_codes);
    assert_eq!(x.default_level, Level::Warning);
    let mut ev = build(
        Kind::Reception,
        vec![
            (Field::MailFrom, b"alice@example.org"),
            (Field::RcptTo, b"bob@example.com"),
        ],
    );
    ev.time = Timestamp {
        sec: 1_709_802_902,
        usec: 370_000,
    };
    ev.received = Timestamp {
        sec: 1_709_802_901,
        usec: 0,
    };
    ev.flags = flags::ESMTP | flags::HAS_RECEIVED;
    ev.size = 3000;
    let mut err = build(Kind::Error, vec![(Field::Note, b"queue is filling up")]);
    err.time = ev.time;
    let mut out = Out::default();
    k.formatter.format(&ev, &mut out);
    k.formatter.format(&err, &mut out);
    let text = |t: Target| String::from_utf8(out.bufs[t as usize].clone()).unwrap();
    assert_eq!(
        text(Target::Main),
        "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com  1\n"
    );
    assert_eq!(
        text(Target::Panic),
        "[07/Mar/2024:09:15:02 +0000] mx1 ecelerity[4242]: General Warning: queue is filling up\n"
    );
}

fn events() -> Vec<(Event, &'static str)> {
    let t = Timestamp {
        sec: 1_709_802_902,
        usec: 999_999,
    };
    let base = |kind, note: &'static [u8], from: &'static [u8]| {
        let mut ev = build(
            kind,
            vec![
                (Field::MsgId, b"60/00-31337-EF0F3556"),
                (Field::MailFrom, from),
                (Field::RcptTo, b"bob@example.com"),
                (Field::MessageIdHeader, b"<m1@example.org>"),
                (Field::DomainName, b"example.com"),
                (Field::MxHost, b"mx.example.com"),
                (Field::MxIp, b"203.0.113.10"),
                (Field::PeerIp, b"192.0.2.25"),
                (Field::PeerName, b"client.example.org"),
                (Field::Helo, b"client.example.org"),
                (Field::LocalIp, b"198.51.100.7"),
                (Field::AcceptAuthUser, b"jdoe"),
                (Field::VMailFrom, from),
                (Field::VRcptTo, b"bob@example.com"),
                (Field::Note, note),
            ],
        );
        ev.time = t;
        ev.size = 3000;
        ev.peer_port = 51514;
        ev.local_port = 25;
        ev.flags = flags::ESMTP | flags::TLS;
        ev
    };
    let rej = |phase, note| {
        let mut ev = base(Kind::Rejection, note, b"spam@example.biz");
        ev.phase = phase;
        ev
    };
    vec![
        (base(Kind::Reception, b"ok", b"alice@example.org"), "EESA"),
        (
            base(Kind::Delivery, b"250 2.0.0 ok", b"alice@example.org"),
            "DS",
        ),
        (
            base(Kind::TransientFailure, b"452 4.2.2 full", b"a@example.org"),
            "Q",
        ),
        (
            base(
                Kind::TransientFailure,
                b"connection refused",
                b"a@example.org",
            ),
            "Y+Q",
        ),
        (
            base(
                Kind::PermanentFailure,
                b"550 5.1.1 unknown",
                b"a@example.org",
            ),
            "R",
        ),
        (base(Kind::PermanentFailure, b"550 5.1.1 unknown", b""), "K"),
        (rej(6, b"550 5.7.1 relaying denied\n"), "JESA"),
        (rej(3, b"501 5.5.2 bad helo\n"), "BESA"),
        (rej(0, b"421 4.7.0 go away\n"), "X"),
        (base(Kind::Attempt, b"", b"a@example.org"), "O"),
    ]
}

#[test]
fn every_code_round_trips_under_every_option_combination() {
    let bools = [
        "log_filename",
        "log_message_id",
        "log_notary",
        "log_process",
        "log_username",
        "log_node",
        "log_reason",
        "log_diagnostics",
        "log_reception_note",
        "log_envelope_id",
        "log_queue_time",
        "legacy_codes",
    ];
    let mut seen = std::collections::BTreeSet::new();
    for fmt in ["1", "2", "3"] {
        for conn in ["0", "1", "2", "3", "32", "64", "99"] {
            for mask in 0u32..(1 << bools.len()) {
                // Every single option on its own, all on, and all off.
                if mask.count_ones() > 1 && mask != (1 << bools.len()) - 1 {
                    continue;
                }
                let mut kv = vec![("log_format", fmt), ("log_connection", conn), ("utc", "1")];
                for (i, b) in bools.iter().enumerate() {
                    kv.push((b, if mask & (1 << i) != 0 { "1" } else { "0" }));
                }
                let e = entries(&kv);
                let mut o = Options::new(&e);
                let mut k = imta::setup(&mut o, &ctx()).unwrap();
                let x = imta::options(&mut Options::new(&e), &ctx()).unwrap();
                for (ev, codes) in events() {
                    let mut out = Out::default();
                    k.formatter.format(&ev, &mut out);
                    let text = String::from_utf8(out.bufs[Target::Main as usize].clone()).unwrap();
                    let got: Vec<String> = text
                        .lines()
                        .map(|l| {
                            let p = parse_line(l, &x).unwrap_or_else(|m| panic!("{m}: {l:?}"));
                            assert_eq!(p.date, "07-Mar-2024");
                            assert_eq!(p.time, "09:15:02.99");
                            assert_eq!(p.node.is_some(), x.log_node);
                            assert_eq!(p.process.is_some(), x.log_process);
                            if !p.is_connection() {
                                assert_eq!(p.to, "bob@example.com", "{l}");
                                assert_eq!(p.message_id.is_some(), x.log_message_id);
                                assert_eq!(p.envelope_id.is_some(), x.log_envelope_id);
                                assert_eq!(p.queue_time.is_some(), x.log_queue_time);
                                assert_eq!(p.notary.as_deref(), x.log_notary.then_some("12"));
                                assert_eq!(p.connection.is_some(), x.log_connection & 1 != 0);
                                assert_eq!(p.transport.is_some(), x.log_connection & 32 != 0);
                                assert_eq!(p.application.is_some(), x.log_connection & 64 != 0);
                            }
                            seen.insert(p.code.clone());
                            p.code
                        })
                        .collect();
                    let conn_on = x.log_connection & 2 != 0;
                    let want: Vec<&str> = match codes {
                        "Y+Q" if conn_on => vec!["Y", "Q"],
                        "Y+Q" => vec!["Q"],
                        "X" | "O" if !conn_on => vec![],
                        // legacy_codes: no ESMTP modifier.
                        "EESA" if x.legacy_codes => vec!["ESA"],
                        "JESA" if x.legacy_codes => vec!["JSA"],
                        "BESA" if x.legacy_codes => vec!["BSA"],
                        c => vec![c],
                    };
                    assert_eq!(got, want, "{kv:?}\n{text}");
                }
            }
        }
    }
    let all: Vec<_> = seen.into_iter().collect();
    assert_eq!(
        all,
        [
            "BESA", "BSA", "DS", "EESA", "ESA", "JESA", "JSA", "K", "O", "Q", "R", "X", "Y"
        ]
    );
}

#[test]
fn service_log_through_setup() {
    let e = entries(&[
        ("utc", "true"),
        ("process_name", "ecelerity"),
        ("loglevel", "Warning"),
    ]);
    let mut o = Options::new(&e);
    let mut k = imta::setup(&mut o, &ctx()).unwrap();
    let mut head = Vec::new();
    k.formatter.file_header(
        Target::Panic,
        Timestamp {
            sec: 1_709_802_900,
            usec: 0,
        },
        &mut head,
    );
    assert_eq!(
        String::from_utf8(head).unwrap(),
        "[07/Mar/2024:09:15:00 +0000] mx1 ecelerity[4242]: General Notice: Log created (1709802900)\n"
    );
    let mut out = Out::default();
    for note in [&b"notice: hidden"[..], b"warning: shown", b"unmarked\r\n"] {
        let mut ev = build(Kind::Error, vec![(Field::Note, note)]);
        ev.time = Timestamp {
            sec: 1_709_802_970,
            usec: 0,
        };
        k.formatter.format(&ev, &mut out);
    }
    let text = String::from_utf8(out.bufs[Target::Panic as usize].clone()).unwrap();
    let lines: Vec<_> = text
        .lines()
        .map(|l| parse_service_line(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(
        (lines[0].level.as_str(), lines[0].text.as_str()),
        ("Warning", "shown")
    );
    assert_eq!(
        (lines[1].level.as_str(), lines[1].text.as_str()),
        ("Error", "unmarked")
    );
    assert_eq!(lines[1].date, "07/Mar/2024:09:16:10 +0000");
}
