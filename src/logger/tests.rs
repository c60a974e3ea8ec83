use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::*;
use crate::event::Field;

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mtalog-logger-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cfg(d: &std::path::Path, extra: &str) -> String {
    format!(
        "mainlog = \"{0}/mainlog.ec\"\nrejectlog = \"{0}/rejectlog.ec\"\npaniclog = \"{0}/paniclog.ec\"\nheartbeat = 0\n{extra}",
        d.display()
    )
}

fn delivery(l: &Logger, i: u64) {
    let mut ev = l.begin(Kind::Delivery).unwrap();
    ev.time.sec = 1_700_000_000 + i as i64;
    ev.push(Field::MsgId, format!("id{i}").as_bytes(), 100);
    ev.push(Field::DomainName, b"d.example", 100);
    assert!(l.submit(ev));
}

#[test]
fn writes_lines_and_counts() {
    let d = dir("basic");
    let l = Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap();
    for i in 0..1000 {
        delivery(&l, i);
    }
    l.close().unwrap();
    let text = std::fs::read_to_string(d.join("mainlog.ec")).unwrap();
    assert_eq!(text.lines().count(), 1000);
    assert!(text.starts_with("1700000000@id0@id0@00/00-00000-00000000@D@d.example@0@@@0@0.00@\n"));
    let s = l.stats();
    assert_eq!((s.accepted, s.written, s.dropped), (1000, 1000, 0));
    assert_eq!(s.bytes_written, text.len() as u64);
    assert_eq!(l.close().unwrap_err(), Error::NotRunning);
    assert!(l.begin(Kind::Delivery).is_none());
}

#[test]
fn reopen_is_ordered_with_events() {
    let d = dir("reopen");
    let l = Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap();
    for i in 0..100 {
        delivery(&l, i);
    }
    std::fs::rename(d.join("mainlog.ec"), d.join("mainlog.ec.1")).unwrap();
    l.reopen().unwrap();
    for i in 100..150 {
        delivery(&l, i);
    }
    l.close().unwrap();
    assert_eq!(
        std::fs::read_to_string(d.join("mainlog.ec.1"))
            .unwrap()
            .lines()
            .count(),
        100
    );
    assert_eq!(
        std::fs::read_to_string(d.join("mainlog.ec"))
            .unwrap()
            .lines()
            .count(),
        50
    );
}

#[test]
fn accepted_counts_every_event_while_the_writer_takes_them() {
    // Each stats call races the writer taking the event just queued (and formatting
    // the ones before it); the count never misses or doubles one.
    let d = dir("accepted");
    let l = Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap();
    for i in 0..20_000u64 {
        delivery(&l, i);
        let s = l.stats();
        assert_eq!(s.accepted, i + 1, "after {} events: {s:?}", i + 1);
    }
    l.close().unwrap();
    let s = l.stats();
    assert_eq!((s.accepted, s.written, s.queue_depth), (20_000, 20_000, 0));
}

#[test]
fn a_request_waiting_on_the_queue_is_not_counted_as_an_event() {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // The mainlog is a FIFO nobody reads yet: the writer gets stuck in write(2), and a
    // reopen asked meanwhile waits on the queue behind the events.
    let d = dir("request");
    let fifo = d.join("mainlog.ec");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success());
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let l = Arc::new(Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap());
    let n = 5000u64;
    for i in 0..n {
        delivery(&l, i);
    }
    let l2 = Arc::clone(&l);
    let reopen = std::thread::spawn(move || l2.reopen());
    let start = Instant::now();
    while l.shared.stats.requests_sent.load(Ordering::SeqCst) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no reopen queued"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let s = l.stats();
    assert_eq!(s.accepted, n, "{s:?}");
    assert!(s.queue_depth < n && s.written < n, "{s:?}");
    // A reader comes: everything is written (through the old opening and the new
    // one), the reopen is done.
    let drain = std::thread::spawn(move || {
        let (mut lines, mut buf) = (0u64, [0u8; 65536]);
        let start = Instant::now();
        while lines < n && start.elapsed() < Duration::from_secs(30) {
            match reader.read(&mut buf) {
                Ok(k) if k > 0 => lines += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64,
                Ok(_) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("{e}"),
            }
        }
        lines
    });
    reopen.join().unwrap().unwrap();
    assert_eq!(drain.join().unwrap(), n);
    l.close().unwrap();
    let s = l.stats();
    assert_eq!(
        (s.accepted, s.written, s.queue_depth, s.reopens),
        (n, n, 0, 1)
    );
}

