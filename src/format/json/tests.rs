use super::read::{self, Value, parse_object, parse_time};
use super::*;
use crate::config::{Entry, Options};
use crate::event::{Event, Field, Kind, TRUNCATED_MARKER, Timestamp, build, flags};
use crate::format::read::Rec;
use crate::format::{Formatter, Level, Out};

const BOOT: u64 = 0x0123_4567_89ab_cdef;
/// 2026-11-23T11:08:57Z
const T: i64 = 1_795_432_137;
const HEAD: &str = r#""logger":"json1","host":"mx1.example.org","pid":4242"#;

fn json() -> Json {
    Json::new(
        "json1",
        "mx1.example.org",
        4242,
        BOOT,
        Target::Main,
        Level::Error,
    )
}

fn at(mut ev: Event, usec: i64) -> Event {
    ev.time = Timestamp::new(T, usec);
    ev
}

fn message_fields() -> Vec<(Field, &'static [u8])> {
    vec![
        (Field::MsgId, b"60/00-31337-EF0F3556"),
        (Field::BatchId, b"60/00-31337-EF0F3556"),
        (Field::ConnId, b"1A/20-31337-821F3556"),
        (Field::MailFrom, b"news@sender.example"),
        (Field::RcptTo, b"alice@dest.example"),
        (Field::BindingGroup, b"group-a"),
        (Field::Binding, b"vip-1"),
    ]
}

fn reception() -> Event {
    let mut f = message_fields();
    f.extend([
        (Field::PeerIp, &b"203.0.113.9"[..]),
        (Field::Helo, b"mail.sender.example"),
        (Field::Protocol, b"ESMTP"),
        (Field::LocalIp, b"192.0.2.1"),
        (Field::AcceptConnId, b"E0/00-31337-F51F3556"),
        (Field::Note, b"queued"),
    ]);
    let mut ev = at(build(Kind::Reception, f), 123_456);
    ev.size = 4821;
    ev.peer_port = 51234;
    ev.local_port = 25;
    ev.flags |= flags::HAS_ACCEPT | flags::HAS_NOTE;
    ev
}

fn outbound(kind: Kind, note: &'static [u8]) -> Event {
    let mut f = message_fields();
    f.extend([
        (Field::DomainName, &b"dest.example"[..]),
        (Field::MxHost, b"mx.dest.example"),
        (Field::MxIp, b"198.51.100.25"),
        (Field::Note, note),
    ]);
    let mut ev = at(build(kind, f), 500_000);
    ev.size = 4821;
    ev.retries = 2;
    ev.received = Timestamp::new(T - 44, 440_000);
    ev.flags |= flags::HAS_RECEIVED | flags::HAS_NOTE;
    ev
}

fn rejection() -> Event {
    let mut ev = at(
        build(
            Kind::Rejection,
            vec![
                (Field::PeerIp, b"203.0.113.9"),
                (Field::Helo, b"bad.example"),
                (Field::Protocol, b"ESMTP"),
                (Field::LocalIp, b"192.0.2.1"),
                (Field::AcceptConnId, b"E0/00-31337-F51F3556"),
                (Field::VMailFrom, b"bob@bad.example"),
                (Field::VRcptTo, b"alice@dest.example"),
                (Field::VModule, b"scriptlet"),
                (Field::VPathway, b"default"),
                (Field::VPathwayGroup, b"default"),
                (Field::VCtxConn, b"pathway=default"),
                (Field::VCtxMess, b"mailfrom_localpart=bob"),
                (Field::Note, b"550 5.7.1 relaying denied\n"),
            ],
        ),
        0,
    );
    ev.phase = 6;
    ev.code = 550;
    ev.peer_port = 51234;
    ev.local_port = 25;
    ev
}

fn error(text: &[u8]) -> Event {
    at(build(Kind::Error, vec![(Field::Note, text)]), 7)
}

fn acct() -> Event {
    let mut ev = at(
        build(
            Kind::Acct,
            vec![
                (Field::AcctListener, b"*:2025"),
                (Field::AcctPeer, b"198.51.100.77:40112"),
                (Field::AcctUser, b"admin"),
                (Field::AcctCommand, b"summary"),
                (Field::AcctRole, b"operators"),
            ],
        ),
        0,
    );
    ev.code = i32::from(b'Z');
    ev.phase = 1;
    ev
}

