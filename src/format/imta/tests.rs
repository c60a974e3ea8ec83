//! Tests of the imta_logger formatter and of its line grammar.

use super::write::{MAX_THREADS, char_len};
use super::*;
use crate::config::ConfigError;
use crate::event::{Event, Field, Kind, Timestamp, build, flags};
use crate::format::{FormatContext, Formatter, Level, Out, Target};

const T: i64 = 1_709_802_902; // 07-Mar-2024 09:15:02 UTC

fn ctx() -> FormatContext {
    FormatContext {
        error_default_level: Level::Error,
        pid: 0x4a1c,
        hostname: "mx1.example.org".into(),
    }
}

fn opts() -> ImtaOptions {
    let mut o = ImtaOptions::defaults(&ctx());
    o.utc = true;
    o.process_name = "ecelerity".into();
    o.process_user = "mailsrv".into();
    o
}

fn at(mut ev: Event, usec: u32) -> Event {
    ev.time = Timestamp { sec: T, usec };
    ev
}

fn reception() -> Event {
    let mut ev = at(
        build(
            Kind::Reception,
            vec![
                (Field::MailFrom, b"<alice@example.org>"),
                (Field::RcptTo, b"bob@example.com"),
                (Field::MessageIdHeader, b"20240307.ABC@mx.example.org"),
                (Field::SpoolPath, b"spool/7F/00-12345-ABCDEF01"),
                (Field::PeerIp, b"192.0.2.25"),
                (Field::PeerName, b"mail.example.org"),
                (Field::Helo, b"mail.example.org"),
                (Field::LocalIp, b"203.0.113.5"),
            ],
        ),
        370_000,
    );
    ev.size = 2100;
    ev.peer_port = 51514;
    ev.local_port = 25;
    ev
}

fn outbound(kind: Kind, note: &'static [u8], from: &'static [u8]) -> Event {
    let mut ev = at(
        build(
            kind,
            vec![
                (Field::MailFrom, from),
                (Field::RcptTo, b"dave@example.net"),
                (Field::DomainName, b"example.net"),
                (Field::MxHost, b"mx.example.net"),
                (Field::MxIp, b"203.0.113.10"),
                (Field::Note, note),
            ],
        ),
        880_000,
    );
    ev.size = 12 * 1024;
    ev
}

fn rejection(phase: i32, note: &'static [u8]) -> Event {
    let mut ev = at(
        build(
            Kind::Rejection,
            vec![
                (Field::PeerIp, b"192.0.2.66"),
                (Field::Helo, b"spammer.example.biz"),
                (Field::LocalIp, b"203.0.113.5"),
                (Field::VMailFrom, b"spam@example.biz"),
                (Field::VRcptTo, b"victim@example.net"),
                (Field::Note, note),
            ],
        ),
        640_000,
    );
    ev.phase = phase;
    ev.peer_port = 40000;
    ev.local_port = 25;
    ev
}

fn run(o: &ImtaOptions, ev: &Event) -> (String, String, String) {
    let mut out = Out::default();
    Imta::new(o.clone()).format(ev, &mut out);
    let s = |t: Target| String::from_utf8(out.bufs[t as usize].clone()).unwrap();
    (s(Target::Main), s(Target::Connection), s(Target::Panic))
}

fn main_line(o: &ImtaOptions, ev: &Event) -> String {
    let l = run(o, ev).0;
    assert_eq!(l.matches('\n').count(), 1, "{l:?}");
    let e = parse_line(&l, o).unwrap_or_else(|m| panic!("{m}: {l:?}"));
    assert_eq!(e.date, "07-Mar-2024");
    l
}

#[test]
fn basic_reception() {
    let o = opts();
    let l = main_line(&o, &reception());
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.source_channel, "tcp_local");
    assert_eq!(e.code, "E");
    assert_eq!(e.size, Some(3));
    assert_eq!(e.from, "alice@example.org");
    assert_eq!(e.original_to, "rfc822;bob@example.com");
    assert_eq!(e.to, "bob@example.com");
    assert_eq!(e.diagnostic, None);
}

#[test]
fn reception_modifiers_auth_and_orcpt() {
    let mut o = opts();
    o.outbound_channel = "tcp_intranet".into();
    let mut ev = at(
        build(
            Kind::Reception,
            vec![
                (Field::MailFrom, b"carol@example.com"),
                (Field::RcptTo, b"dave@example.net"),
                (Field::Orcpt, b"rfc822;Dave@Example.NET"),
                (Field::AcceptAuthUser, b"carol"),
            ],
        ),
        410_000,
    );
    ev.flags = flags::ESMTP | flags::TLS;
    ev.size = 12 * 1024 - 5;
    assert_eq!(
        main_line(&o, &ev),
        "07-Mar-2024 09:15:02.41 tcp_auth     tcp_intranet EESA 12 carol@example.com rfc822;Dave@Example.NET dave@example.net\n"
    );
    o.log_username = true;
    let l = main_line(&o, &ev);
    assert!(l.ends_with(" dave@example.net *carol\n"), "{l}");
    assert_eq!(
        parse_line(&l, &o).unwrap().username.as_deref(),
        Some("*carol")
    );
}

