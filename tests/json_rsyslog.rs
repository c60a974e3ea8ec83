//! A real shipper over json_logger's files: rsyslogd's `imfile` reads `events.json` while
//! built-in rotation (`max_file_size`) and external rotations (rename, then `reopen logs`
//! through the console and through the Logger API) happen under load from two threads;
//! `mmjsonparse` parses every record and rsyslog writes what it parsed to a file of its
//! own. Every event_id arrives there exactly once and every record parses.
//!
//! The rsyslogd is the test's own: its configuration, work directory, pid file and output
//! are in a temporary directory (no imuxsock or imklog, so it never touches the system's
//! syslog), it runs in the foreground and is stopped by its pid. The configuration is the
//! one docs/shipping.md shows. Without rsyslogd the test is skipped, except when CI is
//! set, where a missing rsyslogd is a failure (Debian package `rsyslog`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mtalog::event::{Field, Kind};
use mtalog::logger::Logger;
use serde_json::Value;

/// How long the load runs.
const LOAD: Duration = Duration::from_secs(3);
/// Events per second and thread.
const RATE: u64 = 1000;
/// Built-in rotation: a new file every quarter of a second or so at this rate.
const MAX_FILE_SIZE: &str = "160K";

fn rsyslogd() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join("rsyslogd"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "rsyslogd is not installed (CI is set: install the Debian package rsyslog)"
        );
        eprintln!("rsyslogd not installed: test skipped");
    }
    found
}

fn work_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("json_rsyslog")
        .join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&d);
    for sub in ["logs", "rsyslog", "out"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    d
}

/// The rsyslog configuration of docs/shipping.md, with this test's paths.
fn rsyslog_conf(d: &Path) -> String {
    let p = |s: &str| d.join(s).display().to_string();
    format!(
        r#"global(workDirectory="{work}" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="mmjsonparse")

input(type="imfile" file="{events}" tag="mtalog" ruleset="mtalog")

template(name="record" type="string" string="%$!all-json%\n")
template(name="raw" type="string" string="%msg%\n")

ruleset(name="mtalog") {{
  action(type="mmjsonparse" cookie="")
  if $parsesuccess == "OK" then {{
    action(type="omfile" file="{shipped}" template="record")
  }} else {{
    action(type="omfile" file="{unparsed}" template="raw")
  }}
}}
"#,
        work = p("rsyslog"),
        events = p("logs/events.json"),
        shipped = p("out/shipped.json"),
        unparsed = p("out/unparsed.txt"),
    )
}

/// rsyslogd in the foreground with the test's configuration; stopped by its pid on drop.
struct Rsyslogd {
    child: Child,
}

