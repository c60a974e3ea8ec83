//! `mtalog trace` and `mtalog convert` on the logs written by real Postfix
//! (`tests/corpus/postfix/`): a trace by queue ID shows every line of that message, also
//! across rotated files; every conversion is read back and checks, and keeps the figures
//! that the events carry.

mod cli_support;
mod report_support;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use cli_support::*;
use report_support::*;

fn log_text(log: &str) -> String {
    std::fs::read_to_string(corpus().join(log)).unwrap()
}

/// The queue IDs of a Postfix log: `... postfix/SERVICE[PID]: ID: ...`.
fn queue_ids(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let rest = &l[l.find("]: ")? + 3..];
            let id = &rest[..rest.find(": ")?];
            (id.len() >= 10 && id != "NOQUEUE" && id.bytes().all(|b| b.is_ascii_alphanumeric()))
                .then(|| id.to_owned())
        })
        .collect()
}

/// The lines of `text` that are about queue ID `id`, as `mtalog trace` prints them.
fn lines_of(text: &str, file: &str, id: &str) -> String {
    let key = format!(" {id}: ");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(&key))
        .map(|(n, l)| format!("{file}:{}: {l}\n", n + 1))
        .collect()
}

#[test]
fn a_trace_by_queue_id_shows_every_line_of_that_message() {
    for log in LOGS {
        let text = log_text(log);
        let ids = queue_ids(&text);
        assert_eq!(ids.len(), 118, "{log}");
        for id in &ids {
            let want = lines_of(&text, log, id);
            assert!(!want.is_empty(), "{log} {id}");
            // Options before or after the ID.
            let got = ok(&["trace", id, "--no-progress", log], &corpus());
            assert_eq!(got, want, "{log} {id}");
        }
        let first = ids.iter().next().unwrap();
        let got = ok(&["trace", "--no-progress", first, log], &corpus());
        assert_eq!(got, lines_of(&text, log, first));
    }
}