#[test]
fn reception_with_every_optional_field() {
    let mut o = opts();
    o.log_node = true;
    o.log_process = true;
    o.log_notary = true;
    o.log_filename = true;
    o.log_message_id = true;
    o.log_username = true;
    o.log_connection = 1 | 32 | 64;
    o.log_reception_note = true;
    let mut ev = reception();
    ev.flags = flags::ESMTP;
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.37 mx1.example.org 4a1c.1.0 tcp_local    tcp_local    EE 3 alice@example.org rfc822;bob@example.com bob@example.com 12 spool/7F/00-12345-ABCDEF01 <20240307.ABC@mx.example.org> mailsrv mail.example.org (mail.example.org [192.0.2.25])  TCP|203.0.113.5|25|192.0.2.25|51514 SMTP\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.node.as_deref(), Some("mx1.example.org"));
    assert_eq!(e.process.as_deref(), Some("4a1c.1.0"));
    assert_eq!(e.notary.as_deref(), Some("12"));
    assert_eq!(e.filename.as_deref(), Some("spool/7F/00-12345-ABCDEF01"));
    assert_eq!(
        e.message_id.as_deref(),
        Some("<20240307.ABC@mx.example.org>")
    );
    assert_eq!(e.username.as_deref(), Some("mailsrv"));
    assert_eq!(
        e.connection.as_deref(),
        Some("mail.example.org (mail.example.org [192.0.2.25])")
    );
    assert_eq!(e.diagnostic.as_deref(), Some(""));
    assert_eq!(
        e.transport.as_deref(),
        Some("TCP|203.0.113.5|25|192.0.2.25|51514")
    );
    assert_eq!(e.application.as_deref(), Some("SMTP"));
}

#[test]
fn connection_info_without_rdns_and_ipv6() {
    let mut o = opts();
    o.log_connection = 1;
    let mut ev = at(
        build(
            Kind::Reception,
            vec![
                (Field::MailFrom, b"a@example.org"),
                (Field::RcptTo, b"b@example.com"),
                (Field::PeerIp, b"2001:db8::1"),
                (Field::Helo, b"[IPv6:2001:db8::1]"),
            ],
        ),
        0,
    );
    ev.size = 1;
    let l = main_line(&o, &ev);
    assert!(
        l.ends_with(" b@example.com [IPv6:2001:db8::1] ([IPv6:2001:db8::1])\n"),
        "{l}"
    );
    assert_eq!(
        parse_line(&l, &o).unwrap().connection.as_deref(),
        Some("[IPv6:2001:db8::1] ([IPv6:2001:db8::1])")
    );
}

#[test]
fn delivery() {
    let mut o = opts();
    let mut ev = outbound(
        Kind::Delivery,
        b"250 2.0.0 Ok: queued as 4F2A1\n",
        b"carol@example.com",
    );
    ev.flags = flags::TLS | flags::ESMTP;
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.88 tcp_local                 DS 12 carol@example.com rfc822;dave@example.net dave@example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 Ok: queued as 4F2A1\n"
    );
    assert_eq!(
        parse_line(&l, &o).unwrap().diagnostic.as_deref(),
        Some("dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 Ok: queued as 4F2A1")
    );
    o.log_connection = 1 | 32 | 64;
    let l = main_line(&o, &ev);
    assert!(
        l.ends_with(" dave@example.net mx.example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 Ok: queued as 4F2A1 TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net\n"),
        "{l}"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.connection.as_deref(), Some("mx.example.net"));
    assert_eq!(
        e.application.as_deref(),
        Some("SMTP/example.net/mx.example.net")
    );
    assert_eq!(e.transport.as_deref(), Some("TCP||0|203.0.113.10|25"));
    o.log_diagnostics = false;
    let l = main_line(&o, &ev);
    assert!(
        l.ends_with(" mx.example.net TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net\n"),
        "{l}"
    );
}

#[test]
fn transient_failure_and_y_entry() {
    let mut o = opts();
    let ev = outbound(
        Kind::TransientFailure,
        b"connect() to 203.0.113.10:25 failed: Connection refused",
        b"erin@example.com",
    );
    let (m, c, _) = run(&o, &ev);
    assert_eq!(
        m,
        "07-Mar-2024 09:15:02.88 tcp_local                 Q 0 erin@example.com rfc822;dave@example.net dave@example.net connect() to 203.0.113.10:25 failed: Connection refused\n"
    );
    assert_eq!(c, "");
    o.log_connection = 2;
    let (m2, _, _) = run(&o, &ev);
    let mut lines = m2.lines();
    let y = lines.next().unwrap();
    assert_eq!(
        y,
        "07-Mar-2024 09:15:02.88 tcp_local    -            Y TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net"
    );
    assert_eq!(format!("{}\n", lines.next().unwrap()), m);
    let e = parse_line(y, &o).unwrap();
    assert!(e.is_connection());
    assert_eq!(e.code, "Y");
    assert_eq!(e.dest_channel, "-");
    // With a reply code: full size, composite status, no Y.
    let ev = outbound(
        Kind::TransientFailure,
        b"452 4.2.2 Mailbox full",
        b"erin@example.com",
    );
    let (m, _, _) = run(&o, &ev);
    assert_eq!(
        m,
        "07-Mar-2024 09:15:02.88 tcp_local                 Q 12 erin@example.com rfc822;dave@example.net dave@example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;452 4.2.2 Mailbox full\n"
    );
    // Separate connection log.
    o.separate_connection_log = true;
    let ev = outbound(Kind::TransientFailure, b"timeout", b"erin@example.com");
    let (m, c, _) = run(&o, &ev);
    assert!(m.contains(" Q 0 "));
    assert!(c.contains(" Y TCP|"));
}

#[test]
fn permanent_failures_r_and_k_with_reason() {
    let mut o = opts();
    let ev = outbound(
        Kind::PermanentFailure,
        b"550 5.1.1 <nosuch@example.net>: user unknown",
        b"erin@example.com",
    );
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.88 tcp_local                 R 12 erin@example.com rfc822;dave@example.net dave@example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;550 5.1.1 <nosuch@example.net>: user unknown\n"
    );
    o.log_reason = true;
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.88 tcp_local                 R 12 erin@example.com rfc822;dave@example.net dave@example.net 5.1.1 <nosuch@example.net>: user unknown dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;550 5.1.1 <nosuch@example.net>: user unknown\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(
        e.reason.as_deref(),
        Some("5.1.1 <nosuch@example.net>: user unknown")
    );
    assert_eq!(
        e.diagnostic.as_deref(),
        Some(
            "dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;550 5.1.1 <nosuch@example.net>: user unknown"
        )
    );
    let ev = outbound(Kind::PermanentFailure, b"550 5.1.1 user unknown", b"<>");
    let l = main_line(&o, &ev);
    assert!(l.contains(" K 12  rfc822;dave@example.net "), "{l}");
    o.log_format = 2;
    let l = main_line(&o, &ev);
    assert!(l.contains(" K 12 <> rfc822;dave@example.net "), "{l}");
    assert_eq!(parse_line(&l, &o).unwrap().from, "");
}

