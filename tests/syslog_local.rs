//! `syslog:/PATH`: every logger kind sends each line its file would have held as one
//! message to a local syslog socket, here rsyslogd's `imuxsock` on a socket of the test's
//! own: every line arrives once, with glibc's header (the tag and pid of a Postfix line,
//! `ecelerity`/`imta` and the pid for the others) and the event's severity.

mod syslog_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use mtalog::event::{Kind, Timestamp};
use mtalog::logger::Logger;
use syslog_support::{
    event, rsyslog, rsyslog_file_action, rsyslogd, scratch, socket_exists, wait_lines,
};

const THREADS: usize = 3;
const PER_THREAD: usize = 400;

/// The events of thread `t`: receptions, deliveries, deferrals, bounces and warnings.
fn traffic(files: &Logger, syslog: &Logger, t: usize) {
    for i in 0..PER_THREAD {
        let id = format!("{t}-{i}");
        let (kind, note) = match i % 5 {
            0 => (Kind::Reception, ""),
            1 => (Kind::Delivery, "250 2.0.0 ok"),
            2 => (Kind::TransientFailure, "451 4.3.0 try later"),
            3 => (Kind::PermanentFailure, "550 5.1.1 no such user"),
            _ => (Kind::Error, "warning: something to see"),
        };
        // One thread gives both loggers the same event: their lines are the same.
        let now = Timestamp::now();
        event(files, kind, now, &id, note);
        event(syslog, kind, now, &id, note);
    }
}

/// The logger `kind` with `base` plus its files in `dir`, or its files named `dest`.
fn config(kind: &str, dir: &Path, dest: Option<&str>) -> String {
    let path = |name: &str| match dest {
        Some(d) => d.to_owned(),
        None => dir.join(name).display().to_string(),
    };
    let common = "log_transient_failures = true\n";
    match kind {
        "ec_logger" => format!(
            "{common}heartbeat = 0\nmainlog = \"{}\"\nrejectlog = \"{}\"\npaniclog = \"{}\"\n",
            path("mainlog"),
            path("rejectlog"),
            path("paniclog")
        ),
        "postfix_logger" => format!(
            "{common}mainlog = \"{}\"\npaniclog = \"{}\"\nmyhostname = mx.example.test\npid = 4242\n",
            path("mainlog"),
            path("paniclog")
        ),
        _ => format!(
            "{common}mainlog = \"{}\"\npaniclog = \"{}\"\nloglevel = notice\n",
            path("mainlog"),
            path("paniclog")
        ),
    }
}

#[test]
fn every_kind_sends_every_line_once_to_a_local_socket() {
    if rsyslogd().is_none() {
        return;
    }
    let dir = scratch("local");
    let sock = dir.join("log.sock");
    let out = dir.join("received.log");
    let _d = rsyslog(
        &dir,
        &format!(
            "module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
             template(name=\"t\" type=\"string\" string=\"%pri% %syslogtag%%msg%\\n\")\n\
             ruleset(name=\"r\") {{ {} }}\n\
             input(type=\"imuxsock\" Socket=\"{}\" ruleset=\"r\" RateLimit.Interval=\"0\")\n",
            rsyslog_file_action(&out),
            sock.display()
        ),
        socket_exists(&sock),
    );
    let pid = std::process::id();
    let dest = format!("syslog:{}", sock.display());
    let mut want = Vec::new();
    for kind in ["ec_logger", "postfix_logger", "imta_logger"] {
        let fdir = dir.join(kind);
        std::fs::create_dir_all(&fdir).unwrap();
        let files = Logger::open(kind, "files", &config(kind, &fdir, None)).unwrap();
        let syslog = Logger::open(kind, "syslog", &config(kind, &fdir, Some(&dest))).unwrap();
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (f, l) = (&files, &syslog);
                s.spawn(move || traffic(f, l, t));
            }
        });
        files.close().unwrap();
        syslog.close().unwrap();
        let st = syslog.stats();
        assert_eq!(st.written, (THREADS * PER_THREAD) as u64, "{kind}: {st:?}");
        assert_eq!((st.dropped, st.write_errors), (0, 0), "{kind}: {st:?}");
        // What rsyslog must have received: each line of each file, as a message.
        for name in ["mainlog", "rejectlog", "paniclog"] {
            // A new file's header (Sun's `Log created`) belongs to the file, not the stream.
            for line in syslog_support::lines(&fdir.join(name))
                .into_iter()
                .filter(|l| !l.contains("General Notice: Log created"))
            {
                want.push(match kind {
                    "postfix_logger" => {
                        // `STAMP HOST postfix/SERVICE[4242]: TEXT` -> tag and text.
                        let at = line.find("postfix/").expect("a Postfix tag");
                        line[at..].to_owned()
                    }
                    "ec_logger" => format!("ecelerity[{pid}]: {line}"),
                    _ => format!("imta[{pid}]: {line}"),
                });
            }
        }
    }
    assert!(want.len() > 3 * THREADS * PER_THREAD, "{}", want.len());
    let got = wait_lines(&out, want.len(), Duration::from_secs(30));
    // Every line once, nothing else; severities by event (mail = 2, so 8*2 + severity).
    let mut by_text: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pris: BTreeMap<String, usize> = BTreeMap::new();
    for g in &got {
        let (pri, text) = g.split_once(' ').unwrap();
        *by_text.entry(text).or_default() += 1;
        *pris.entry(pri.to_owned()).or_default() += 1;
    }
    let mut missing = Vec::new();
    for w in &want {
        match by_text.get_mut(w.as_str()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => missing.push(w.clone()),
        }
    }
    let extra: Vec<_> = by_text.iter().filter(|(_, n)| **n > 0).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} lines missing, e.g. {:?}; extra: {:?}",
        missing.len(),
        missing.first(),
        extra.first()
    );
    assert_eq!(got.len(), want.len());
    // Deferrals are notice (21), bounces and the warnings warning (20), the rest info (22).
    for p in pris.keys() {
        assert!(["20", "21", "22"].contains(&p.as_str()), "{pris:?}");
    }
    assert!(pris["21"] >= 3 * THREADS * PER_THREAD / 5, "{pris:?}");
    assert!(pris["20"] >= 3 * 2 * THREADS * PER_THREAD / 5, "{pris:?}");
}