fn import() -> Event {
    let mut ev = at(
        build(
            Kind::Import,
            vec![
                (Field::MsgId, b"32/10-04242-0001E5F5"),
                (Field::ImportNewId, b"33/10-04242-0001E5F6"),
                (Field::ImportDir, b"/var/spool/restore"),
            ],
        ),
        0,
    );
    ev.phase = 2;
    ev
}

/// The lines `f` writes for `ev`, per target.
fn lines_of(f: &mut Json, ev: &Event) -> [String; crate::format::TARGET_COUNT] {
    let mut out = Out::default();
    f.format(ev, &mut out);
    out.bufs.map(|b| String::from_utf8(b).expect("UTF-8"))
}

fn line(f: &mut Json, ev: &Event) -> String {
    let l = lines_of(f, ev);
    let main = l[Target::Main as usize].clone();
    assert!(
        main.ends_with('\n') && main.matches('\n').count() == 1,
        "{main:?}"
    );
    main
}

fn common(seq: u64, ty: &str, usec: &str) -> String {
    format!(
        r#"{{"v":1,"time":"2026-11-23T11:08:57.{usec}Z","type":"{ty}",{HEAD},"seq":{seq},"event_id":"0123456789abcdef{seq:016x}""#
    )
}

const IDS: &str = r#","id":"60/00-31337-EF0F3556","batch_id":"60/00-31337-EF0F3556","conn_id":"1A/20-31337-821F3556","sender":"news@sender.example","rcpt":"alice@dest.example","size":4821,"binding":"vip-1","binding_group":"group-a""#;