#[test]
fn rejections_j_b_x() {
    let mut o = opts();
    let mut ev = rejection(6, b"550 5.7.1 Relaying not allowed: victim@example.net\r\n");
    ev.flags = flags::ESMTP;
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.64 tcp_local                 JE 0 spam@example.biz rfc822; victim@example.net 550 5.7.1 Relaying not allowed: victim@example.net\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.original_to, "rfc822;");
    assert_eq!(
        e.diagnostic.as_deref(),
        Some("550 5.7.1 Relaying not allowed: victim@example.net")
    );
    let ev = build(
        Kind::Rejection,
        vec![(Field::Note, b"500 5.5.1 Unknown command")],
    );
    let mut ev = at(ev, 120_000);
    ev.phase = 2;
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.12 tcp_local                 B 0  rfc822;  500 5.5.1 Unknown command\n"
    );
    // Phases before the greeting: nothing, or X with bit 1.
    for phase in [0, 1, 18] {
        let ev = rejection(phase, b"421 4.7.0 Too many connections\n");
        assert_eq!(run(&o, &ev), (String::new(), String::new(), String::new()));
    }
    o.log_connection = 2;
    let ev = rejection(18, b"421 4.7.0 Too many connections\n");
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.64 tcp_local    +            X TCP|203.0.113.5|25|192.0.2.66|40000 SMTP 421 4.7.0 Too many connections\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.extra.as_deref(), Some("421 4.7.0 Too many connections"));
    // J with connection info.
    o.log_connection = 1;
    let l = main_line(&o, &rejection(6, b"550 no"));
    assert!(
        l.ends_with(" victim@example.net spammer.example.biz ([192.0.2.66]) 550 no\n"),
        "{l}"
    );
}

#[test]
fn attempt_o_entry() {
    let mut o = opts();
    let mut ev = outbound(Kind::Attempt, b"", b"a@example.org");
    ev.mx_port = 2525;
    assert_eq!(run(&o, &ev), (String::new(), String::new(), String::new()));
    o.log_connection = 2;
    o.log_process = true;
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.88 4a1c.1.0 tcp_local    -            O TCP||0|203.0.113.10|2525 SMTP/example.net/mx.example.net\n"
    );
}

#[test]
fn log_format_3() {
    let mut o = opts();
    o.log_format = 3;
    o.log_connection = 1 | 32;
    o.log_message_id = true;
    let l = main_line(&o, &reception());
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 17:alice@example.org 22:rfc822;bob@example.com 15:bob@example.com 29:<20240307.ABC@mx.example.org> 48:mail.example.org (mail.example.org [192.0.2.25]) 35:TCP|203.0.113.5|25|192.0.2.25|51514\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.from, "alice@example.org");
    assert_eq!(
        e.connection.as_deref(),
        Some("mail.example.org (mail.example.org [192.0.2.25])")
    );
    let ev = outbound(Kind::PermanentFailure, b"550 x y", b"");
    let l = main_line(&o, &ev);
    assert!(l.contains(" K 12 0: 23:rfc822;dave@example.net "), "{l}");
    assert!(l.contains(" 0: 14:mx.example.net 56:dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;550 x y 22:TCP||0|203.0.113.10|25\n"), "{l}");
    let mut ev = rejection(0, b"421 busy");
    o.log_connection = 2;
    ev.peer_port = 1;
    let l = main_line(&o, &ev);
    assert!(
        l.ends_with(" X 31:TCP|203.0.113.5|25|192.0.2.66|1 4:SMTP 8:421 busy\n"),
        "{l}"
    );
    assert_eq!(
        parse_line(&l, &o).unwrap().extra.as_deref(),
        Some("421 busy")
    );
}

#[test]
fn hostile_values_stay_in_their_fields() {
    let mut o = opts();
    o.log_connection = 1 | 32 | 64;
    o.log_filename = true;
    o.log_message_id = true;
    o.log_username = true;
    let mut ev = at(
        build(
            Kind::Rejection,
            vec![
                (Field::MsgId, b"id with space"),
                (Field::PeerIp, b"192.0.2.1 ])x"),
                (Field::PeerName, b"evil (name) [1.2.3.4]"),
                (Field::Helo, b"he lo\r\n07-Mar-2024 09:00:00.00 tcp_local"),
                (Field::AcceptAuthUser, b"us er\0"),
                (Field::VMailFrom, b"a b@example.org"),
                (Field::VRcptTo, b"c\nd@example.net"),
                (Field::Note, b"550 bad\r\nthing\0 TCP|1|2|3|4 SMTP\n"),
            ],
        ),
        0,
    );
    ev.phase = 6;
    for fmt in [1, 2, 3] {
        o.log_format = fmt;
        let l = main_line(&o, &ev);
        let e = parse_line(&l, &o).unwrap();
        assert_eq!(e.code, "JA");
        assert_eq!(e.source_channel, "tcp_auth");
        assert_eq!(e.size, Some(0));
        assert_eq!(e.transport.as_deref(), Some("TCP||0|192.0.2.1_])x|0"));
        assert_eq!(e.application.as_deref(), Some("SMTP"));
        if fmt == 3 {
            assert_eq!(e.from, "a b@example.org");
            assert_eq!(e.to, "c d@example.net");
            assert_eq!(e.username.as_deref(), Some("*us er "));
            assert_eq!(
                e.diagnostic.as_deref(),
                Some("550 bad  thing  TCP|1|2|3|4 SMTP")
            );
        } else {
            assert_eq!(e.from, "a_b@example.org");
            assert_eq!(e.to, "c_d@example.net");
            assert_eq!(e.username.as_deref(), Some("*us_er_"));
            assert_eq!(
                e.diagnostic.as_deref(),
                Some("550 bad  thing  TCP|1|2|3|4 SMTP")
            );
            assert_eq!(
                e.connection.as_deref(),
                Some(
                    "he_lo__07-Mar-2024_09:00:00.00_tcp_local (evil__name___1.2.3.4_ [192.0.2.1___x])"
                )
            );
        }
    }
}

