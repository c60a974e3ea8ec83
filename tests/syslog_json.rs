//! json_logger over `syslog+tcp://` into a central rsyslogd of the test's own: each record
//! is one RFC 5424 message whose MSG is the JSON object, APP-NAME `mtalog`, PROCID the
//! process id, MSGID `mainlog`, the severity by the event. The central file holds exactly
//! one line per event, and each is the record a json_logger writing a file makes of the
//! same event (the same bytes, but for the boot id in `event_id`, which each logger draws
//! for itself).

mod syslog_support;

use std::path::Path;
use std::time::Duration;

use mtalog::event::{Field, Kind, Timestamp};
use mtalog::logger::Logger;
use syslog_support::*;

/// Events per kind sent.
const EACH: u64 = 400;

/// The same traffic to `l`: deliveries, deferrals, bounces and errors, with notes that
/// JSON must escape (quotes, backslashes, a line break, control bytes, bytes that are not
/// UTF-8, text that is).
fn traffic(l: &Logger) {
    let t0 = Timestamp {
        sec: 1_795_392_000,
        usec: 0,
    };
    for i in 0..EACH {
        for (j, kind) in [
            Kind::Delivery,
            Kind::TransientFailure,
            Kind::PermanentFailure,
            Kind::Error,
        ]
        .into_iter()
        .enumerate()
        {
            let mut ev = l.begin(kind).expect("a box");
            ev.time = Timestamp {
                sec: t0.sec + i as i64,
                usec: 1000 * j as u32 + 7,
            };
            let note: Vec<u8> = match kind {
                Kind::Delivery => format!("250 2.0.0 Ok: queued as id-{i}-").into_bytes(),
                Kind::TransientFailure => {
                    format!("421 4.7.0 \"try\" \\later\\ id-{i}-\r\nnext\x01").into_bytes()
                }
                Kind::PermanentFailure => {
                    let mut b = format!("550 5.1.1 id-{i}- unknown ").into_bytes();
                    b.extend_from_slice(b"\xff\xfe caf\xc3\xa9");
                    b
                }
                _ => format!("warning: scriptlet id-{i}-: disk nearly full").into_bytes(),
            };
            if kind != Kind::Error {
                ev.push(
                    Field::MsgId,
                    format!("60/00-{i:05}-EF0F3556").as_bytes(),
                    4096,
                );
                ev.push(Field::MailFrom, b"news@sender.example", 4096);
                ev.push(Field::RcptTo, b"alice@dest.example", 4096);
                ev.push(Field::DomainName, b"dest.example", 4096);
                ev.push(Field::MxIp, b"198.51.100.25", 4096);
            }
            ev.push(Field::Note, &note, 4096);
            assert!(l.submit(ev));
        }
    }
}

/// `line` with the boot id of its `event_id` (the 16 digits before `seq`) left out.
fn without_boot_id(line: &str) -> String {
    let key = "\"event_id\":\"";
    let at = line.find(key).expect("event_id") + key.len();
    format!("{}{}", &line[..at], &line[at + 16..])
}

fn severity(line: &str) -> &'static str {
    match serde_json::from_str::<serde_json::Value>(line).unwrap()["type"]
        .as_str()
        .unwrap()
    {
        "delivery" => "info",
        "transient_failure" => "notice",
        "permanent_failure" => "warning",
        "error" => "warning", // the texts start with `warning:`
        t => panic!("unexpected type {t}"),
    }
}

fn run(dir: &Path, port: u16, central: &Path) {
    // The records as a file holds them.
    let local = dir.join("events.json");
    let cfg = format!("mainlog = \"{}\"\n", local.display());
    let l = Logger::open("json_logger", "json1", &cfg).unwrap();
    traffic(&l);
    l.close().unwrap();
    let want = lines(&local);
    assert_eq!(want.len() as u64, 4 * EACH);

    // The same events to the central rsyslogd (error records too: json_logger writes
    // them to mainlog when no paniclog is given).
    let cfg = format!("mainlog = \"syslog+tcp://127.0.0.1:{port}\"\nsyslog_facility = local3\n");
    let l = Logger::open("json_logger", "json1", &cfg).unwrap();
    traffic(&l);
    l.close().unwrap();
    let s = l.stats();
    assert_eq!(
        (s.written, s.write_errors, s.resent, s.dropped),
        (4 * EACH, 0, 0, 0)
    );
    assert_eq!(
        s.invalid_utf8,
        2 * EACH,
        "two bytes, two sequences, per bounce note"
    );

    // Exactly one line per event, in order, each the file's record.
    wait_lines(central, want.len(), Duration::from_secs(20));
    // Nothing more arrives.
    std::thread::sleep(Duration::from_millis(300));
    let got = lines(central);
    assert_eq!(got.len(), want.len(), "one message per event");
    let pid = std::process::id().to_string();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let (head, msg) = g
            .split_once(" {")
            .map(|(h, m)| (h, format!("{{{m}")))
            .unwrap();
        assert_eq!(
            head,
            format!("local3.{} mtalog {pid} mainlog", severity(w)),
            "line {i}: {g}"
        );
        assert_eq!(without_boot_id(&msg), without_boot_id(w), "line {i}");
        // The record parses, and its seq counts from 1.
        let v: serde_json::Value = serde_json::from_str(&msg).unwrap();
        assert_eq!(v["seq"].as_u64(), Some(i as u64 + 1));
    }
}

#[test]
fn json_records_arrive_as_the_messages_of_a_central_rsyslog() {
    if rsyslogd().is_none() {
        return;
    }
    let dir = scratch("json-tcp");
    let port = free_port();
    let central = dir.join("central.log");
    let _d = rsyslog(
        &dir,
        &format!(
            "module(load=\"imtcp\")\n\
             template(name=\"t\" type=\"string\" \
             string=\"%syslogfacility-text%.%syslogseverity-text% %APP-NAME% %PROCID% %MSGID% %msg%\\n\")\n\
             ruleset(name=\"r\") {{ {} }}\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"r\")\n",
            rsyslog_file_action(&central)
        ),
        tcp_listens(port),
    );
    run(&dir, port, &central);
}