#[test]
fn the_exact_line_of_every_record_type() {
    let mut f = json();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    assert_eq!(
        line(&mut f, &reception()),
        format!(
            r#"{}{IDS},"protocol":"ESMTP","peer_ip":"203.0.113.9","peer_port":51234,"local_ip":"192.0.2.1","local_port":25,"helo":"mail.sender.example","note":"queued"}}
"#,
            common(next(), "reception", "123456")
        )
    );
    let out = r#","retries":2,"queue_time":44.06,"domain":"dest.example","mx":"mx.dest.example","mx_ip":"198.51.100.25""#;
    for (kind, transfer, ty, note, codes) in [
        (
            Kind::Delivery,
            false,
            "delivery",
            &b"250 2.0.0 OK queued as 4821"[..],
            r#","code":250,"dsn":"2.0.0""#,
        ),
        (
            Kind::Delivery,
            true,
            "transfer",
            b"250 ok",
            r#","code":250"#,
        ),
        (Kind::Attempt, false, "attempt", b"", ""),
        (
            Kind::TransientFailure,
            false,
            "transient_failure",
            b"451 4.7.1 Greylisted, try again",
            r#","code":451,"dsn":"4.7.1","bounce_class":70,"bounce_category":"Soft""#,
        ),
        (
            Kind::PermanentFailure,
            false,
            "permanent_failure",
            b"550-5.1.1 no such user",
            r#","code":550,"dsn":"5.1.1","bounce_class":10,"bounce_category":"Hard""#,
        ),
        (
            Kind::TransientFailure,
            false,
            "transient_failure",
            b"Connection refused",
            r#","bounce_class":70,"bounce_category":"Soft""#,
        ),
        (
            Kind::PermanentFailure,
            false,
            "permanent_failure",
            b"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
            r#","code":554,"dsn":"5.7.1","bounce_class":51,"bounce_category":"Block""#,
        ),
        // A failure without a text: nothing to read, but the keys are there.
        (
            Kind::PermanentFailure,
            false,
            "permanent_failure",
            b"",
            r#","bounce_class":1,"bounce_category":"Undetermined""#,
        ),
    ] {
        let mut ev = outbound(kind, note);
        if transfer {
            ev.flags |= flags::TRANSFER;
        }
        let response = if note.is_empty() {
            String::new()
        } else {
            format!(r#","response":"{}""#, std::str::from_utf8(note).unwrap())
        };
        assert_eq!(
            line(&mut f, &ev),
            format!(
                "{}{IDS}{out}{response}{codes}}}\n",
                common(next(), ty, "500000")
            )
        );
    }
    assert_eq!(
        line(&mut f, &rejection()),
        format!(
            r#"{},"conn_id":"E0/00-31337-F51F3556","protocol":"ESMTP","peer_ip":"203.0.113.9","peer_port":51234,"local_ip":"192.0.2.1","local_port":25,"helo":"bad.example","phase":6,"phase_text":"awaiting rcptto","sender":"bob@bad.example","rcpt":"alice@dest.example","module":"scriptlet","pathway":"default","pathway_group":"default","ctx_conn":"pathway=default","ctx_mess":"mailfrom_localpart=bob","text":"550 5.7.1 relaying denied","code":550,"dsn":"5.7.1"}}
"#,
            common(next(), "rejection", "000000")
        )
    );
    assert_eq!(
        line(&mut f, &error(b"warning: disk almost full\n")),
        format!(
            "{},\"level\":\"warning\",\"text\":\"disk almost full\"}}\n",
            common(next(), "error", "000007")
        )
    );
    assert_eq!(
        line(&mut f, &error(b"cannot resolve relay")),
        format!(
            "{},\"level\":\"error\",\"text\":\"cannot resolve relay\"}}\n",
            common(next(), "error", "000007")
        )
    );
    assert_eq!(
        line(&mut f, &acct()),
        format!(
            r#"{},"auth":"authorization","listener":"*:2025","peer":"198.51.100.77:40112","user":"admin","result":1,"command":"summary","role":"operators"}}
"#,
            common(next(), "auth", "000000")
        )
    );
    assert_eq!(
        line(&mut f, &import()),
        format!(
            r#"{},"id":"32/10-04242-0001E5F5","new_id":"33/10-04242-0001E5F6","result":2,"spool_dir":"/var/spool/restore"}}
"#,
            common(next(), "import", "000000")
        )
    );
    assert_eq!(f.seq(), 14);
}

#[test]
fn keys_the_host_gave_no_value_for_are_absent() {
    let mut f = json();
    let mut ev = at(Event::new(Kind::Delivery), 0);
    ev.retries = 0;
    assert_eq!(
        line(&mut f, &ev),
        format!(
            "{},\"size\":0,\"retries\":0}}\n",
            common(1, "delivery", "000000")
        )
    );
    let ev = at(Event::new(Kind::Reception), 0);
    assert_eq!(
        line(&mut f, &ev),
        format!("{},\"size\":0}}\n", common(2, "reception", "000000"))
    );
    let mut ev = at(Event::new(Kind::Rejection), 0);
    ev.phase = 99;
    assert_eq!(
        line(&mut f, &ev),
        format!(
            "{},\"phase\":99,\"phase_text\":\"unknown\"}}\n",
            common(3, "rejection", "000000")
        )
    );
    // A rejection text without a reply code: the validate context's code.
    let mut ev = at(build(Kind::Rejection, vec![(Field::Note, b"go away")]), 0);
    ev.code = 554;
    assert_eq!(
        line(&mut f, &ev),
        format!(
            "{},\"phase\":0,\"phase_text\":\"just connected\",\"text\":\"go away\",\"code\":554}}\n",
            common(4, "rejection", "000000")
        )
    );
}

#[test]
fn errors_go_to_the_paniclog_when_there_is_one() {
    let mut f = Json::new("j", "h", 1, BOOT, Target::Panic, Level::Warning);
    let l = lines_of(&mut f, &error(b"unmarked"));
    assert_eq!(l[Target::Main as usize], "");
    assert!(
        l[Target::Panic as usize].ends_with(",\"level\":\"warning\",\"text\":\"unmarked\"}\n"),
        "{:?}",
        l[Target::Panic as usize]
    );
    let l = lines_of(&mut f, &reception());
    assert_eq!(l[Target::Panic as usize], "");
    assert!(l[Target::Main as usize].contains("\"seq\":2,"));
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

fn ctx() -> FormatContext {
    FormatContext {
        error_default_level: Level::Notice,
        pid: 77,
        hostname: "mx9.example.net".into(),
    }
}

#[test]
fn setup_reads_the_files_and_names_the_logger() {
    let es = entries(&[]);
    let mut o = Options::new(&es);
    let s = setup(&mut o, &ctx(), "events").unwrap();
    o.finish().unwrap();
    assert_eq!(
        s.files,
        vec![FileSpec {
            target: Target::Main,
            path: DEFAULT_MAINLOG.into(),
            mode: 0o644,
            key: "mainlog",
        }]
    );
    assert!(s.records && s.heartbeat.is_none());
    let mut f = s.formatter;
    let mut out = Out::default();
    f.format(&error(b"x"), &mut out);
    let text = String::from_utf8(out.bufs[Target::Main as usize].clone()).unwrap();
    assert!(
        text.contains(r#""logger":"events","host":"mx9.example.net","pid":77,"seq":1,"#),
        "{text}"
    );
    assert!(text.contains(r#""level":"notice""#), "{text}");

    let es = entries(&[
        ("mainlog", "/l/m.json"),
        ("mainlog_mode", "0600"),
        ("paniclog", "/l/p.json"),
        ("paniclog_mode", "0640"),
    ]);
    let mut o = Options::new(&es);
    let s = setup(&mut o, &ctx(), "events").unwrap();
    o.finish().unwrap();
    assert_eq!(
        s.files,
        vec![
            FileSpec {
                target: Target::Main,
                path: "/l/m.json".into(),
                mode: 0o600,
                key: "mainlog",
            },
            FileSpec {
                target: Target::Panic,
                path: "/l/p.json".into(),
                mode: 0o640,
                key: "paniclog",
            }
        ]
    );
    let mut f = s.formatter;
    let mut out = Out::default();
    f.format(&error(b"x"), &mut out);
    assert!(out.bufs[Target::Main as usize].is_empty());
    assert_eq!(
        out.bufs[Target::Panic as usize]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        1
    );

    let es = entries(&[("heartbeat", "60")]);
    let mut o = Options::new(&es);
    setup(&mut o, &ctx(), "events").unwrap();
    let e = o.finish().unwrap_err();
    assert!(e.to_string().contains("heartbeat"), "{e}");
}

#[test]
fn two_loggers_have_different_event_ids() {
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let es = entries(&[]);
            let mut o = Options::new(&es);
            let mut f = setup(&mut o, &ctx(), "events").unwrap().formatter;
            let mut out = Out::default();
            f.format(&error(b"x"), &mut out);
            let v: serde_json::Value =
                serde_json::from_slice(&out.bufs[Target::Main as usize]).unwrap();
            v["event_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids[0].len(), 32);
    assert!(ids[0].ends_with("0000000000000001"), "{}", ids[0]);
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn times_are_rfc3339_utc_with_microseconds() {
    let mut f = json();
    let cases: [(i64, i64, &str); 6] = [
        (0, 0, "1970-01-01T00:00:00.000000Z"),
        (951_868_799, 999_999, "2000-02-29T23:59:59.999999Z"),
        (-1, 1, "1969-12-31T23:59:59.000001Z"),
        (T, 123_456, "2026-11-23T11:08:57.123456Z"),
        (i64::MAX, 0, "9999-12-31T23:59:59.999999Z"),
        (i64::MIN / 2, 5, "0000-01-01T00:00:00.000000Z"),
    ];
    for (sec, usec, want) in cases {
        let mut ev = Event::new(Kind::Error);
        ev.time = Timestamp::new(sec, usec);
        let l = line(&mut f, &ev);
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["time"], want);
        if (0..4_000_000_000).contains(&sec) {
            assert_eq!(parse_time(want.as_bytes()), Some(ev.time), "{want}");
        }
    }
    assert_eq!(
        parse_time(b"2026-11-23T12:08:57.5+01:00"),
        Some(Timestamp::new(T, 500_000))
    );
    assert_eq!(
        parse_time(b"2026-11-23T10:38:57.1234567-00:30"),
        Some(Timestamp::new(T, 123_456))
    );
    for bad in [
        &b"2026-11-23T11:08:57"[..],
        b"2026-13-23T11:08:57Z",
        b"2026-11-23T11:08:57.Z",
        b"2026-11-23 11:08:57+0100",
        b"yesterday",
    ] {
        assert_eq!(parse_time(bad), None, "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn queue_times_are_seconds_with_a_decimal() {
    let s = |m: u64| {
        let mut b = Vec::new();
        push_seconds(&mut b, m);
        String::from_utf8(b).unwrap()
    };
    assert_eq!(s(0), "0.0");
    assert_eq!(s(44_060_000), "44.06");
    assert_eq!(s(144_000_000), "144.0");
    assert_eq!(s(1), "0.000001");
    assert_eq!(s(12_345_678), "12.345678");
}

/// The strings of a record, parsed back by serde_json.
fn parsed(line: &str) -> serde_json::Map<String, serde_json::Value> {
    assert!(
        line.ends_with('\n') && line.matches('\n').count() == 1,
        "{line:?}"
    );
    match serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")) {
        serde_json::Value::Object(m) => m,
        v => panic!("not an object: {v}"),
    }
}

#[test]
fn hostile_values_give_one_line_that_parses_back_to_them() {
    let nasty: Vec<&[u8]> = vec![
        b"a\r\nb",
        b"nul\0byte",
        b"\"quoted\" \\back\\slash\\",
        b"at@sign@@",
        b"\x01\x08\x0c\x1b\x1f\x7f tab\t",
        "caf\u{e9} \u{2028}\u{2029} \u{85} \u{1f600}".as_bytes(),
        b"\"},\"type\":\"delivery\"",
        b"\\u0041",
    ];
    let mut f = json();
    for v in &nasty {
        let mut fields = vec![(Field::MsgId, &b"id"[..])];
        fields.extend([
            (Field::MailFrom, *v),
            (Field::RcptTo, *v),
            (Field::DomainName, *v),
            (Field::Note, *v),
        ]);
        let ev = at(build(Kind::TransientFailure, fields), 0);
        let l = line(&mut f, &ev);
        assert!(
            !l[..l.len() - 1].bytes().any(|b| b < 0x20 || b == 0x7f),
            "{l:?}"
        );
        let m = parsed(&l);
        let want = std::str::from_utf8(v).unwrap();
        for k in ["sender", "rcpt", "domain", "response"] {
            assert_eq!(m[k], want, "{k} of {l}");
        }
        assert_eq!(m["type"], "transient_failure");
        assert_eq!(f.take_replaced(), 0);
    }
}

#[test]
fn bytes_that_are_not_utf8_become_one_replacement_each_and_are_counted() {
    let mut f = json();
    let cases: [(&[u8], u64); 6] = [
        (b"a\xffb", 1),
        (b"\xc3", 1),
        (b"\xe2\x82", 1),
        (b"\xe2\x82\xe2\x82x", 2),
        (b"\xed\xa0\x80", 3),
        (b"\xf0\x9f\x98\x80\x80", 1),
    ];
    for (v, n) in cases {
        let ev = at(build(Kind::Error, vec![(Field::Note, v)]), 0);
        let l = line(&mut f, &ev);
        assert_eq!(
            parsed(&l)["text"],
            String::from_utf8_lossy(v).as_ref(),
            "{l}"
        );
        assert_eq!(f.take_replaced(), n, "{v:?}");
        assert_eq!(f.take_replaced(), 0);
    }
}

#[test]
fn a_one_mebibyte_field_is_one_line() {
    let mut big = vec![b'x'; 1 << 20];
    for (i, b) in big.iter_mut().enumerate() {
        match i % 997 {
            0 => *b = b'\n',
            1 => *b = b'"',
            2 => *b = 0,
            3 => *b = 0xff,
            _ => {}
        }
    }
    let mut f = json();
    let ev = at(
        build(
            Kind::Delivery,
            vec![(Field::RcptTo, &big), (Field::Note, &big)],
        ),
        0,
    );
    let l = line(&mut f, &ev);
    let m = parsed(&l);
    let want = String::from_utf8_lossy(&big);
    assert_eq!(m["rcpt"], want.as_ref());
    assert_eq!(m["response"], want.as_ref());
    assert_eq!(
        f.take_replaced(),
        2 * big.iter().filter(|&&b| b == 0xff).count() as u64
    );
}

#[test]
fn a_value_cut_at_max_field_keeps_whole_characters_and_its_marker() {
    let mut ev = at(Event::new(Kind::Delivery), 0);
    // 20 bytes allowed: the cut falls inside the third euro sign.
    ev.push(Field::Note, "\u{20ac}".repeat(10).as_bytes(), 20);
    let l = line(&mut json(), &ev);
    let want = format!(
        "{}{}",
        "\u{20ac}".repeat(6),
        std::str::from_utf8(TRUNCATED_MARKER).unwrap()
    );
    assert_eq!(parsed(&l)["response"], want.as_str());
}

#[test]
fn only_the_fields_used_are_read() {
    let mut all: Vec<(Field, Vec<u8>)> = Field::ALL
        .iter()
        .map(|f| (*f, format!("v-{f:?}").into_bytes()))
        .collect();
    all.last_mut().unwrap().1 = b"250 2.0.0 ok".to_vec();
    for kind in Kind::ALL {
        let used = fields_used(kind);
        let full = build(kind, all.iter().map(|(f, v)| (*f, &v[..])).collect());
        let part = build(
            kind,
            all.iter()
                .filter(|(f, _)| used & 1 << *f as u64 != 0)
                .map(|(f, v)| (*f, &v[..]))
                .collect(),
        );
        assert_eq!(
            line(&mut json(), &full),
            line(&mut json(), &part),
            "{kind:?}"
        );
    }
}

fn read_back(l: &str) -> Vec<Rec> {
    let mut out = Vec::new();
    read::line(l.trim_end().as_bytes(), &mut out).unwrap_or_else(|e| panic!("{e}: {l}"));
    out
}

#[test]
fn records_read_back_into_the_events_that_made_them() {
    let mut f = json();
    let r = reception();
    let got = &read_back(&line(&mut f, &r))[0].ev;
    assert_eq!(got.kind, Kind::Reception);
    for field in [
        Field::MsgId,
        Field::BatchId,
        Field::ConnId,
        Field::MailFrom,
        Field::RcptTo,
        Field::Binding,
        Field::BindingGroup,
        Field::PeerIp,
        Field::LocalIp,
        Field::Helo,
        Field::Protocol,
        Field::Note,
    ] {
        assert_eq!(got.get(field), r.get(field), "{field:?}");
    }
    assert_eq!(
        (got.time, got.size, got.peer_port, got.local_port),
        (r.time, r.size, r.peer_port, r.local_port)
    );
    assert!(got.has(flags::ESMTP) && got.has(flags::HAS_ACCEPT));

    for (kind, transfer) in [
        (Kind::Delivery, false),
        (Kind::Delivery, true),
        (Kind::Attempt, false),
        (Kind::TransientFailure, false),
        (Kind::PermanentFailure, false),
    ] {
        let mut ev = outbound(kind, b"451 4.7.1 later\r\nand \"more\"");
        if transfer {
            ev.flags |= flags::TRANSFER;
        }
        let got = &read_back(&line(&mut f, &ev))[0].ev;
        assert_eq!(got.kind, kind);
        assert_eq!(got.has(flags::TRANSFER), transfer);
        for field in [
            Field::MsgId,
            Field::MailFrom,
            Field::RcptTo,
            Field::DomainName,
            Field::MxHost,
            Field::MxIp,
            Field::Note,
        ] {
            assert_eq!(got.get(field), ev.get(field), "{field:?}");
        }
        assert_eq!((got.time, got.received), (ev.time, ev.received));
        assert_eq!((got.size, got.retries), (ev.size, ev.retries));
    }

    let rj = rejection();
    let got = &read_back(&line(&mut f, &rj))[0].ev;
    assert_eq!((got.kind, got.phase, got.code), (Kind::Rejection, 6, 550));
    assert_eq!(got.get(Field::Note), b"550 5.7.1 relaying denied");
    assert_eq!(got.get(Field::VRcptTo), b"alice@dest.example");
    assert_eq!(got.get(Field::AcceptConnId), b"E0/00-31337-F51F3556");

    let recs = read_back(&line(&mut f, &error(b"fatal: out of memory")));
    assert_eq!(recs[0].ev.get(Field::Note), b"fatal: out of memory");
    assert_eq!(recs[0].source, "json1");

    assert!(read_back(&line(&mut f, &acct())).is_empty());
    assert!(read_back(&line(&mut f, &import())).is_empty());
}

#[test]
fn the_reader_takes_json_from_elsewhere_and_refuses_what_is_not_a_record() {
    // Spaces, escapes a shipper may use, and keys of a later version.
    let l = br#" { "v" : 1, "time":"2026-11-23T11:08:57Z", "type":"delivery", "rcpt":"\u00e9\ud83d\ude00\/x", "size": 12, "new_key": [1] } "#;
    let mut out = Vec::new();
    let e = read::line(l, &mut out).unwrap_err();
    assert!(e.contains("nested"), "{e}");
    let l = br#" { "v" : 1, "time":"2026-11-23T11:08:57Z", "type":"delivery", "rcpt":"\u00e9\ud83d\ude00\/x", "size": 12, "new_key": true } "#;
    read::line(l, &mut out).unwrap();
    assert_eq!(out[0].ev.get(Field::RcptTo), "\u{e9}\u{1f600}/x".as_bytes());
    assert_eq!(out[0].ev.size, 12);
    for (bad, why) in [
        (
            &br#"{"v":2,"time":"2026-11-23T11:08:57Z","type":"delivery"}"#[..],
            "version",
        ),
        (
            br#"{"time":"2026-11-23T11:08:57Z","type":"delivery"}"#,
            "\"v\"",
        ),
        (br#"{"v":1,"type":"delivery"}"#, "time"),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"bounce"}"#,
            "unknown record type",
        ),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"delivery","size":"9"}"#,
            "size",
        ),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"delivery","size":-1}"#,
            "size",
        ),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"rejection"}"#,
            "phase",
        ),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"delivery""#,
            "expected",
        ),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"delivery"} x"#,
            "after",
        ),
        (
            b"{\"v\":1,\"time\":\"2026-11-23T11:08:57Z\",\"type\":\"delivery\",\"id\":\"a\nb\"}",
            "control",
        ),
        (br#"{"v":01}"#, "number"),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"permanent_failure","bounce_class":11}"#,
            "\"bounce_class\" 11 is not one of Momentum's",
        ),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"permanent_failure","bounce_class":"10"}"#,
            "\"bounce_class\" is not a number",
        ),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"transient_failure","bounce_class":10,"bounce_category":"Soft"}"#,
            "\"bounce_category\" \"Soft\" is not the category of class 10 (Hard)",
        ),
        (
            br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"permanent_failure","bounce_category":"hard"}"#,
            "\"bounce_category\" \"hard\" is not one of Momentum's",
        ),
    ] {
        let e = read::line(bad, &mut out).unwrap_err();
        assert!(e.contains(why), "{}: {e}", String::from_utf8_lossy(bad));
    }
    assert_eq!(
        parse_object(br#"{"a":null,"b":-1.5e3}"#).unwrap(),
        vec![
            (b"a".to_vec(), Value::Null),
            (b"b".to_vec(), Value::Num(b"-1.5e3"))
        ]
    );
}

