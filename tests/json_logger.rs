//! json_logger through the Rust API and the writer thread: records from several threads
//! come out whole, in seq order, with unique event ids; mtalog's own faults become
//! `error` records of the mainlog; bytes that are not UTF-8 are counted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mtalog::event::{Field, Kind};
use mtalog::logger::Logger;
use serde_json::{Map, Value};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mtalog-json-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn records(path: &Path) -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'));
    text.lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(m)) => m,
            other => panic!("{other:?}: {l}"),
        })
        .collect()
}

fn delivery(l: &Logger, id: &str, note: &[u8]) {
    let mut ev = l.begin(Kind::Delivery).unwrap();
    ev.time.sec = 1_700_000_000;
    ev.push(Field::MsgId, id.as_bytes(), 4096);
    ev.push(Field::DomainName, b"d.example", 4096);
    ev.push(Field::Note, note, 4096);
    assert!(l.submit(ev));
}

#[test]
fn records_from_several_threads_are_whole_in_seq_order_and_unique() {
    let d = dir("threads");
    let cfg = format!("mainlog = \"{}/events.json\"\n", d.display());
    let l = Arc::new(Logger::open("json_logger", "mt", &cfg).unwrap());
    let hs: Vec<_> = (0..4)
        .map(|t| {
            let l = Arc::clone(&l);
            std::thread::spawn(move || {
                for i in 0..5000 {
                    delivery(&l, &format!("t{t}-{i}"), b"250 \"ok\"\r\n");
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    l.close().unwrap();
    let recs = records(&d.join("events.json"));
    assert_eq!(recs.len(), 20_000);
    let mut ids = std::collections::HashSet::new();
    let mut next = [0usize; 4];
    let boot = recs[0]["event_id"].as_str().unwrap()[..16].to_owned();
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["seq"].as_u64(), Some(i as u64 + 1));
        let eid = r["event_id"].as_str().unwrap();
        assert_eq!(eid, format!("{boot}{:016x}", i + 1));
        assert!(ids.insert(r["id"].as_str().unwrap().to_owned()));
        assert_eq!(r["response"], "250 \"ok\"\r\n");
        // Each thread's records in the order it logged them.
        let (t, n) = r["id"].as_str().unwrap()[1..].split_once('-').unwrap();
        let t: usize = t.parse().unwrap();
        assert_eq!(n.parse::<usize>().unwrap(), next[t]);
        next[t] += 1;
    }
    assert_eq!(l.stats().written, 20_000);
}

#[test]
fn mtalogs_own_faults_are_error_records_of_the_mainlog() {
    let d = dir("faults");
    let logs = d.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let cfg = format!("mainlog = \"{}/events.json\"\n", logs.display());
    let l = Logger::open("json_logger", "faulty", &cfg).unwrap();
    delivery(&l, "a", b"");
    // The directory goes away: the reopen fails and the logger keeps writing to the file
    // it has, with an error record that says so.
    let moved = d.join("moved");
    std::fs::rename(&logs, &moved).unwrap();
    assert!(l.reopen().is_err());
    delivery(&l, "b", b"");
    l.close().unwrap();
    let recs = records(&moved.join("events.json"));
    let types: Vec<&str> = recs.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["delivery", "error", "delivery"], "{recs:?}");
    let e = &recs[1];
    assert_eq!(e["level"], "error");
    let text = e["text"].as_str().unwrap();
    assert!(
        text.starts_with("mtalog: reopen of ") && text.contains("failed"),
        "{text}"
    );
    assert_eq!(e["logger"], "faulty");
    assert_eq!(
        recs.iter()
            .map(|r| r["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[test]
fn bytes_that_are_not_utf8_are_counted() {
    let d = dir("utf8");
    let cfg = format!(
        "mainlog = \"{0}/events.json\"\npaniclog = \"{0}/errors.json\"\n",
        d.display()
    );
    let l = Logger::open("json_logger", "u", &cfg).unwrap();
    delivery(&l, "a\u{e9}", b"\xff\xfe ok \xc3");
    delivery(&l, "b", b"fine");
    l.close().unwrap();
    // 0xff and 0xfe are one sequence each; 0xc3 alone at the end is one.
    assert_eq!(l.stats().invalid_utf8, 3);
    let recs = records(&d.join("events.json"));
    assert_eq!(recs[0]["id"], "a\u{e9}");
    assert_eq!(recs[0]["response"], "\u{fffd}\u{fffd} ok \u{fffd}");
    assert!(records(&d.join("errors.json")).is_empty());
}