#[test]
fn service_log() {
    let mut o = opts();
    let ev = at(
        build(
            Kind::Error,
            vec![(Field::Note, b"cannot resolve relay: timeout\n")],
        ),
        0,
    );
    let (_, _, p) = run(&o, &ev);
    assert_eq!(
        p,
        "[07/Mar/2024:09:15:02 +0000] mx1 ecelerity[18972]: General Error: cannot resolve relay: timeout\n"
    );
    let s = parse_service_line(&p).unwrap();
    assert_eq!(
        (
            s.host.as_str(),
            s.process.as_str(),
            s.pid,
            s.category.as_str(),
            s.level.as_str()
        ),
        ("mx1", "ecelerity", 18972, "General", "Error")
    );
    assert_eq!(s.text, "cannot resolve relay: timeout");
    let warn = at(
        build(Kind::Error, vec![(Field::Note, b"WARNING: disk\nfull")]),
        0,
    );
    assert!(run(&o, &warn).2.ends_with("General Warning: disk full\n"));
    let info = at(build(Kind::Error, vec![(Field::Note, b"info: hello")]), 0);
    assert_eq!(run(&o, &info).2, "");
    o.loglevel = Some(4);
    assert!(run(&o, &info).2.ends_with("General Information: hello\n"));
    let crit = at(build(Kind::Error, vec![(Field::Note, b"panic: x")]), 0);
    assert!(run(&o, &crit).2.ends_with("General Critical: x\n"));
    o.loglevel = Some(0);
    assert_eq!(run(&o, &ev).2, "");
    o.loglevel = None;
    assert_eq!(run(&o, &crit).2, "");
}

#[test]
fn log_created_header() {
    let o = opts();
    let mut f = Imta::new(o.clone());
    let mut b = Vec::new();
    f.file_header(Target::Panic, Timestamp { sec: T, usec: 5 }, &mut b);
    assert_eq!(
        String::from_utf8(b).unwrap(),
        "[07/Mar/2024:09:15:02 +0000] mx1 ecelerity[18972]: General Notice: Log created (1709802902)\n"
    );
    let mut b = Vec::new();
    f.file_header(Target::Main, Timestamp { sec: T, usec: 5 }, &mut b);
    assert!(b.is_empty());
}

#[test]
fn process_sequence_and_blocks() {
    let mut o = opts();
    o.log_process = true;
    o.block_size = 1000;
    let mut f = Imta::new(o.clone());
    let mut out = Out::default();
    let mut ev = reception();
    ev.size = 1001;
    f.format(&ev, &mut out);
    ev.size = 0;
    f.format(&ev, &mut out);
    let s = String::from_utf8(out.bufs[0].clone()).unwrap();
    let l: Vec<_> = s.lines().collect();
    assert!(l[0].contains(" 4a1c.1.0 ") && l[0].contains(" E 2 "), "{s}");
    assert!(l[1].contains(" 4a1c.1.1 ") && l[1].contains(" E 0 "), "{s}");
}

/// Options read from configuration lines, as the logger reads them.
fn configured(kv: &[(&str, &str)]) -> Result<ImtaOptions, ConfigError> {
    let e: Vec<crate::config::Entry> = kv
        .iter()
        .enumerate()
        .map(|(i, (k, v))| crate::config::Entry {
            key: (*k).into(),
            value: (*v).into(),
            line: i + 1,
        })
        .collect();
    let mut o = Options::new(&e);
    let mut x = options(&mut o, &ctx())?;
    o.finish()?;
    x.utc = true;
    x.process_name = "ecelerity".into();
    x.process_user = "mailsrv".into();
    Ok(x)
}