impl Rsyslogd {
    fn start(bin: &Path, d: &Path) -> Rsyslogd {
        let conf = d.join("rsyslog/rsyslog.conf");
        std::fs::write(&conf, rsyslog_conf(d)).unwrap();
        let check = Command::new(bin)
            .args(["-N1", "-f"])
            .arg(&conf)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "rsyslogd -N1: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let log = std::fs::File::create(d.join("rsyslog/stderr")).unwrap();
        let child = Command::new(bin)
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(d.join("rsyslog/rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Rsyslogd { child }
    }

    /// SIGTERM (rsyslog writes out what it has), then waits for it to exit.
    fn stop(&mut self) {
        if self.child.try_wait().unwrap().is_some() {
            return;
        }
        // SAFETY: kill has no memory preconditions; the pid is our own child's.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Rsyslogd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One delivery whose message id names the thread and its number; its texts carry
/// quotes, backslashes, CR LF, `@` and non-ASCII characters.
fn delivery(l: &Logger, t: usize, i: u64) {
    let mut ev = l.begin(Kind::Delivery).unwrap();
    ev.time = mtalog::event::Timestamp::now();
    ev.push(Field::MsgId, format!("t{t}-{i}").as_bytes(), 4096);
    ev.push(Field::MailFrom, b"\"odd\\sender\"@example.org", 4096);
    ev.push(Field::RcptTo, "r\u{e9}cipient@d.example".as_bytes(), 4096);
    ev.push(Field::DomainName, b"d.example", 4096);
    ev.push(Field::MxIp, b"192.0.2.25", 4096);
    ev.push(Field::Note, b"250 2.0.0 ok\r\nqueued as \"x@y\"", 4096);
    ev.size = 1000 + i;
    assert!(l.submit(ev));
}

/// The `event_id`s of the records rsyslog wrote, with how often each came.
fn shipped(d: &Path) -> (HashMap<String, u32>, Vec<String>) {
    let text = std::fs::read_to_string(d.join("out/shipped.json")).unwrap_or_default();
    let mut seen = HashMap::new();
    let mut bad = Vec::new();
    for line in text.lines() {
        match serde_json::from_str::<Value>(line) {
            Ok(v) => match v["event_id"].as_str() {
                Some(id) => *seen.entry(id.to_owned()).or_insert(0) += 1,
                None => bad.push(line.to_owned()),
            },
            Err(_) => bad.push(line.to_owned()),
        }
    }
    (seen, bad)
}

#[test]
fn rsyslog_imfile_ships_every_record_once_across_rotations() {
    let Some(bin) = rsyslogd() else { return };
    let d = work_dir();
    let mut rsyslog = Rsyslogd::start(&bin, &d);
    // imfile starts watching before the first line: no record is older than its watch.
    std::thread::sleep(Duration::from_millis(500));

    let cfg = format!(
        "mainlog = \"{}\"\nmax_file_size = {MAX_FILE_SIZE}\nflush_interval = 50ms\n",
        d.join("logs/events.json").display()
    );
    let l = Arc::new(Logger::open("json_logger", "shipped", &cfg).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..2)
        .map(|t| {
            let (l, stop) = (Arc::clone(&l), Arc::clone(&stop));
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    delivery(&l, t, i);
                    i += 1;
                    let due = Duration::from_micros(i * 1_000_000 / RATE);
                    if let Some(wait) = due.checked_sub(start.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                i
            })
        })
        .collect();
    // External rotations while the load runs: rename, then ask for a reopen, once
    // through the console command and once through the Logger API.
    for k in 0..2 {
        std::thread::sleep(LOAD / 3);
        let to = d.join(format!("logs/events.json.ext{k}"));
        std::fs::rename(d.join("logs/events.json"), &to).unwrap();
        if k == 0 {
            let reply = l.console("reopen logs").unwrap();
            assert_eq!(reply, "Log files reopened\n");
        } else {
            l.reopen().unwrap();
        }
    }
    std::thread::sleep(LOAD / 3);
    stop.store(true, Ordering::Relaxed);
    let logged: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
    l.close().unwrap();
    let stats = l.stats();
    assert_eq!(stats.written, logged);
    assert!(stats.rotations >= 3, "{stats:?}");
    assert_eq!(stats.reopens, 2);

    // What the logger wrote, across every file.
    let mut written = Vec::new();
    let files: Vec<_> = std::fs::read_dir(d.join("logs")).unwrap().collect();
    eprintln!(
        "{logged} records in {} files ({} built-in rotations, {} reopens)",
        files.len(),
        stats.rotations,
        stats.reopens
    );
    for e in files {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            written.push(v["event_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(written.len() as u64, logged);

    // rsyslog catches up (bounded), then stops.
    let start = Instant::now();
    while shipped(&d).0.len() < written.len() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    rsyslog.stop();
    let (seen, bad) = shipped(&d);
    let stderr = std::fs::read_to_string(d.join("rsyslog/stderr")).unwrap_or_default();
    assert!(
        bad.is_empty(),
        "records rsyslog did not parse: {:?}",
        &bad[..bad.len().min(3)]
    );
    let unparsed = std::fs::read_to_string(d.join("out/unparsed.txt")).unwrap_or_default();
    assert!(
        unparsed.is_empty(),
        "mmjsonparse failed on: {unparsed:.2000}"
    );
    let missing: Vec<&String> = written
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .collect();
    let twice: Vec<(&String, &u32)> = seen.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        missing.is_empty() && twice.is_empty() && seen.len() == written.len(),
        "{} written, {} shipped; {} missing (first {:?}), {} more than once (first {:?})\nrsyslogd: {stderr}",
        written.len(),
        seen.len(),
        missing.len(),
        missing.first(),
        twice.len(),
        twice.first()
    );
    // The values survived the trip.
    let text = std::fs::read_to_string(d.join("out/shipped.json")).unwrap();
    let v: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(v["sender"], "\"odd\\sender\"@example.org");
    assert_eq!(v["rcpt"], "r\u{e9}cipient@d.example");
    assert_eq!(v["response"], "250 2.0.0 ok\r\nqueued as \"x@y\"");
    assert_eq!(v["logger"], "shipped");
    let _ = std::fs::remove_dir_all(&d);
}
