//! Tests of the ec_logger formatter.

use super::write::{needs_escape, push_escape, push_escaped};
use super::*;
use crate::event::{Event, Field, Kind, Timestamp, build, flags};
use crate::format::{Formatter, Out, Target};

fn line(ev: &Event) -> String {
    let mut out = Out::default();
    Ec::default().format(ev, &mut out);
    let all: Vec<u8> = out.bufs.concat();
    String::from_utf8(all).unwrap()
}

#[test]
fn escaping_matches_the_byte_rule_at_every_position() {
    // Every special byte (and a neighbour of each) at every position of fields of 0 to
    // 40 bytes: the word-at-a-time check must agree with the byte rule.
    for at_too in [false, true] {
        for len in 0..=40usize {
            for pos in 0..len.max(1) {
                for special in [0u8, b'\n', 0x1f, 0x20, b'@', b'A', b'\\', 0x7f, 0x80, 0xff] {
                    let mut field = vec![b'x'; len];
                    if len > 0 {
                        field[pos] = special;
                    }
                    let mut want = Vec::new();
                    for &b in &field {
                        if needs_escape(b, at_too) {
                            push_escape(&mut want, b);
                        } else {
                            want.push(b);
                        }
                    }
                    let mut got = b"prefix".to_vec();
                    push_escaped(&mut got, &field, at_too);
                    assert_eq!(&got[6..], &want[..], "{len} {pos} {special:#x} {at_too}");
                }
            }
        }
    }
}

#[test]
fn timestamps_repeat_and_change() {
    let f = Ec::new(false);
    let mut b = Vec::new();
    for sec in [0, 0, 1_700_000_000, 1_700_000_000, 1_700_000_001, -5, -5, 0] {
        b.clear();
        f.push_ts(&mut b, Timestamp { sec, usec: 7 });
        // A time before the epoch is written as the epoch (no line starts with `-`).
        assert_eq!(b, sec.max(0).to_string().as_bytes());
    }
}

fn msg(kind: Kind, extra: Vec<(Field, &'static [u8])>) -> Event {
    let mut f: Vec<(Field, &[u8])> = vec![
        (Field::MsgId, b"60/00-31337-EF0F3556"),
        (Field::BatchId, b"60/00-31337-EF0F3556"),
        (Field::ConnId, b"1A/20-31337-821F3556"),
        (Field::MailFrom, b"news@sender.example"),
        (Field::RcptTo, b"alice@dest.example"),
        (Field::BindingGroup, b"group-a"),
        (Field::Binding, b"vip-1"),
        (Field::DomainName, b"dest.example"),
        (Field::MxIp, b"198.51.100.25"),
    ];
    f.extend(extra);
    let mut ev = build(kind, f);
    ev.time = Timestamp {
        sec: 1_700_000_042,
        usec: 0,
    };
    ev.received = Timestamp {
        sec: 1_699_999_997,
        usec: 940_000,
    };
    ev.flags |= flags::HAS_RECEIVED;
    ev.size = 4821;
    ev
}

#[test]
fn delivery_line_matches_the_spec_example() {
    let ev = msg(Kind::Delivery, vec![]);
    assert_eq!(
        line(&ev),
        "1700000042@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@D@dest.example@4821@group-a@vip-1@0@44.06@198.51.100.25\n"
    );
}

#[test]
fn transfer_is_x() {
    let mut ev = msg(Kind::Delivery, vec![]);
    ev.flags |= flags::TRANSFER;
    assert!(line(&ev).contains("@X@dest.example@"));
}

#[test]
fn reception_line() {
    let mut ev = msg(
        Kind::Reception,
        vec![(Field::PeerIp, b"192.0.2.10"), (Field::Protocol, b"ESMTP")],
    );
    ev.time = Timestamp {
        sec: 1_700_000_000,
        usec: 0,
    };
    assert_eq!(
        line(&ev),
        "1700000000@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@R@alice@dest.example@news@sender.example@192.0.2.10@4821@esmtp@group-a@vip-1\n"
    );
}

#[test]
fn reception_protocols_are_the_spec_names() {
    let proto = |p: &'static [u8], transfer: bool| {
        let mut ev = msg(Kind::Reception, vec![(Field::Protocol, p)]);
        if transfer {
            ev.flags |= flags::TRANSFER;
        }
        let l = line(&ev);
        l.split('@').nth(11).unwrap().to_owned()
    };
    for (host, want) in [
        (&b""[..], "esmtp"),
        (b"esmtp", "esmtp"),
        (b"SMTP", "esmtp"),
        (b"ESMTPSA", "esmtp"),
        (b"lmtp", "esmtp"),
        (b"HTTP", "rest"),
        (b"https", "rest"),
        (b"rest", "rest"),
        (b"ecstream", "ecstream"),
        (b"Internal", "internal"),
        (b"xfer", "xfer"),
    ] {
        assert_eq!(
            proto(host, false),
            want,
            "{:?}",
            String::from_utf8_lossy(host)
        );
    }
    // A message from another cluster node arrived by transfer, whatever the listener.
    assert_eq!(proto(b"esmtp", true), "xfer");
}