#[test]
fn filters_and_config_errors() {
    let d = dir("filters");
    let l = Logger::open("ec_logger", "t", &cfg(&d, "log_deliveries = false\n")).unwrap();
    assert!(l.begin(Kind::Delivery).is_none());
    assert!(l.begin(Kind::Reception).is_some());
    assert!(l.begin(Kind::Attempt).is_none());
    l.close().unwrap();
    let e = Logger::open("ec_logger", "t", &cfg(&d, "bogus = 1\n")).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(
        e.to_string()
            .contains("line 5, key 'bogus': unknown option"),
        "{e}"
    );
    for v in ["0", "0s", "0.0001"] {
        let e = Logger::open(
            "ec_logger",
            "t",
            &cfg(&d, &format!("close_timeout = {v}\n")),
        )
        .unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL);
        assert!(
            e.to_string()
                .contains("key 'close_timeout': must be at least 1ms"),
            "{e}"
        );
    }
    let l = Logger::open("ec_logger", "t", &cfg(&d, "close_timeout = 1ms\n")).unwrap();
    assert_eq!(
        l.settings().unwrap().close_timeout,
        Duration::from_millis(1)
    );
    // Accepted, and honoured: the close finishes in time or reports that it did not.
    match l.close() {
        Ok(()) | Err(Error::TimedOut(_)) => {}
        Err(e) => panic!("{e}"),
    }
    let e = Logger::open("ec_logger", "t", "mainlog = /nonexistent-dir/x\n").unwrap_err();
    assert_eq!(e.errno(), libc::ENOENT);
}

#[test]
fn drop_mode_counts_drops_when_the_writer_cannot_keep_up() {
    let d = dir("drop");
    let l = Logger::open(
        "ec_logger",
        "t",
        &cfg(&d, "overflow = drop\nqueue_size = 16\n"),
    )
    .unwrap();
    let mut queued = 0;
    for i in 0..100_000 {
        let mut ev = l.begin(Kind::Delivery).unwrap();
        ev.time.sec = i;
        if l.submit(ev) {
            queued += 1;
        }
    }
    l.close().unwrap();
    // Every box came back, dropped events' boxes too: the count is still true.
    let pool = &l.pipe.get().unwrap().pool;
    assert!(pool.boxes() >= 16);
    assert_eq!(pool.boxes(), pool.spare() + pool.reserve());
    let s = l.stats();
    assert_eq!(s.accepted, queued);
    assert_eq!(s.dropped, 100_000 - queued);
    assert_eq!(s.dropped_delivery, s.dropped);
    let text = std::fs::read_to_string(d.join("mainlog.ec")).unwrap();
    assert_eq!(text.lines().count() as u64, queued);
    if s.dropped > 0 {
        let panic = std::fs::read_to_string(d.join("paniclog.ec")).unwrap();
        assert!(panic.contains("events dropped"), "{panic}");
    }
}

#[test]
fn internal_errors_reach_the_paniclog_and_the_counters() {
    let d = dir("internal");
    let l = Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap();
    l.internal_error("internal error at x.rs:1: boom");
    l.close().unwrap();
    assert_eq!(l.stats().panics, 1);
    let panic = std::fs::read_to_string(d.join("paniclog.ec")).unwrap();
    assert!(
        panic.contains("critical: mtalog: internal error at x.rs:1: boom"),
        "{panic}"
    );
    l.with_last_error(|e| assert!(e.to_str().unwrap().contains("boom")));
}

#[test]
fn console_commands() {
    let d = dir("console");
    let l = Logger::open("ec_logger", "c1", &cfg(&d, "")).unwrap();
    assert!(
        l.console("help")
            .unwrap()
            .starts_with("reopen logs\n\tClose and reopen log files\n")
    );
    assert_eq!(
        l.console("ec_logger:c1 reopen logs").unwrap(),
        "Log files reopened\n"
    );
    assert!(l.console("stats").unwrap().contains("reopens: 1\n"));
    assert!(l.console("frobnicate").is_err());
    l.close().unwrap();
}

/// A failure as the hooks fill it (fields in their order).
fn failure(l: &Logger, kind: Kind, stage: i32, note: &[u8]) -> Option<Box<crate::event::Event>> {
    let mut ev = l.begin(kind)?;
    fill_failure(&mut ev, stage, note);
    Some(ev)
}