#[test]
fn envelope_id_and_queue_time() {
    let o = configured(&[
        ("log_envelope_id", "true"),
        ("log_message_id", "true"),
        ("log_queue_time", "1"),
        ("log_connection", "64"),
    ])
    .unwrap();
    assert!(o.log_envelope_id && o.log_queue_time);
    let mut ev = at(
        build(
            Kind::Delivery,
            vec![
                (Field::MailFrom, b"carol@example.com"),
                (Field::RcptTo, b"dave@example.net"),
                (Field::MessageIdHeader, b"<m1@example.com>"),
                (Field::DomainName, b"example.net"),
                (Field::MxHost, b"mx.example.net"),
                (Field::MxIp, b"203.0.113.10"),
                (Field::Note, b"250 2.0.0 ok"),
            ],
        ),
        880_000,
    );
    ev.size = 12 * 1024;
    // Received 1 h 2 min 5.5 s before: whole seconds.
    ev.received = Timestamp::new(ev.time.sec - 3725, ev.time.usec as i64 - 500_000);
    ev.flags |= flags::HAS_RECEIVED;
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.88 tcp_local                 D 12 carol@example.com rfc822;dave@example.net dave@example.net  <m1@example.com> dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 ok SMTP/example.net/mx.example.net 3725\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.envelope_id.as_deref(), Some(""));
    assert_eq!(e.message_id.as_deref(), Some("<m1@example.com>"));
    assert_eq!(e.queue_time.as_deref(), Some("3725"));
    assert_eq!(
        e.application.as_deref(),
        Some("SMTP/example.net/mx.example.net")
    );
    // Reception time unknown (a rejection has none): an empty field.
    let mut j = rejection(6, b"550 5.7.1 no");
    j.flags = 0;
    let l = main_line(&o, &j);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.64 tcp_local                 J 0 spam@example.biz rfc822; victim@example.net   550 5.7.1 no SMTP \n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.queue_time.as_deref(), Some(""));
    assert_eq!(e.diagnostic.as_deref(), Some("550 5.7.1 no"));
    // Length-counted: the envelope id is a variable-length field, the queue time not.
    let mut o3 = o.clone();
    o3.log_format = 3;
    o3.log_connection = 0;
    let l = main_line(&o3, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.88 tcp_local                 D 12 17:carol@example.com 23:rfc822;dave@example.net 16:dave@example.net 0: 16:<m1@example.com> 61:dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 ok 3725\n"
    );
    assert_eq!(
        parse_line(&l, &o3).unwrap().queue_time.as_deref(),
        Some("3725")
    );
    // Connection entries have neither field.
    let mut oc = o.clone();
    oc.log_connection = 2;
    let l = main_line(&oc, &outbound(Kind::Attempt, b"", b"a@example.org"));
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.88 tcp_local    -            O TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net\n"
    );
}

#[test]
fn legacy_codes_drop_the_esmtp_modifier() {
    let o = configured(&[("legacy_codes", "true")]).unwrap();
    assert!(o.legacy_codes);
    let mut ev = reception();
    ev.flags = flags::ESMTP | flags::TLS;
    ev.push(Field::AcceptAuthUser, b"carol", 100);
    assert_eq!(
        main_line(&o, &ev),
        "07-Mar-2024 09:15:02.37 tcp_auth     tcp_local    ESA 3 alice@example.org rfc822;bob@example.com bob@example.com\n"
    );
    let mut j = rejection(6, b"550 5.7.1 no");
    j.flags = flags::ESMTP;
    assert_eq!(
        main_line(&o, &j),
        "07-Mar-2024 09:15:02.64 tcp_local                 J 0 spam@example.biz rfc822; victim@example.net 550 5.7.1 no\n"
    );
    let mut b = rejection(2, b"500 5.5.1 Unknown command");
    b.flags = flags::ESMTP | flags::TLS;
    assert!(main_line(&o, &b).contains(" BS 0 "));
    // Off (the default): the modifiers of 6.3.
    assert!(main_line(&opts(), &b).contains(" BES 0 "));
}

#[test]
fn service_default_level_sets_the_level_of_unmarked_texts() {
    let ev = at(
        build(Kind::Error, vec![(Field::Note, b"queue is filling up")]),
        0,
    );
    let marked = at(
        build(Kind::Error, vec![(Field::Note, b"error: disk full")]),
        0,
    );
    for (value, level, shown) in [
        (
            "Warning",
            Level::Warning,
            "General Warning: queue is filling up\n",
        ),
        (
            "critical",
            Level::Critical,
            "General Critical: queue is filling up\n",
        ),
        ("Information", Level::Info, ""),
        ("info", Level::Info, ""),
    ] {
        let o = configured(&[("service_default_level", value)]).unwrap();
        assert_eq!(o.default_level, level, "{value}");
        let (_, _, p) = run(&o, &ev);
        assert!(p.ends_with(shown), "{value}: {p:?}");
        assert_eq!(shown.is_empty(), p.is_empty(), "{value}: {p:?}");
        // A severity prefix still wins.
        assert!(run(&o, &marked).2.ends_with(" General Error: disk full\n"));
    }
    let o = configured(&[("service_default_level", "Notice"), ("loglevel", "Notice")]).unwrap();
    assert_eq!(
        run(&o, &ev).2,
        "[07/Mar/2024:09:15:02 +0000] mx1 ecelerity[18972]: General Notice: queue is filling up\n"
    );
    // Default: the common error_default_level (Error unless configured).
    assert_eq!(configured(&[]).unwrap().default_level, Level::Error);
    for bad in ["Nolog", "loud", ""] {
        let e = configured(&[("service_default_level", bad)]).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("service_default_level"), "{bad}");
    }
}