#[test]
fn null_sender_and_missing_ids() {
    let mut ev = build(Kind::Reception, vec![(Field::RcptTo, b"<bob@x.example>")]);
    ev.time = Timestamp { sec: 5, usec: 0 };
    assert_eq!(
        line(&ev),
        "5@00/00-00000-00000000@00/00-00000-00000000@00/00-00000-00000000@R@bob@x.example@@@unknown@0@esmtp@@\n"
    );
}

#[test]
fn transient_and_permanent_failures() {
    let mut ev = msg(
        Kind::TransientFailure,
        vec![(Field::Note, b"421 4.7.0 try again later")],
    );
    ev.stage = 4;
    ev.time = Timestamp {
        sec: 1_700_000_012,
        usec: 0,
    };
    ev.received = Timestamp {
        sec: 1_699_999_997,
        usec: 790_000,
    };
    assert_eq!(
        line(&ev),
        "1700000012@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@T@dest.example@0@group-a@vip-1@4@0@14.21@198.51.100.25@421 4.7.0 try again later\n"
    );
    let mut ev = msg(
        Kind::PermanentFailure,
        vec![(Field::Note, b"550 5.1.1 user@unknown\r\n")],
    );
    ev.stage = 9;
    ev.retries = 2;
    ev.bytes_sent = 4821;
    assert!(line(&ev).ends_with(
        "@P@dest.example@4821@group-a@vip-1@9@2@44.06@198.51.100.25@550 5.1.1 user@unknown\n"
    ));
}

#[test]
fn hostile_values_cannot_add_fields_or_lines() {
    let ev = msg(
        Kind::Reception,
        vec![
            (Field::PeerIp, b"1.2.3.4@evil\n1700000000@x@y@z@D"),
            (Field::Protocol, b"es\\mtp"),
        ],
    );
    let l = line(&ev);
    assert_eq!(l.matches('\n').count(), 1);
    // An unescaped-@ split still gives exactly 14 fields.
    let fields = split_unescaped(l.trim_end());
    assert_eq!(fields.len(), 14, "{l}");
    assert_eq!(fields[9], "1.2.3.4\\@evil\\n1700000000\\@x\\@y\\@z\\@D");
    assert_eq!(fields[11], "es\\\\mtp");
}

fn split_unescaped(l: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut esc = false;
    for c in l.chars() {
        if esc {
            out.last_mut().unwrap().push(c);
            esc = false;
        } else if c == '\\' {
            out.last_mut().unwrap().push(c);
            esc = true;
        } else if c == '@' {
            out.push(String::new());
        } else {
            out.last_mut().unwrap().push(c);
        }
    }
    out
}