#[test]
fn ids_and_time_of_a_line() {
    let mut f = json();
    let l = line(&mut f, &import());
    let ids = read::ids(l.trim_end().as_bytes());
    assert_eq!(
        ids.ids,
        vec![
            b"32/10-04242-0001E5F5".to_vec(),
            b"33/10-04242-0001E5F6".to_vec()
        ]
    );
    assert_eq!(read::time(l.as_bytes()), Some(Timestamp::new(T, 0)));
}

/// A failure's `bounce_class` is the event's recorded class (kept by a conversion and
/// counted by the report), even where the classifier would read the text otherwise.
#[test]
fn a_failure_keeps_its_bounce_class() {
    let mut out = Vec::new();
    read::line(
        br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"permanent_failure","response":"552 5.2.2 mailbox full","bounce_class":25,"bounce_category":"Admin"}"#,
        &mut out,
    )
    .unwrap();
    read::line(
        br#"{"v":1,"time":"2026-11-23T11:08:57Z","type":"permanent_failure","response":"552 5.2.2 mailbox full"}"#,
        &mut out,
    )
    .unwrap();
    assert_eq!(out[0].ev.class, 25);
    assert_eq!(
        crate::format::bounce::failure_class(&out[0].ev),
        crate::format::bounce::BounceClass::AdminFailure
    );
    assert_eq!(out[1].ev.class, 0);
    assert_eq!(
        crate::format::bounce::failure_class(&out[1].ev),
        crate::format::bounce::BounceClass::MailboxFull
    );
}