/// Events made on thread `token`, through one formatter: the main log's lines.
fn lines_of(f: &mut Imta, events: &[(u64, Event)]) -> Vec<String> {
    let mut out = Out::default();
    for (token, ev) in events {
        let mut ev = ev.clone();
        ev.thread = *token;
        f.format(&ev, &mut out);
    }
    String::from_utf8(out.bufs[Target::Main as usize].clone())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn process_id_is_pid_thread_and_sequence() {
    let mut o = opts();
    o.log_process = true;
    o.log_connection = 2;
    let mut f = Imta::new(o.clone());
    let mut attempt = build(
        Kind::Attempt,
        vec![
            (Field::DomainName, b"example.net"),
            (Field::MxHost, b"mx.example.net"),
            (Field::MxIp, b"203.0.113.10"),
            (Field::LocalIp, b"198.51.100.7"),
        ],
    );
    attempt.time = Timestamp {
        sec: T + 3,
        usec: 900_000,
    };
    attempt.local_port = 40112;
    let mut delivery = outbound(Kind::Delivery, b"250 2.0.0 ok", b"carol@example.com");
    delivery.time = Timestamp {
        sec: T + 4,
        usec: 880_000,
    };
    let failure = outbound(Kind::TransientFailure, b"timeout", b"erin@example.com");
    // Thread tokens are process-wide; numbers go 1, 2, ... per log, in first-event order.
    let lines = lines_of(
        &mut f,
        &[
            (907, reception()),
            (31, attempt.clone()),
            (31, delivery.clone()),
            (907, reception()),
            (31, failure.clone()),
        ],
    );
    assert_eq!(
        lines,
        [
            "07-Mar-2024 09:15:02.37 4a1c.1.0 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com",
            "07-Mar-2024 09:15:05.90 4a1c.2.0 tcp_local    -            O TCP|198.51.100.7|40112|203.0.113.10|25 SMTP/example.net/mx.example.net",
            "07-Mar-2024 09:15:06.88 4a1c.2.1 tcp_local                 D 12 carol@example.com rfc822;dave@example.net dave@example.net dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;250 2.0.0 ok",
            "07-Mar-2024 09:15:02.37 4a1c.1.1 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com",
            // One hook call, two lines: one sequence number.
            "07-Mar-2024 09:15:02.88 4a1c.2.2 tcp_local    -            Y TCP||0|203.0.113.10|25 SMTP/example.net/mx.example.net",
            "07-Mar-2024 09:15:02.88 4a1c.2.2 tcp_local                 Q 0 erin@example.com rfc822;dave@example.net dave@example.net timeout",
        ]
    );
    for l in &lines {
        let p = parse_line(l, &o).unwrap_or_else(|m| panic!("{m}: {l}"));
        assert!(p.process.unwrap().starts_with("4a1c."));
    }
    // The thread number is hex; the sequence number decimal.
    let mut f = Imta::new(o.clone());
    let events: Vec<(u64, Event)> = (0..10).map(|t| (100 + t, reception())).collect();
    let lines = lines_of(&mut f, &events);
    assert!(lines[9].contains(" 4a1c.a.0 "), "{}", lines[9]);
    let events: Vec<(u64, Event)> = (0..11).map(|_| (109, reception())).collect();
    let lines = lines_of(&mut f, &events);
    assert!(lines[10].contains(" 4a1c.a.11 "), "{}", lines[10]);
    // Past MAX_THREADS threads (a thread per connection), the numbering starts again
    // instead of the table growing without end.
    let mut f = Imta::new(o.clone());
    let events: Vec<(u64, Event)> = (0..=MAX_THREADS as u64)
        .map(|t| (1000 + t, reception()))
        .collect();
    let lines = lines_of(&mut f, &events);
    assert!(
        lines[MAX_THREADS - 1].contains(" 4a1c.1000.0 "),
        "{}",
        lines[MAX_THREADS - 1]
    );
    assert!(
        lines[MAX_THREADS].contains(" 4a1c.1.0 "),
        "{}",
        lines[MAX_THREADS]
    );
    assert_eq!(f.threads.len(), 1);
    // Sun's example with LOG_PROCESS, LOG_FILENAME, LOG_MESSAGE_ID and LOG_CONNECTION=1:
    // the fifteenth event of the first thread.
    let mut o = opts();
    o.pid = 0x3e8a;
    o.outbound_channel = "tcp_intranet".into();
    o.log_process = true;
    o.log_filename = true;
    o.log_message_id = true;
    o.log_connection = 1;
    let mut ev = build(
        Kind::Reception,
        vec![
            (Field::MailFrom, b"alice@example.org"),
            (Field::RcptTo, b"bob@example.com"),
            (
                Field::MessageIdHeader,
                b"<20240307091501.ABC123@mx.example.org>",
            ),
            (Field::SpoolPath, b"spool/7F/00-12345-ABCDEF01.msg"),
            (Field::PeerIp, b"192.0.2.25"),
            (Field::PeerName, b"mail.example.org"),
            (Field::Helo, b"mail.example.org"),
        ],
    );
    ev.time = Timestamp {
        sec: T,
        usec: 370_000,
    };
    ev.size = 3 * 1024;
    ev.flags = flags::ESMTP;
    let mut f = Imta::new(o);
    let events: Vec<(u64, Event)> = (0..15).map(|_| (5, ev.clone())).collect();
    assert_eq!(
        lines_of(&mut f, &events)[14],
        "07-Mar-2024 09:15:02.37 3e8a.1.14 tcp_local    tcp_intranet EE 3 alice@example.org rfc822;bob@example.com bob@example.com spool/7F/00-12345-ABCDEF01.msg <20240307091501.ABC123@mx.example.org> mail.example.org (mail.example.org [192.0.2.25])"
    );
}

#[test]
fn delivery_status_follows_the_dns_smtp_grammar() {
    let mut o = opts();
    // No remote server (a non-SMTP channel): no status at all.
    o.outbound_channel = "tcp_intranet".into();
    let mut local = build(
        Kind::Delivery,
        vec![
            (Field::MailFrom, b"alice@example.org"),
            (Field::RcptTo, b"bob@example.com"),
            (Field::Note, b"delivered to mailbox"),
        ],
    );
    local.time = Timestamp {
        sec: T + 2,
        usec: 20_000,
    };
    local.size = 3 * 1024;
    let l = main_line(&o, &local);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:04.02 tcp_intranet              D 3 alice@example.org rfc822;bob@example.com bob@example.com\n"
    );
    assert_eq!(parse_line(&l, &o).unwrap().diagnostic, None);
    // ... also when fields follow it.
    o.log_connection = 1 | 32 | 64;
    let l = main_line(&o, &local);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:04.02 tcp_intranet              D 3 alice@example.org rfc822;bob@example.com bob@example.com  TCP||0||25 SMTP//\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(
        (
            e.connection.as_deref(),
            e.diagnostic,
            e.transport.as_deref()
        ),
        (Some(""), None, Some("TCP||0||25"))
    );
    o.log_format = 3;
    let l = main_line(&o, &local);
    assert!(
        l.ends_with(" 15:bob@example.com 0: 10:TCP||0||25 6:SMTP//\n"),
        "{l}"
    );
    assert_eq!(parse_line(&l, &o).unwrap().diagnostic, None);
    // A remote server: `dns;<mx> [(transport)] smtp;<reply>`.
    let mut o = opts();
    o.log_connection = 1;
    let mut ev = build(
        Kind::Delivery,
        vec![
            (Field::MailFrom, b"carol@example.com"),
            (Field::RcptTo, b"dave@example.net"),
            (Field::DomainName, b"example.net"),
            (Field::MxHost, b"mx.example.net"),
            (Field::MxIp, b"203.0.113.10"),
            (Field::LocalIp, b"198.51.100.7"),
            (Field::Note, b"250 2.0.0 Ok: queued as 4F2A1"),
        ],
    );
    ev.local_port = 40112;
    ev.size = 12 * 1024;
    ev.time = Timestamp {
        sec: T + 4,
        usec: 880_000,
    };
    assert_eq!(
        main_line(&o, &ev),
        "07-Mar-2024 09:15:06.88 tcp_local                 D 12 carol@example.com rfc822;dave@example.net dave@example.net mx.example.net dns;mx.example.net (TCP|198.51.100.7|40112|203.0.113.10|25) smtp;250 2.0.0 Ok: queued as 4F2A1\n"
    );
    // Only the address known: `dns;` with an empty name; only the name: no transport.
    let o = opts();
    let mut by_ip = build(
        Kind::Delivery,
        vec![
            (Field::MailFrom, b"a@example.org"),
            (Field::RcptTo, b"b@example.net"),
            (Field::MxIp, b"203.0.113.15"),
            (Field::Note, b"250 ok"),
        ],
    );
    by_ip.time = Timestamp { sec: T, usec: 0 };
    let l = main_line(&o, &by_ip);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.00 tcp_local                 D 0 a@example.org rfc822;b@example.net b@example.net dns; (TCP||0|203.0.113.15|25) smtp;250 ok\n"
    );
    assert_eq!(
        parse_line(&l, &o).unwrap().diagnostic.as_deref(),
        Some("dns; (TCP||0|203.0.113.15|25) smtp;250 ok")
    );
    let mut by_name = build(
        Kind::Delivery,
        vec![
            (Field::MailFrom, b"a@example.org"),
            (Field::RcptTo, b"b@example.net"),
            (Field::MxHost, b"mx.example.net"),
        ],
    );
    by_name.time = Timestamp { sec: T, usec: 0 };
    assert!(main_line(&o, &by_name).ends_with(" b@example.net dns;mx.example.net smtp;\n"));
    // Sun's K example: a reply, no remote server known.
    let mut k = build(
        Kind::PermanentFailure,
        vec![
            (Field::RcptTo, b"nosuch@example.net"),
            (Field::Note, b"550 5.1.1 <nosuch@example.net>: user unknown"),
        ],
    );
    k.time = Timestamp {
        sec: 1_709_803_300,
        usec: 100_000,
    };
    k.size = 2000;
    assert_eq!(
        main_line(&o, &k),
        "07-Mar-2024 09:21:40.10 tcp_local                 K 2  rfc822;nosuch@example.net nosuch@example.net smtp;550 5.1.1 <nosuch@example.net>: user unknown\n"
    );
    let mut o2 = opts();
    o2.log_format = 2;
    assert_eq!(
        main_line(&o2, &k),
        "07-Mar-2024 09:21:40.10 tcp_local                 K 2 <> rfc822;nosuch@example.net nosuch@example.net smtp;550 5.1.1 <nosuch@example.net>: user unknown\n"
    );
}