#[test]
fn a_trace_by_message_id_finds_the_queue_id() {
    let text = log_text("maillog.log");
    let want = lines_of(&text, "maillog.log", "110129942F9");
    assert_eq!(want.lines().count(), 11);
    for mid in [
        "<179662608706.290.14743825089575909777@example.test>",
        "179662608706.290.14743825089575909777@example.test",
    ] {
        let got = ok(&["trace", mid, "--no-progress", "maillog.log"], &corpus());
        assert_eq!(got, want, "{mid}");
    }
    let o = mtalog(&["trace", "0000000000X", "maillog.log"], &corpus());
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "mtalog: no line about '0000000000X'\n");
    let o = mtalog(&["trace", "--no-progress"], &corpus());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("mtalog: trace needs an ID\n"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_trace_follows_a_message_across_rotated_files() {
    // maillog.log cut in three, as logrotate leaves it: .2.gz (oldest), .1, the live file.
    let dir = scratch("trace_rotated");
    let text = log_text("maillog.log");
    let lines: Vec<&str> = text.lines().collect();
    let part =
        |a: usize, b: usize| -> String { lines[a..b].iter().map(|l| format!("{l}\n")).collect() };
    let (p2, p1, p0) = (part(0, 300), part(300, 600), part(600, lines.len()));
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.join("maillog.log.2.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(p2.as_bytes()).unwrap();
    gz.finish().unwrap();
    std::fs::write(dir.join("maillog.log.1"), &p1).unwrap();
    std::fs::write(dir.join("maillog.log"), &p0).unwrap();
    // 110129942F9: received in the first part, deferred through the second, sent and
    // removed in the third.
    let id = "110129942F9";
    let want = format!(
        "{}{}{}",
        lines_of(&p2, "maillog.log.2.gz", id),
        lines_of(&p1, "maillog.log.1", id),
        lines_of(&p0, "maillog.log", id)
    );
    for parts in [0, 1, 2].map(|k| !lines_of([&p2, &p1, &p0][k], "", id).is_empty()) {
        assert!(parts);
    }
    assert_eq!(want.lines().count(), 11);
    // Files in any order: they are read in the order of their first time stamp.
    for files in [
        ["maillog.log.2.gz", "maillog.log.1", "maillog.log"],
        ["maillog.log", "maillog.log.1", "maillog.log.2.gz"],
        ["maillog.log.1", "maillog.log", "maillog.log.2.gz"],
    ] {
        let mut args = vec!["trace", id, "--no-progress"];
        args.extend(files);
        assert_eq!(ok(&args, &dir), want, "{files:?}");
    }
    // By Message-ID, which is only in the oldest file.
    let got = ok(
        &[
            "trace",
            "<179662608706.290.14743825089575909777@example.test>",
            "--no-progress",
            "maillog.log",
            "maillog.log.1",
            "maillog.log.2.gz",
        ],
        &dir,
    );
    assert_eq!(got, want);
    // From standard input (one stream, so one name).
    let o = mtalog_in(&["trace", id, "--no-progress"], &dir, text.as_bytes());
    assert!(o.status.success());
    assert_eq!(stdout(&o), lines_of(&text, "(stdin)", id));
}

/// `report --json` totals of `files` in `dir`.
fn totals(dir: &Path, file: &str) -> serde_json::Map<String, serde_json::Value> {
    let j = ok(&["report", "--json", "--no-progress", file], dir);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    v["totals"].as_object().unwrap().clone()
}

#[test]
fn every_corpus_log_converts_to_every_format_and_keeps_its_figures() {
    let dir = scratch("convert_corpus");
    for log in LOGS {
        std::fs::copy(corpus().join(log), dir.join(log)).unwrap();
        let theirs = std::fs::read_to_string(corpus().join(format!("{log}.pflogsumm"))).unwrap();
        let pfl = grand_totals(
            &sections(&theirs)
                .iter()
                .find(|s| s.0 == "Grand Totals")
                .unwrap()
                .1,
        );
        let n = |label: &str| -> u64 {
            pfl[label]
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let deferrals: u64 = pfl["deferred"]
            .split(['(', ' '])
            .filter(|s| !s.is_empty())
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let mut all = Vec::new();
        for to in ["postfix", "ec", "imta", "json"] {
            let o = mtalog(
                &["convert", "--no-progress", "--to", to, "--host", "mx", log],
                &dir,
            );
            assert!(o.status.success(), "{log} {to}: {}", stderr(&o));
            assert_eq!(stderr(&o), "", "{log} {to}");
            let out = format!("{log}.{to}");
            std::fs::write(dir.join(&out), &o.stdout).unwrap();
            assert!(o.stdout.len() > 10_000, "{log} {to}");
            // Every line written is a line of its format.
            let c = mtalog(&["check", "--no-progress", &out], &dir);
            assert!(
                c.status.success(),
                "{log} {to}: {}{}",
                stdout(&c),
                stderr(&c)
            );
            let t = totals(&dir, &out);
            let g = |k: &str| t[k].as_u64().unwrap();
            // What the events carry: the same deferrals and bounces as pflogsumm counts
            // on the original. A forwarded copy (`status=sent (forwarded as ID)`) is a
            // delivery of the original and a message of its own, so received and
            // delivered each count it once more than pflogsumm does.
            assert_eq!(g("deferred"), n("deferred"), "{log} {to}");
            assert_eq!(g("deferrals"), deferrals, "{log} {to}");
            assert_eq!(g("bounced"), n("bounced"), "{log} {to}");
            assert_eq!(g("received"), n("received") + n("forwarded"), "{log} {to}");
            assert_eq!(
                g("delivered"),
                n("delivered") + n("forwarded"),
                "{log} {to}"
            );
            all.push((to, t));
        }
        // Postfix and JSON carry the same facts: the same totals.
        assert_eq!(all[0].1, all[3].1, "{log}: postfix and json");
        // Every format: the same messages, senders and sending domains.
        for k in [
            "received",
            "delivered",
            "deferred",
            "deferrals",
            "bounced",
            "senders",
            "sending_domains",
        ] {
            for (to, t) in &all {
                assert_eq!(t[k], all[0].1[k], "{log} {to} {k}");
            }
        }
        // Converting the Postfix conversion again changes no figure.
        let o = mtalog(
            &[
                "convert",
                "--no-progress",
                "--to",
                "postfix",
                &format!("{log}.postfix"),
            ],
            &dir,
        );
        std::fs::write(dir.join("again"), &o.stdout).unwrap();
        assert_eq!(totals(&dir, "again"), all[0].1, "{log}");
    }
}