fn fill_failure(ev: &mut crate::event::Event, stage: i32, note: &[u8]) {
    ev.time.sec = 1_700_001_000;
    for (f, v) in [
        (Field::MsgId, &b"80/00-31337-8E4F3556"[..]),
        (Field::BatchId, b"60/00-31337-EF0F3556"),
        (Field::ConnId, b"50/00-31337-6F0F3556"),
        (Field::MailFrom, b"news@sender.example"),
        (Field::RcptTo, b"alice@dest.example"),
        (Field::BindingGroup, b"group-a"),
        (Field::Binding, b"vip-1"),
        (Field::DomainName, b"dest.example"),
        (Field::MxIp, b"198.51.100.25"),
        (Field::Note, note),
    ] {
        ev.push(f, v, 4096);
    }
    ev.size = 4821;
    ev.stage = stage;
}

fn bounce_cfg(d: &std::path::Path, extra: &str) -> String {
    format!(
        "bouncelog = \"{}/bouncelog.ec\"\nheartbeat = 0\n{extra}",
        d.display()
    )
}

#[test]
fn bounce_logger_writes_b_and_t_records_and_filters_the_rest_at_the_hook() {
    let d = dir("bounce");
    let l = Logger::open("bounce_logger", "b", &bounce_cfg(&d, "")).unwrap();
    assert_eq!(l.settings().unwrap().bounces, Some(true));
    for k in [
        Kind::Reception,
        Kind::Attempt,
        Kind::Delivery,
        Kind::Rejection,
        Kind::Error,
    ] {
        assert!(l.begin(k).is_none(), "{k:?}");
    }
    let p = failure(&l, Kind::PermanentFailure, 9, b"550 5.1.1 user unknown\r\n").unwrap();
    assert!(l.submit(p));
    let t = failure(
        &l,
        Kind::TransientFailure,
        4,
        b"421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints",
    )
    .unwrap();
    assert!(l.submit(t));
    // An out-of-band bounce, as `mtalog_bounce_log` makes it.
    let mut b = l
        .begin_if(Kind::PermanentFailure, |s| s.bounces == Some(true))
        .unwrap();
    fill_failure(
        &mut b,
        21,
        b"552 5.2.2 <alice@dest.example>: user is over quota",
    );
    assert!(l.submit(b));
    l.close().unwrap();
    const IDS: &str = "1700001000@80/00-31337-8E4F3556@60/00-31337-EF0F3556@50/00-31337-6F0F3556";
    const ENV: &str = "alice@dest.example@news@sender.example@group-a@vip-1";
    assert_eq!(
        std::fs::read_to_string(d.join("bouncelog.ec")).unwrap(),
        format!(
            "{IDS}@B@{ENV}@9@10@4821@198.51.100.25@550 5.1.1 user unknown\n\
             {IDS}@T@{ENV}@4@51@4821@198.51.100.25@421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints\n\
             {IDS}@B@{ENV}@21@22@4821@198.51.100.25@552 5.2.2 <alice@dest.example>: user is over quota\n"
        )
    );
    let s = l.stats();
    assert_eq!((s.accepted, s.written, s.filtered), (3, 3, 5), "{s:?}");
}

#[test]
fn bounce_logger_options_decide_what_reaches_the_queue() {
    let d = dir("bounce-options");
    let l = Logger::open(
        "bounce_logger",
        "b",
        &bounce_cfg(
            &d,
            "log_inband_bounces = false\nlog_transient_failures = false\n",
        ),
    )
    .unwrap();
    assert!(l.begin(Kind::PermanentFailure).is_none());
    assert!(l.begin(Kind::TransientFailure).is_none());
    // Out-of-band bounces are still wanted.
    assert_eq!(l.settings().unwrap().bounces, Some(true));
    assert_eq!(l.stats().filtered, 2);
    l.close().unwrap();
    let l = Logger::open(
        "bounce_logger",
        "b",
        &bounce_cfg(&d, "log_outofband_bounces = false\n"),
    )
    .unwrap();
    assert_eq!(l.settings().unwrap().bounces, Some(false));
    let p = failure(&l, Kind::PermanentFailure, 9, b"550 5.1.1 user unknown").unwrap();
    assert!(l.submit(p));
    l.close().unwrap();
    assert_eq!(
        std::fs::read_to_string(d.join("bouncelog.ec"))
            .unwrap()
            .lines()
            .count(),
        1
    );
    // Only bounce_logger has an out-of-band record; its files are its own.
    let l = Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap();
    assert_eq!(l.settings().unwrap().bounces, None);
    l.close().unwrap();
    let e = Logger::open(
        "bounce_logger",
        "b",
        &bounce_cfg(&d, "mainlog = \"/tmp/x\"\n"),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("key 'mainlog': unknown option"),
        "{e}"
    );
}