#[test]
fn user_name_is_the_auth_user_or_the_process_user() {
    let mut o = opts();
    o.log_username = true;
    // No SMTP AUTH: the user the MTA runs as.
    assert_eq!(
        main_line(&o, &reception()),
        "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com mailsrv\n"
    );
    let mut ev = reception();
    ev.push(Field::AcceptAuthUser, b"jdoe", 100);
    assert!(main_line(&o, &ev).ends_with(" bob@example.com *jdoe\n"));
    // The message's submission user on the dequeue side.
    let mut d = build(
        Kind::Delivery,
        vec![
            (Field::MailFrom, b"a@example.org"),
            (Field::RcptTo, b"b@example.net"),
            (Field::AuthUser, b"carol"),
        ],
    );
    d.time = Timestamp { sec: T, usec: 0 };
    assert_eq!(
        main_line(&o, &d),
        "07-Mar-2024 09:15:02.00 tcp_local                 D 0 a@example.org rfc822;b@example.net b@example.net *carol\n"
    );
    o.log_format = 3;
    assert!(main_line(&o, &reception()).ends_with(" 15:bob@example.com 7:mailsrv\n"));
    // Unknown to the user database: an empty field.
    o.log_format = 1;
    o.process_user.clear();
    assert!(main_line(&o, &reception()).ends_with(" bob@example.com \n"));
    // Taken once, from the process.
    assert_eq!(
        ImtaOptions::defaults(&ctx()).process_user,
        crate::sys::effective_user_name().unwrap_or_default()
    );
}

#[test]
fn notary_flags_without_dsn_parameters() {
    let mut o = opts();
    o.log_notary = true;
    let l = main_line(&o, &reception());
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com 12\n"
    );
    assert_eq!(parse_line(&l, &o).unwrap().notary.as_deref(), Some("12"));
    o.log_format = 3;
    assert!(main_line(&o, &reception()).ends_with(" 15:bob@example.com 12\n"));
}

