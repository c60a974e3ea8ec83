//! `mtalog check`, `trace` across a rotated and compressed set of files, gzip and
//! standard input, clear errors for unreadable or unrecognised input, and `ctl` against
//! a small Unix socket server.

mod cli_support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;

use cli_support::*;

fn gzip(path: &Path, data: &[u8]) {
    let f = std::fs::File::create(path).unwrap();
    let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap();
}

#[test]
fn check_names_file_line_and_why() {
    let dir = scratch("check");
    let good = "1700000000@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@R@alice@dest.example@news@sender.example@192.0.2.10@4821@esmtp@group-a@vip-1\n\
                1700000060@@@@M1\n";
    std::fs::write(dir.join("good.ec"), good).unwrap();
    let out = mtalog(&["check", "good.ec"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));

    let bad = format!(
        "{good}1700000042@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@D@dest.example@4821\n\
         Nov  3 09:15:03 mta1 postfix/qmgr[4242]: 3F2A91C0B7: removed\n\
         hello\n\
         1700000043@a@b@c@D@dest.example@many@g@b@0@1.00@198.51.100.25\n\
         1700000044@a@b@c@D@dest.example@10@g@b@0@-4.00@198.51.100.25\n"
    );
    std::fs::write(dir.join("bad.ec"), &bad).unwrap();
    let out = mtalog(&["check", "bad.ec"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].starts_with("bad.ec:3: ") && lines[0].contains("expected 12"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("bad.ec:4: ")
            && lines[1].contains("Postfix log line in a file of ec_logger mainlog"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("bad.ec:5: ")
            && lines[2].contains("not a line of any known log format"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("bad.ec:6: ")
            && lines[3].contains("the message size 'many' is not a number of bytes"),
        "{text}"
    );
    assert!(
        lines[4].starts_with("bad.ec:7: ")
            && lines[4].contains("the queue time is negative (-4.00); expected seconds"),
        "{text}"
    );
    assert!(stderr(&out).contains("5 of 7 line(s)"), "{}", stderr(&out));

    // Postfix and Sun lines that break their grammar.
    let pf = "Nov  3 09:15:03 mta1 postfix/smtp[4242]: 3F2A91C0B7: to=<bob@dest.example>, relay=none, status=sent (ok)\n\
              Nov 33 09:15:03 mta1 postfix/smtp[4242]: x\n";
    std::fs::write(dir.join("pf"), pf).unwrap();
    let text = stdout(&mtalog(&["check", "pf"], &dir));
    assert!(text.contains("pf:1: no delay= after relay="), "{text}");
    assert!(text.contains("pf:2: bad time stamp"), "{text}");
    let sun = "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com\n\
               07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E x alice@example.org rfc822;bob@example.com bob@example.com\n";
    std::fs::write(dir.join("sun"), sun).unwrap();
    let text = stdout(&mtalog(&["check", "sun"], &dir));
    assert!(text.contains("sun:2: size is not a number"), "{text}");
}

#[test]
fn unreadable_and_unrecognised_input_are_clear_errors() {
    let dir = scratch("errors");
    let out = mtalog(&["report", "no-such-file"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no-such-file: cannot open"),
        "{}",
        stderr(&out)
    );
    std::fs::write(dir.join("notes.txt"), "dear diary\ntoday I read logs\n").unwrap();
    let out = mtalog(&["report", "notes.txt"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "notes.txt: not an ec_logger, Postfix, Sun Messaging Server or json_logger log"
        ),
        "{}",
        stderr(&out)
    );
    let out = mtalog(&["report", "."], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
    let out = mtalog(&["frobnicate"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown command"), "{}", stderr(&out));
}

#[test]
fn gzip_files_and_standard_input_read_like_plain_files() {
    let dir = scratch("gzip");
    run_example(&dir, 400);
    let plain = ok(&["report", "logs/postfix/mainlog"], &dir);
    let data = std::fs::read(dir.join("logs/postfix/mainlog")).unwrap();
    gzip(&dir.join("mainlog.gz"), &data);
    assert_eq!(ok(&["report", "mainlog.gz"], &dir), plain);
    let piped = mtalog_in(&["report"], &dir, &data);
    assert!(piped.status.success());
    assert_eq!(stdout(&piped), plain);
    let gz = std::fs::read(dir.join("mainlog.gz")).unwrap();
    let piped = mtalog_in(&["report", "-"], &dir, &gz);
    assert_eq!(stdout(&piped), plain);
}

/// Splits `path` into `n` rotated parts, newest last: `name.N.gz ... name.2.gz name.1 name`.
fn rotate(dir: &Path, path: &str, name: &str, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(path)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let per = lines.len().div_ceil(n);
    let mut files = Vec::new();
    for (i, chunk) in lines.chunks(per).enumerate() {
        let age = n - 1 - i;
        let body = chunk.join("\n") + "\n";
        let f = match age {
            0 => name.to_owned(),
            1 => format!("{name}.1"),
            a => format!("{name}.{a}.gz"),
        };
        if f.ends_with(".gz") {
            gzip(&dir.join(&f), body.as_bytes());
        } else {
            std::fs::write(dir.join(&f), body).unwrap();
        }
        files.push(f);
    }
    files
}

/// The log line of a `FILE:LINE: TEXT` trace line.
fn text_of(l: &str) -> &str {
    l.split_once(": ").unwrap().1
}

#[test]
fn trace_follows_a_message_across_rotated_compressed_files() {
    let dir = scratch("trace");
    run_example(&dir, 3000);
    let ec = std::fs::read_to_string(dir.join("logs/mainlog.ec")).unwrap();
    // A message that was deferred: its R, T and D/P lines lie far apart.
    let t_line = ec.lines().find(|l| l.contains("@T@")).unwrap();
    let id = t_line.split('@').nth(1).unwrap().to_owned();
    let mine: Vec<&str> = ec
        .lines()
        .filter(|l| l.split('@').nth(1) == Some(id.as_str()))
        .collect();
    assert!(mine.len() >= 3, "{mine:?}");

    let mut files = rotate(&dir, "logs/mainlog.ec", "mainlog.ec", 4);
    files.reverse(); // newest first on the command line: trace puts them in time order
    let mut args = vec!["trace", id.as_str()];
    args.extend(files.iter().map(String::as_str));
    let out = ok(&args, &dir);
    let got: Vec<&str> = out.lines().map(text_of).collect();
    assert_eq!(got, mine, "{out}");

    // The same message in the Postfix log, by its MTA id (the queue ID is derived from
    // it), by its queue ID, and by its Message-ID header.
    let pf = std::fs::read_to_string(dir.join("logs/postfix/mainlog")).unwrap();
    let pfiles = rotate(&dir, "logs/postfix/mainlog", "mainlog", 3);
    let qid = {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{:010X}", h >> 24)
    };
    let expect: Vec<&str> = pf
        .lines()
        .filter(|l| l.contains(&format!(": {qid}: ")))
        .collect();
    assert!(expect.len() >= 5, "{qid}: {expect:?}");
    for key in [id.as_str(), qid.as_str()] {
        let mut args = vec!["trace", key];
        args.extend(pfiles.iter().map(String::as_str));
        let out = ok(&args, &dir);
        let got: Vec<&str> = out.lines().map(text_of).collect();
        assert_eq!(got, expect, "{key}\n{out}");
    }
    let mid_line = expect.iter().find(|l| l.contains("message-id=<")).unwrap();
    let mid = mid_line.split("message-id=").nth(1).unwrap();
    let mut args = vec!["trace", mid];
    args.extend(pfiles.iter().map(String::as_str));
    let out = ok(&args, &dir);
    for l in &expect {
        assert!(out.contains(l), "{l} missing from\n{out}");
    }
    let out = mtalog(&["trace", "no-such-id", "mainlog"], &dir);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn ctl_sends_one_command_and_prints_the_reply() {
    let dir = scratch("ctl");
    let sock = dir.join("control.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let server = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for reply in ["Log files reopened\n", "error: unknown command 'frob'\n"] {
            let (s, _) = listener.accept().unwrap();
            let mut r = BufReader::new(s);
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            seen.push(line);
            r.get_mut().write_all(reply.as_bytes()).unwrap();
        }
        seen
    });
    let s = sock.to_str().unwrap();
    let out = mtalog(&["ctl", s, "reopen", "logs"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Log files reopened\n");
    let out = mtalog(&["ctl", s, "frob"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "error: unknown command 'frob'\n");
    assert_eq!(server.join().unwrap(), ["reopen logs\n", "frob\n"]);
    let out = mtalog(
        &["ctl", dir.join("nothing.sock").to_str().unwrap(), "stats"],
        &dir,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot connect to the control socket"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ctl_talks_to_the_library_control_socket() {
    let dir = scratch("ctl_library");
    let sock = dir.join("mtalog.sock");
    let conf = format!(
        "mainlog = \"{0}/mainlog.ec\"\nrejectlog = \"{0}/rejectlog.ec\"\npaniclog = \"{0}/paniclog.ec\"\nheartbeat = 0\ncontrol_socket = \"{1}\"\n",
        dir.display(),
        sock.display()
    );
    let logger = mtalog::logger::Logger::open("ec_logger", "ec1", &conf).unwrap();
    let s = sock.to_str().unwrap();
    let out = mtalog(&["ctl", s, "reopen", "logs"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Log files reopened\n");
    let out = mtalog(&["ctl", s, "ec_logger:nobody", "stats"], &dir);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    drop(logger);
}

#[test]
fn ctl_gives_up_when_no_reply_comes() {
    let dir = scratch("ctl_timeout");
    let sock = dir.join("mute.sock");
    let (server, done_tx) = mute_console(&sock);
    let s = sock.to_str().unwrap();
    let start = std::time::Instant::now();
    let out = mtalog(&["ctl", "--timeout", "1", s, "stats"], &dir);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no reply within 1 s"),
        "{}",
        stderr(&out)
    );
    done_tx.send(()).unwrap();
    assert_eq!(server.join().unwrap(), "stats\n");
    let out = mtalog(&["ctl", "--timeout", "0", s, "stats"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--timeout"), "{}", stderr(&out));
}

/// A bouncelog is checked, traced and reported; with the mainlog of the same traffic its
/// records are its bounces by class (the out-of-band one too), and nothing is counted twice.
#[test]
fn bouncelog_is_checked_traced_and_reported() {
    use mtalog::event::{Event, Field, Kind, Timestamp, build};
    use mtalog::format::bounce::{Bounce, OUT_OF_BAND_STAGE};
    use mtalog::format::ec::Ec;
    use mtalog::format::{Formatter, Out, Target};

    let dir = scratch("bouncelog");
    let ev = |kind: Kind, id: &str, stage: i32, note: &str| -> Event {
        let mut e = build(
            kind,
            vec![
                (Field::MsgId, id.as_bytes()),
                (Field::MailFrom, b"news@sender.example"),
                (Field::RcptTo, b"alice@dest.example"),
                (Field::DomainName, b"dest.example"),
                (Field::MxIp, b"198.51.100.25"),
                (Field::Note, note.as_bytes()),
            ],
        );
        e.time = Timestamp::new(1_700_001_000, 0);
        e.size = 4821;
        e.stage = stage;
        e
    };
    let recv = ev(Kind::Reception, "10/00-31337-8E4F3556", 0, "");
    let inband = ev(
        Kind::PermanentFailure,
        "10/00-31337-8E4F3556",
        9,
        "550 5.1.1 <alice@dest.example>: Recipient address rejected: User unknown",
    );
    let deferred = ev(
        Kind::TransientFailure,
        "20/00-31337-8E4F3556",
        4,
        "451 4.7.1 Greylisted, try again later",
    );
    let oob = ev(
        Kind::PermanentFailure,
        "30/00-31337-8E4F3556",
        OUT_OF_BAND_STAGE,
        "552 5.2.2 <alice@dest.example>: mailbox full",
    );
    let write = |f: &mut dyn Formatter, evs: &[&Event], name: &str| {
        let mut out = Out::default();
        for e in evs {
            f.format(e, &mut out);
        }
        f.heartbeat(Timestamp::new(1_700_001_060, 0), &mut out);
        std::fs::write(dir.join(name), &out.bufs[Target::Main as usize]).unwrap();
    };
    write(
        &mut Ec::default(),
        &[&recv, &inband, &deferred],
        "mainlog.ec",
    );
    write(
        &mut Bounce::default(),
        &[&inband, &deferred, &oob],
        "bouncelog.ec",
    );

    let out = mtalog(&["check", "bouncelog.ec", "mainlog.ec"], &dir);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("8 line(s), all match"),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(dir.join("bouncelog.ec")).unwrap();
    std::fs::write(dir.join("bad.ec"), text.replace("@21@22@", "@21@2@")).unwrap();
    let out = mtalog(&["check", "bad.ec"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "bad.ec:3: the bounce class 2 is not one of Momentum's\n"
    );

    let trace = ok(&["trace", "30/00-31337-8E4F3556", "bouncelog.ec"], &dir);
    assert_eq!(
        trace,
        format!("bouncelog.ec:3: {}\n", text.lines().nth(2).unwrap())
    );

    // Both files: the mainlog's figures, the bouncelog's classes.
    let json = ok(&["report", "--json", "mainlog.ec", "bouncelog.ec"], &dir);
    assert!(
        json.contains("\"bounced\":1,") && json.contains("\"deferrals\":1,"),
        "{json}"
    );
    let classes = &json[json.find(",\"bounce_classes\":").unwrap()..];
    let classes = &classes[..classes.find(",\"rejects\"").unwrap()];
    assert_eq!(
        classes,
        ",\"bounce_classes\":{\"source\":\"bouncelog\",\"bounces\":2,\"classes\":[\
         {\"class\":10,\"name\":\"Invalid Recipient\",\"category\":\"Hard\",\"count\":1,\"share\":50.0,\"texts\":[{\"text\":\"550 5.1.1 <address>: Recipient address rejected: User unknown\",\"count\":1}]},\
         {\"class\":22,\"name\":\"Mailbox Full\",\"category\":\"Soft\",\"count\":1,\"share\":50.0,\"texts\":[{\"text\":\"552 5.2.2 <address>: mailbox full\",\"count\":1}]}]}"
    );
    // -d keeps the bouncelog's records of that day only (here: none).
    let json = ok(
        &[
            "report",
            "-d",
            "2001-02-03",
            "--json",
            "mainlog.ec",
            "bouncelog.ec",
        ],
        &dir,
    );
    assert!(
        json.contains(",\"bounce_classes\":{\"source\":\"logs\",\"bounces\":0,"),
        "{json}"
    );
    // The mainlog alone: its P line.
    let json = ok(&["report", "--json", "mainlog.ec"], &dir);
    assert!(
        json.contains(
            ",\"bounce_classes\":{\"source\":\"logs\",\"bounces\":1,\"classes\":[{\"class\":10,"
        ),
        "{json}"
    );
    let report = ok(&["report", "bouncelog.ec"], &dir);
    assert!(
        report.contains("        2   bounces, read from the bouncelog\n"),
        "{report}"
    );
}

/// A record that carries its class keeps it: a bouncelog whose `B` record says 25 (Admin
/// Failure: a site's own rule, say) for a text the classifier reads as 22 (Mailbox Full)
/// is reported in 25, and converted to JSON it stays 25, which the report of the JSON
/// reads back.
#[test]
fn a_recorded_bounce_class_is_kept() {
    let dir = scratch("bounce-class");
    let b = "1700001000@30/00-31337-8E4F3556@30/00-31337-8E4F3556@@B@alice@dest.example@news@sender.example@@@21@25@4821@198.51.100.25@552 5.2.2 <alice@dest.example>: mailbox full\n";
    std::fs::write(dir.join("bouncelog.ec"), b).unwrap();
    let class_of = |json: &str| -> String {
        let c = &json[json.find(",\"bounce_classes\":").unwrap()..];
        c[..c.find(",\"texts\"").unwrap()].to_owned()
    };
    let report = ok(&["report", "--json", "bouncelog.ec"], &dir);
    assert_eq!(
        class_of(&report),
        ",\"bounce_classes\":{\"source\":\"bouncelog\",\"bounces\":1,\"classes\":[\
         {\"class\":25,\"name\":\"Admin Failure\",\"category\":\"Admin\",\"count\":1,\"share\":100.0"
    );
    let json = ok(&["convert", "--to", "json", "bouncelog.ec"], &dir);
    assert!(
        json.contains(",\"bounce_class\":25,\"bounce_category\":\"Admin\"}"),
        "{json}"
    );
    std::fs::write(dir.join("events.json"), &json).unwrap();
    let report = ok(&["report", "--json", "events.json"], &dir);
    assert!(
        class_of(&report).contains("{\"class\":25,\"name\":\"Admin Failure\""),
        "{report}"
    );
    // Without the record's class, the classifier's reading.
    let ec = ok(&["convert", "--to", "ec", "bouncelog.ec"], &dir);
    std::fs::write(dir.join("mainlog.ec"), &ec).unwrap();
    let report = ok(&["report", "--json", "mainlog.ec"], &dir);
    assert!(
        class_of(&report).contains("{\"class\":22,\"name\":\"Mailbox Full\""),
        "{report}"
    );
}

/// The "bounces by class" section on the logs real Postfix wrote (tests/corpus/postfix/):
/// its six bounces (pflogsumm's "6 bounced") in their classes, the same in the three logs,
/// and the same again when the log is converted to each other format and read back.
#[test]
fn bounces_by_class_of_the_postfix_corpus_in_every_format() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/postfix");
    let dir = scratch("bounce-classes-corpus");
    const TEXT: &str = "message bounces by class
------------------------
        6   bounces, read from the logs

    count   share   class
        3   50.0%   10 Invalid Recipient (Hard)
                    2   550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table
                    1   unknown user: \"nosuchuser\"
        2   33.3%   52 Spam Content (Block)
                    2   554 5.7.1 Message rejected: content looks like spam
        1   16.7%   1 Undetermined (Undetermined)
                    1   this domain no longer receives mail

";
    const JSON: &str = ",\"bounce_classes\":{\"source\":\"logs\",\"bounces\":6,\"classes\":[\
        {\"class\":10,\"name\":\"Invalid Recipient\",\"category\":\"Hard\",\"count\":3,\"share\":50.0,\"texts\":[\
        {\"text\":\"550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table\",\"count\":2},\
        {\"text\":\"unknown user: \\\"nosuchuser\\\"\",\"count\":1}]},\
        {\"class\":52,\"name\":\"Spam Content\",\"category\":\"Block\",\"count\":2,\"share\":33.3,\"texts\":[\
        {\"text\":\"554 5.7.1 Message rejected: content looks like spam\",\"count\":2}]},\
        {\"class\":1,\"name\":\"Undetermined\",\"category\":\"Undetermined\",\"count\":1,\"share\":16.7,\"texts\":[\
        {\"text\":\"this domain no longer receives mail\",\"count\":1}]}]}";
    let section = |report: &str| -> String {
        let start = report
            .find("message bounces by class\n")
            .unwrap_or_else(|| panic!("no section in {report}"));
        let end = start + report[start..].find("message reject detail").unwrap();
        report[start..end].to_owned()
    };
    let member = |json: &str| -> String {
        let start = json.find(",\"bounce_classes\":").unwrap();
        let end = start + json[start..].find(",\"rejects\"").unwrap();
        json[start..end].to_owned()
    };
    for log in [
        "maillog.log",
        "syslog-traditional.log",
        "syslog-rfc3339-long-ids.log",
    ] {
        let path = corpus.join(log);
        let path = path.to_str().unwrap();
        assert_eq!(section(&ok(&["report", path], &dir)), TEXT, "{log}");
        assert_eq!(
            member(&ok(&["report", "--json", path], &dir)),
            JSON,
            "{log}"
        );
    }
    // `--top 1`: one text per class.
    let path = corpus.join("maillog.log");
    let path = path.to_str().unwrap();
    let top1 = section(&ok(&["report", "--top", "1", path], &dir));
    assert_eq!(
        top1,
        TEXT.replace("                    1   unknown user: \"nosuchuser\"\n", "")
    );
    for to in ["ec", "imta", "json"] {
        let converted = ok(&["convert", "--to", to, "--utc", path], &dir);
        let name = format!("converted.{to}");
        std::fs::write(dir.join(&name), converted).unwrap();
        assert_eq!(section(&ok(&["report", &name], &dir)), TEXT, "{to}");
        assert_eq!(
            member(&ok(&["report", "--json", &name], &dir)),
            JSON,
            "{to}"
        );
    }
    // json_logger's records carry the classes the report counts.
    let records = std::fs::read_to_string(dir.join("converted.json")).unwrap();
    let classes: Vec<&str> = records
        .lines()
        .filter(|l| l.contains("\"type\":\"permanent_failure\""))
        .map(|l| &l[l.find(",\"bounce_class\":").unwrap()..])
        .collect();
    assert_eq!(
        classes,
        [
            ",\"bounce_class\":10,\"bounce_category\":\"Hard\"}",
            ",\"bounce_class\":1,\"bounce_category\":\"Undetermined\"}",
            ",\"bounce_class\":10,\"bounce_category\":\"Hard\"}",
            ",\"bounce_class\":52,\"bounce_category\":\"Block\"}",
            ",\"bounce_class\":52,\"bounce_category\":\"Block\"}",
            ",\"bounce_class\":10,\"bounce_category\":\"Hard\"}",
        ]
    );
}