/// A bad value (or several, one per way of being wrong) for every option key of every
/// kind; the test checks that this table and the keys the kinds read agree.
const BAD_VALUES: &[(&str, &[&str])] = &[
    ("queue_size", &["8", "lots"]),
    ("overflow", &["sometimes"]),
    ("block_timeout", &["soon"]),
    ("close_timeout", &["0", "later"]),
    ("flush_interval", &["often"]),
    ("fsync", &["always"]),
    ("max_field", &["8", "wide"]),
    ("error_default_level", &["loud"]),
    ("log_receptions", &["maybe"]),
    ("log_attempts", &["maybe"]),
    ("log_transient_failures", &["maybe"]),
    ("log_permanent_failures", &["maybe"]),
    ("log_deliveries", &["maybe"]),
    ("log_rejections", &["maybe"]),
    ("log_errors", &["maybe"]),
    ("follow_symlinks", &["maybe"]),
    ("log_owner", &["no-such-user-mtalog"]),
    ("log_group", &["no-such-group-mtalog"]),
    ("reopen_on_rename", &["maybe"]),
    ("control_socket", &["\"\"", "jlog://x"]),
    ("mainlog", &["\"\""]),
    ("mainlog_mode", &["0899"]),
    ("rejectlog", &["\"\""]),
    ("rejectlog_mode", &["0899"]),
    ("paniclog", &["\"\""]),
    ("paniclog_mode", &["0899"]),
    ("acctlog", &["\"\""]),
    ("acctlog_mode", &["0899"]),
    ("acctlog_log_mode", &["0899"]),
    ("importlog", &["\"\""]),
    ("importlog_mode", &["0899"]),
    ("bouncelog", &["\"\""]),
    ("bouncelog_mode", &["0899"]),
    ("log_inband_bounces", &["maybe"]),
    ("log_outofband_bounces", &["maybe"]),
    ("connection_log", &["\"\""]),
    ("connection_log_mode", &["0899"]),
    ("logdir", &["\"\""]),
    ("heartbeat", &["often"]),
    ("log_hires_timestamp", &["maybe"]),
    ("myhostname", &["\"mx 1\""]),
    ("syslog_name", &["\"post fix\""]),
    ("timestamp_style", &["iso"]),
    ("pid", &["-1", "4294967296"]),
    ("error_severity", &["fatal"]),
    ("error_service", &["a_b"]),
    ("long_queue_ids", &["maybe"]),
    ("log_expired_line", &["maybe"]),
    ("utc", &["maybe"]),
    ("log_connection", &["-1"]),
    ("log_filename", &["maybe"]),
    ("log_message_id", &["maybe"]),
    ("log_notary", &["maybe"]),
    ("log_envelope_id", &["maybe"]),
    ("log_queue_time", &["maybe"]),
    ("legacy_codes", &["maybe"]),
    ("log_process", &["maybe"]),
    ("log_username", &["maybe"]),
    ("log_node", &["maybe"]),
    ("log_reason", &["maybe"]),
    ("log_diagnostics", &["maybe"]),
    ("log_format", &["4"]),
    ("log_reception_note", &["maybe"]),
    ("separate_connection_log", &["maybe"]),
    ("log_sensitivity", &["1"]),
    ("log_priority", &["1"]),
    ("log_intermediate", &["1"]),
    ("log_filter", &["1"]),
    ("block_size", &["0"]),
    ("inbound_channel", &["+"]),
    ("auth_channel", &["\"\""]),
    ("outbound_channel", &["-"]),
    ("loglevel", &["loud"]),
    ("service_loglevel", &["loud"]),
    ("service_default_level", &["Nolog"]),
    ("service_name", &["\"\"", "a/b", ".."]),
    ("process_name", &["\"\""]),
    ("max_file_size", &["big"]),
    ("maxlogfilesize", &["big"]),
    ("service_maxlogfilesize", &["big"]),
    ("rollover_time", &["noon", "24:00"]),
    ("rollovertime", &["noon"]),
    ("service_rollovertime", &["noon"]),
    ("max_files", &["many"]),
    ("maxlogfiles", &["many"]),
    ("service_maxlogfiles", &["many"]),
    ("max_total_size", &["big"]),
    ("maxlogsize", &["big"]),
    ("service_maxlogsize", &["big"]),
    ("min_free_disk", &["big"]),
    ("minfreediskspace", &["big"]),
    ("service_minfreediskspace", &["big"]),
    ("max_age", &["old"]),
    ("expirytime", &["old"]),
    ("service_expirytime", &["old"]),
    ("compress", &["maybe"]),
    ("syslog_facility", &["kernel"]),
    ("syslog_hostname", &["\"mx 1\"", "\"\""]),
    ("connect_timeout", &["0", "soon"]),
    ("relp_window", &["0", "65537", "wide"]),
    ("syslog_tls_ca", &["\"\""]),
    // Each without the other.
    ("syslog_tls_cert", &["\"\"", "/etc/mtalog/client.pem"]),
    ("syslog_tls_key", &["\"\"", "/etc/mtalog/client.key"]),
    ("syslog_tls_server_name", &["\"\"", "\"mx 1\""]),
];