#[test]
fn reason_keeps_its_spaces() {
    let mut o = opts();
    o.log_reason = true;
    // No reply code: the reason is the whole note, and so is the diagnostic.
    let ev = outbound(
        Kind::PermanentFailure,
        b"message expired\tafter 5 days",
        b"erin@example.com",
    );
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.88 tcp_local                 R 0 erin@example.com rfc822;dave@example.net dave@example.net message expired after 5 days message expired after 5 days\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.reason.as_deref(), Some("message expired after 5 days"));
    assert_eq!(
        e.diagnostic.as_deref(),
        Some("message expired after 5 days")
    );
    // A reason that looks like a diagnostic stays apart from the real one, with the
    // trailing fields after both.
    o.log_connection = 64;
    let ev = outbound(
        Kind::PermanentFailure,
        b"554 smtp;550 x dns;y",
        b"erin@example.com",
    );
    let l = main_line(&o, &ev);
    assert!(
        l.ends_with(" dave@example.net smtp;550 x dns;y dns;mx.example.net (TCP||0|203.0.113.10|25) smtp;554 smtp;550 x dns;y SMTP/example.net/mx.example.net\n"),
        "{l}"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.reason.as_deref(), Some("smtp;550 x dns;y"));
    assert_eq!(
        e.application.as_deref(),
        Some("SMTP/example.net/mx.example.net")
    );
    // Without the diagnostic the reason runs up to the trailing fields.
    o.log_diagnostics = false;
    let l = main_line(&o, &ev);
    assert!(
        l.ends_with(" dave@example.net smtp;550 x dns;y SMTP/example.net/mx.example.net\n"),
        "{l}"
    );
    assert_eq!(
        parse_line(&l, &o).unwrap().reason.as_deref(),
        Some("smtp;550 x dns;y")
    );
}

#[test]
fn length_prefixes_count_characters() {
    assert_eq!(char_len(b"bob@example.com"), 15);
    assert_eq!(char_len("jos\u{e9}@example.org".as_bytes()), 16);
    assert_eq!(char_len("\u{1f600}".as_bytes()), 1);
    // A sequence that is not UTF-8 counts as the one U+FFFD a lossy decoder shows.
    assert_eq!(char_len(b"a\xffb"), 3);
    assert_eq!(char_len(b"a\xf0\x9f\x98b"), 3);
    let mut o = opts();
    o.log_format = 3;
    let mut ev = build(
        Kind::Reception,
        vec![
            (Field::MailFrom, "jos\u{e9}@example.org".as_bytes()),
            (Field::RcptTo, "\u{fc}ber\u{2603}@example.com".as_bytes()),
        ],
    );
    ev.time = Timestamp {
        sec: T,
        usec: 370_000,
    };
    let l = main_line(&o, &ev);
    assert_eq!(
        l,
        "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 0 16:jos\u{e9}@example.org 24:rfc822;\u{fc}ber\u{2603}@example.com 17:\u{fc}ber\u{2603}@example.com\n"
    );
    let e = parse_line(&l, &o).unwrap();
    assert_eq!(e.from, "jos\u{e9}@example.org");
    assert_eq!(e.to, "\u{fc}ber\u{2603}@example.com");
    // Bytes that are not UTF-8, read back through a lossy decoder.
    let mut ev = build(
        Kind::Reception,
        vec![(Field::MailFrom, b"a\xffb@x"), (Field::RcptTo, b"c@y")],
    );
    ev.time = Timestamp { sec: T, usec: 0 };
    let mut out = Out::default();
    Imta::new(o.clone()).format(&ev, &mut out);
    let bytes = &out.bufs[Target::Main as usize];
    assert!(bytes.windows(9).any(|w| w == b" 5:a\xffb@x "));
    let text = String::from_utf8_lossy(bytes);
    assert_eq!(parse_line(&text, &o).unwrap().from, "a\u{fffd}b@x");
    // A length that runs past the line is an error, not a panic.
    assert!(
        parse_line(
            "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 0 9:jos\u{e9} 1:x 1:x",
            &o
        )
        .is_err()
    );
}

#[test]
fn parse_rejects_garbage() {
    let o = opts();
    assert!(parse_line("", &o).is_err());
    assert!(parse_line("07-Mar-2024 09:15:02.37 tcp_local E 3", &o).is_err());
    assert!(
        parse_line(
            "07-Xyz-2024 09:15:02.37 tcp_local    tcp_local    E 3 a rfc822;b b",
            &o
        )
        .is_err()
    );
    assert!(parse_service_line("07/Mar/2024 x").is_err());
}

#[test]
fn the_reader_takes_every_line_the_formatter_writes() {
    use crate::format::parser::Parser;
    // Bytes that are not UTF-8 in a value; with log_format = 3, a connection log whose
    // options (node, process id) are learnt from its lines alone.
    let mut o = opts();
    o.log_format = 3;
    o.log_node = true;
    o.log_process = true;
    o.log_connection = CONN_ENTRIES;
    o.separate_connection_log = true;
    let mut f = Imta::new(o);
    let mut out = Out::default();
    let mut ev = at(
        build(
            Kind::Delivery,
            vec![
                (Field::MailFrom, b"a\xffb@x"),
                (Field::RcptTo, b"c\xc3@y"),
                (Field::DomainName, b"y"),
                (Field::MxIp, b"192.0.2.1"),
            ],
        ),
        0,
    );
    ev.size = u64::MAX;
    f.format(&ev, &mut out);
    // An attempt makes an `O` connection entry.
    ev.kind = Kind::Attempt;
    f.format(&ev, &mut out);
    for t in [Target::Main, Target::Connection] {
        let lines: Vec<Vec<u8>> = out.bufs[t as usize]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        assert!(!lines.is_empty(), "{t:?}");
        let mut p = Parser::new();
        p.begin_file(&lines);
        for l in &lines {
            p.line(l, &mut Vec::new())
                .unwrap_or_else(|e| panic!("{t:?}: {e}: {}", String::from_utf8_lossy(l)));
        }
    }
}