#[test]
fn localparts_escape_at_and_backslash() {
    let ev = msg(Kind::Reception, vec![]);
    let mut ev2 = build(
        Kind::Reception,
        vec![
            (Field::MailFrom, br#""a@b\c"@x.example"#),
            (Field::RcptTo, b"r@y.example"),
        ],
    );
    ev2.time = ev.time;
    let l = line(&ev2);
    assert!(
        l.contains("@R@r@y.example@\"a\\@b\\\\c\"@x.example@"),
        "{l}"
    );
}

#[test]
fn rejectlog_line() {
    let mut ev = build(
        Kind::Rejection,
        vec![
            (Field::PeerIp, b"203.0.113.9"),
            (Field::LocalIp, b"192.0.2.1"),
            (Field::AcceptConnId, b"E0/00-31337-F51F3556"),
            (Field::VModule, b"scriptlet"),
            (Field::VPathway, b"default"),
            (Field::VPathwayGroup, b"default"),
            (Field::VCtxConn, b"pathway=default,ehlo_domain=mx.client.example,ehlo_string=\"EHLO mx.client.example\""),
            (Field::VCtxMess, b"mailfrom_localpart=bob"),
            (Field::Note, b"550 5.7.1 relaying denied"),
        ],
    );
    ev.time = Timestamp {
        sec: 1_700_000_100,
        usec: 0,
    };
    ev.peer_port = 51234;
    ev.local_port = 25;
    ev.phase = 6;
    ev.code = 550;
    assert_eq!(
        line(&ev),
        "1700000100: R=\"203.0.113.9:51234\" L=\"192.0.2.1:25\" C=\"E0/00-31337-F51F3556\" PATH=\"default\" PATH_GRP=\"default\" P=\"awaiting rcptto\" E=550 M=scriptlet CTXCONN=[pathway=default,ehlo_domain=mx.client.example,ehlo_string=\"EHLO mx.client.example\"] CTXMESS=[mailfrom_localpart=bob] 550 5.7.1 relaying denied\n"
    );
}

#[test]
fn rejectlog_unknown_phase_ipv6_and_code_from_text() {
    let mut ev = build(
        Kind::Rejection,
        vec![
            (Field::PeerIp, b"2001:db8::1"),
            (Field::VModule, b"a b"),
            (Field::VCtxConn, b"x=]y"),
            (Field::Note, b"421 busy\n"),
        ],
    );
    ev.phase = 99;
    ev.peer_port = 25;
    let l = line(&ev);
    assert_eq!(
        l,
        "0: R=\"[2001:db8::1]:25\" L=\"\" C=\"\" PATH=\"\" PATH_GRP=\"\" P=\"unknown\" E=421 M=a\\x20b CTXCONN=[x=\\x5dy] CTXMESS=[] 421 busy\n"
    );
    assert_eq!(phase_text(-1), "unknown");
    assert_eq!(phase_text(21), "esmtp setup phase");
    assert_eq!(phase_text(22), "unknown");
}

#[test]
fn paniclog_strips_one_newline_and_escapes_the_rest() {
    let mut ev = build(
        Kind::Error,
        vec![(Field::Note, b"scriptlet: line1\nline2\t\x01\n")],
    );
    ev.time = Timestamp {
        sec: 1_700_000_005,
        usec: 0,
    };
    assert_eq!(line(&ev), "1700000005:scriptlet: line1\\nline2\\t\\x01\n");
}

#[test]
fn acct_and_import() {
    let mut ev = build(
        Kind::Acct,
        vec![
            (Field::AcctListener, b"*:2025"),
            (Field::AcctPeer, b"198.51.100.77:40112"),
            (Field::AcctUser, b"admin"),
            (Field::AcctCommand, b"summary"),
            (Field::AcctRole, b"operators"),
        ],
    );
    ev.time = Timestamp {
        sec: 1_700_000_201,
        usec: 0,
    };
    ev.code = b'Z' as i32;
    ev.phase = 1;
    assert_eq!(
        line(&ev),
        "1700000201@Z@*:2025@198.51.100.77:40112@admin@1@summary@operators\n"
    );
    ev.code = b'N' as i32;
    assert_eq!(
        line(&ev),
        "1700000201@N@*:2025@198.51.100.77:40112@admin@1\n"
    );
    ev.code = b'q' as i32;
    assert!(line(&ev).starts_with("1700000201@?@"));
    let mut ev = build(
        Kind::Import,
        vec![
            (Field::MsgId, b"32/10-04242-0001E5F5"),
            (Field::ImportDir, b"/var/spool/restore"),
        ],
    );
    ev.time = Timestamp {
        sec: 1_700_000_400,
        usec: 0,
    };
    ev.phase = 1;
    assert_eq!(
        line(&ev),
        "1700000400@32/10-04242-0001E5F5@I@32/10-04242-0001E5F5@1@/var/spool/restore\n"
    );
}

#[test]
fn lines_read_only_the_fields_the_hooks_copy() {
    use crate::event::FIELD_COUNT;
    let all = Field::ALL;
    assert_eq!(all.len(), FIELD_COUNT);
    let values: Vec<String> = all
        .iter()
        .map(|f| format!("v{}@x.example", *f as u8))
        .collect();
    for kind in Kind::ALL {
        let make = |mask: u64| {
            let fields = all
                .iter()
                .zip(&values)
                .filter(|(f, _)| mask & 1 << **f as u64 != 0)
                .map(|(f, v)| (*f, v.as_bytes()))
                .collect();
            let mut ev = build(kind, fields);
            ev.time = Timestamp { sec: 7, usec: 0 };
            ev.flags = flags::HAS_RECEIVED | flags::TLS | flags::ESMTP | flags::HAS_ACCEPT;
            ev.code = b'Z' as i32;
            line(&ev)
        };
        assert_eq!(make(u64::MAX), make(fields_used(kind)), "{kind:?}");
    }
}

#[test]
fn escaping_agrees_with_the_byte_rule_at_every_position() {
    for at_too in [false, true] {
        for b in 0..=255u8 {
            for len in [1usize, 7, 8, 9, 17] {
                for pos in 0..len {
                    let mut v = vec![b'a'; len];
                    v[pos] = b;
                    let mut fast = Vec::new();
                    push_escaped(&mut fast, &v, at_too);
                    let mut slow = Vec::new();
                    for &c in &v {
                        if needs_escape(c, at_too) {
                            push_escape(&mut slow, c);
                        } else {
                            slow.push(c);
                        }
                    }
                    assert_eq!(fast, slow, "byte {b:#x} at {pos} of {len}");
                }
            }
        }
    }
}

#[test]
fn heartbeats_and_hires() {
    let mut out = Out::default();
    let mut f = Ec::new(true);
    f.heartbeat(
        Timestamp {
            sec: 1_700_000_060,
            usec: 5,
        },
        &mut out,
    );
    assert_eq!(out.bufs[Target::Main as usize], b"1700000060000005@@@@M1\n");
    assert_eq!(
        out.bufs[Target::Reject as usize],
        b"1700000060000005: Marker 1\n"
    );
    let mut out = Out::default();
    Ec::default().heartbeat(
        Timestamp {
            sec: 1_700_000_060,
            usec: 5,
        },
        &mut out,
    );
    assert_eq!(out.bufs[Target::Main as usize], b"1700000060@@@@M1\n");
}

#[test]
fn extreme_numbers_and_one_letter_ids_make_lines_the_reader_takes() {
    use crate::format::read::LineKind;
    let mut p = crate::format::parser::Parser::new();
    let mut recs = Vec::new();
    // A stage outside the table is "unknown state" (22); the largest size is a number.
    let mut ev = msg(Kind::PermanentFailure, vec![(Field::Note, b"550 no")]);
    ev.stage = -3;
    ev.bytes_sent = u64::MAX;
    let l = line(&ev);
    assert!(
        l.contains("@18446744073709551615@group-a@vip-1@22@0@"),
        "{l}"
    );
    p.line(l.trim_end().as_bytes(), &mut recs).unwrap();
    assert_eq!((recs[0].ev.stage, recs[0].ev.bytes_sent), (22, u64::MAX));
    // Ids that look like acctlog's record types or importlog's `I` stay mainlog lines.
    for id in [&b"Z"[..], b"N", b"?", b"I"] {
        let mut ev = build(
            Kind::Delivery,
            vec![
                (Field::MsgId, id),
                (Field::BatchId, id),
                (Field::DomainName, b"d"),
            ],
        );
        ev.time.sec = 1_700_000_000;
        let l = line(&ev);
        let l = l.trim_end().as_bytes();
        assert_eq!(crate::format::parser::detect(l), Some(LineKind::EcMain));
        p.line(l, &mut recs).unwrap();
    }
    // A time before the epoch is the epoch, and still an ec line.
    let mut ev = msg(Kind::Delivery, vec![]);
    ev.time.sec = -62_135_596_800;
    let l = line(&ev);
    assert!(l.starts_with("0@60/00-31337-EF0F3556@"), "{l}");
    p.line(l.trim_end().as_bytes(), &mut recs).unwrap();
}