#[test]
fn a_bad_value_of_any_option_names_its_line_and_key() {
    use crate::config::{Options, parse_init};
    use crate::format::LoggerKind;

    let mut known = std::collections::BTreeSet::new();
    for kind in LoggerKind::ALL {
        let keys = super::option_keys(kind);
        assert!(keys.len() > 30, "{kind}: {keys:?}");
        for key in keys {
            let (_, bad) = BAD_VALUES
                .iter()
                .find(|(k, _)| *k == key)
                .unwrap_or_else(|| panic!("no bad value for {kind}'s key '{key}' in the table"));
            for v in *bad {
                // The key on line 4, after another (good) option and a comment; a key
                // may be given only once.
                let good = if key == "queue_size" {
                    "overflow = block"
                } else {
                    "queue_size = 64"
                };
                let text = format!("{good}\n# a comment\n\n{key} = {v}\n");
                let entries = parse_init(&text, kind.name(), "t").unwrap();
                let e = match super::build::read_options(kind, "t", &mut Options::new(&entries)) {
                    Ok(_) => panic!("{kind}: {key} = {v} accepted"),
                    Err(e) => e,
                };
                let shown = e.to_string();
                assert!(
                    shown.starts_with(&format!("config line 4, key '{key}': ")),
                    "{kind}: {key} = {v}: {shown}"
                );
                assert_eq!((e.line, e.key.as_deref()), (4, Some(key.as_str())));
            }
            known.insert(key);
        }
    }
    // Every key of the table is one a kind reads (no stale rows).
    for (k, _) in BAD_VALUES {
        assert!(
            known.contains(*k),
            "'{k}' is in the table but no kind reads it"
        );
    }
    // Through the whole of log_init too.
    let e = Logger::open("imta_logger", "t", "\n\nservice_name = \"\"\n").unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert_eq!(
        e.to_string(),
        "config line 3, key 'service_name': must be a non-empty file name"
    );
}

#[test]
fn a_file_that_cannot_be_opened_names_the_line_and_key_of_its_path() {
    let d = dir("unopenable");
    let missing = d.join("no-such-dir");
    let cases = [
        (
            "ec_logger",
            // The other paths first (a key may be given only once).
            format!(
                "mainlog = \"{0}/m\"\npaniclog = \"{0}/p\"\nheartbeat = 0\n\nrejectlog = \"{1}/r\"\n",
                d.display(),
                missing.display()
            ),
            5,
            "rejectlog",
        ),
        (
            "ec_logger",
            format!(
                "{}control_socket = \"{}/s\"\n",
                cfg(&d, ""),
                missing.display()
            ),
            5,
            "control_socket",
        ),
        (
            "postfix_logger",
            format!("utc = true\n\nmainlog = \"{}/m\"\n", missing.display()),
            3,
            "mainlog",
        ),
        // A file named after a directory option: the message names that option.
        (
            "imta_logger",
            format!("loglevel = nolog\nlogdir = \"{}\"\n", missing.display()),
            2,
            "logdir",
        ),
    ];
    for (kind, text, line, key) in cases {
        let e = Logger::open(kind, "t", &text).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("config line {line}, key '{key}': ")),
            "{kind}: {e}"
        );
        assert_ne!(e.errno(), libc::EINVAL, "{e}");
    }
}

#[test]
fn a_snapshot_never_counts_more_outcomes_than_events_accepted() {
    // Producers log while readers take snapshots as fast as they can: no snapshot shows
    // more events written (or dropped after being accepted) than accepted.
    let d = dir("snapshot");
    let l = Arc::new(Logger::open("ec_logger", "t", &cfg(&d, "queue_size = 64\n")).unwrap());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (l, stop) = (Arc::clone(&l), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let s = l.stats();
                    assert!(s.written + s.dropped <= s.accepted, "{s:?}");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let producers: Vec<_> = (0..3)
        .map(|t| {
            let l = Arc::clone(&l);
            std::thread::spawn(move || {
                for i in 0..30_000 {
                    delivery(&l, t * 100_000 + i);
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    l.close().unwrap();
    let s = l.stats();
    assert_eq!((s.accepted, s.written, s.dropped), (90_000, 90_000, 0));
}