#[test]
fn a_receiver_that_is_not_there_yet_gets_every_event_once_it_is() {
    if rsyslogd().is_none() {
        return;
    }
    let dir = scratch("local-late");
    let sock = dir.join("log.sock");
    let out = dir.join("received.log");
    let cfg = format!(
        "heartbeat = 0\nmainlog = \"syslog:{}\"\nrejectlog = \"{1}/rejectlog\"\npaniclog = \"{1}/paniclog\"\n",
        sock.display(),
        dir.display()
    );
    let l = Logger::open("ec_logger", "late", &cfg).unwrap();
    for i in 0..50 {
        event(
            &l,
            Kind::Delivery,
            Timestamp::now(),
            &format!("m{i}"),
            "250 ok",
        );
    }
    // The fault is counted once and reported once while it lasts; the events wait.
    let faulted = syslog_support::wait_for(Duration::from_secs(10), || l.stats().write_errors == 1);
    assert!(faulted, "{:?}", l.stats());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(l.stats().write_errors, 1);
    assert_eq!(l.stats().written, 0);
    let panic = syslog_support::lines(&dir.join("paniclog"));
    let failed: Vec<_> = panic
        .iter()
        .filter(|p| p.contains("keeping events"))
        .collect();
    assert_eq!(failed.len(), 1, "{panic:?}");
    assert!(
        failed[0].contains(&format!("syslog:{}", sock.display())),
        "{failed:?}"
    );

    let _d = rsyslog(
        &dir,
        &format!(
            "module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
             template(name=\"t\" type=\"string\" string=\"%syslogtag%%msg%\\n\")\n\
             ruleset(name=\"r\") {{ {} }}\n\
             input(type=\"imuxsock\" Socket=\"{}\" ruleset=\"r\" RateLimit.Interval=\"0\")\n",
            rsyslog_file_action(&out),
            sock.display()
        ),
        socket_exists(&sock),
    );
    l.flush().unwrap();
    let got = wait_lines(&out, 50, Duration::from_secs(20));
    l.close().unwrap();
    assert_eq!(got.len(), 50, "{got:?}");
    let st = l.stats();
    assert_eq!(
        (st.written, st.write_errors, st.dropped),
        (50, 1, 0),
        "{st:?}"
    );
    let panic = syslog_support::lines(&dir.join("paniclog"));
    let resumed = panic
        .iter()
        .filter(|p| p.contains("writing resumed after"))
        .count();
    assert_eq!(resumed, 1, "{panic:?}");
}

#[test]
fn a_stream_socket_gets_nul_terminated_messages() {
    let Some(_) = syslog_support::syslog_ng() else {
        return;
    };
    let dir = scratch("local-stream");
    let sock = dir.join("stream.sock");
    let out = dir.join("received.log");
    let _d = syslog_support::syslog_ng_daemon(
        &dir,
        &format!(
            "source s {{ unix-stream(\"{}\"); }};\n\
             destination d {{ file(\"{}\" template(\"${{PROGRAM}}[${{PID}}]: ${{MESSAGE}}\\n\")); }};\n\
             log {{ source(s); destination(d); }};\n",
            sock.display(),
            out.display()
        ),
        socket_exists(&sock),
    );
    let fdir = dir.join("files");
    std::fs::create_dir_all(&fdir).unwrap();
    let files = Logger::open(
        "postfix_logger",
        "f",
        &config("postfix_logger", &fdir, None),
    )
    .unwrap();
    let dest = format!("syslog:{}", sock.display());
    let l = Logger::open(
        "postfix_logger",
        "s",
        &config("postfix_logger", &fdir, Some(&dest)),
    )
    .unwrap();
    traffic(&files, &l, 0);
    files.close().unwrap();
    l.close().unwrap();
    let mut want: Vec<String> = ["mainlog", "paniclog"]
        .iter()
        .flat_map(|n| syslog_support::lines(&fdir.join(n)))
        .map(|line| line[line.find("postfix/").unwrap()..].to_owned())
        .collect();
    let mut got = wait_lines(&out, want.len(), Duration::from_secs(20));
    want.sort();
    got.sort();
    assert_eq!(got, want);
}
