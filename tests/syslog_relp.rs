//! `syslog+relp://` under load, into rsyslogd's `imrelp`: several threads log while the
//! receiver is stopped (SIGTERM) and restarted, and later kept down for 5 seconds. Every
//! event arrives (at least once); a message the receiver holds twice was one mtalog sent
//! again after a broken connection (`resent`); with `overflow = drop` the events missing
//! are exactly the ones dropped.
//!
//! `MTALOG_RELP_EVENTS` sets the number of events (default 200,000).

mod syslog_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mtalog::event::{Kind, Timestamp};
use mtalog::logger::Logger;
use syslog_support::*;

const THREADS: u64 = 4;
/// The producers spread the events over about this long, so that the outages happen
/// while they log.
const SPREAD: Duration = Duration::from_secs(12);

fn events() -> u64 {
    std::env::var("MTALOG_RELP_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

pub fn rsyslog_relp(dir: &Path, port: u16, file: &Path) -> Daemon {
    rsyslog(
        dir,
        &format!(
            "module(load=\"imrelp\")\ntemplate(name=\"t\" type=\"string\" string=\"%msg%\\n\")\n\
             ruleset(name=\"r\") {{ {} }}\n\
             input(type=\"imrelp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"r\" maxDataSize=\"64k\")\n",
            rsyslog_file_action(file)
        ),
        tcp_listens(port),
    )
}

struct Run {
    sent: u64,
    got: BTreeMap<u64, u32>,
    stats: mtalog::pipeline::stats::StatsSnapshot,
}

/// Logs `events()` from `THREADS` threads over RELP with `overflow`; the receiver is
/// stopped and restarted at a quarter of them, and stopped for 5 s at 60 %.
fn under_load(name: &str, overflow: &str) -> Run {
    let dir = scratch(name);
    let port = free_port();
    let central = dir.join("central.log");
    let mut d = rsyslog_relp(&dir, port, &central);
    let cfg = format!(
        "heartbeat = 0\nmainlog = \"syslog+relp://127.0.0.1:{port}\"\n\
         rejectlog = \"{0}/rejectlog\"\npaniclog = \"{0}/paniclog\"\n\
         overflow = {overflow}\nqueue_size = 8192\nclose_timeout = 120s\nconnect_timeout = 2s\n",
        dir.display()
    );
    let l = Logger::open("ec_logger", "relp", &cfg).unwrap();
    let n = events();
    let per = n / THREADS;
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let l = &l;
            s.spawn(move || {
                let start = Instant::now();
                for i in t * per..(t + 1) * per {
                    let due = SPREAD.mul_f64((i - t * per) as f64 / per as f64);
                    if let Some(wait) = due.checked_sub(start.elapsed()) {
                        std::thread::sleep(wait);
                    }
                    let id = format!("id-{i}-");
                    if let Some(mut ev) = l.begin(Kind::Delivery) {
                        ev.time = Timestamp::now();
                        ev.push(mtalog::event::Field::MsgId, id.as_bytes(), 100);
                        ev.push(mtalog::event::Field::DomainName, b"d.example", 100);
                        l.submit(ev);
                    }
                }
            });
        }
        let (l, d, done) = (&l, &mut d, &done);
        s.spawn(move || {
            let progress = |f: f64| {
                let start = Instant::now();
                let submitted = || {
                    let st = l.stats();
                    (st.accepted + st.dropped) as f64
                };
                while submitted() < f * n as f64 && start.elapsed() < Duration::from_secs(120) {
                    std::thread::sleep(Duration::from_millis(2));
                }
            };
            progress(0.25);
            d.stop();
            d.restart();
            progress(0.6);
            d.stop();
            std::thread::sleep(Duration::from_secs(5));
            d.restart();
            done.store(true, Ordering::SeqCst);
        });
    });
    assert!(done.load(Ordering::SeqCst));
    l.close().unwrap();
    let stats = l.stats();
    let arrived = stats.accepted - stats.dropped;
    wait_for(Duration::from_secs(60), || {
        ids(&central).len() as u64 >= arrived
    });
    let got = ids(&central);
    eprintln!(
        "{name}: {n} sent, {} distinct arrived, {} lines; resent {}, dropped {}, write_errors {}",
        got.len(),
        got.values().map(|&c| u64::from(c)).sum::<u64>(),
        stats.resent,
        stats.dropped,
        stats.write_errors
    );
    Run {
        sent: per * THREADS,
        got,
        stats,
    }
}

fn check(r: &Run) -> u64 {
    let missing = (0..r.sent).filter(|i| !r.got.contains_key(i)).count() as u64;
    let dups: u64 = r.got.values().map(|&c| u64::from(c) - 1).sum();
    // Every duplicate is a message sent again after a broken connection; a message sent
    // again that the receiver had not read before it stopped is not one.
    assert!(dups <= r.stats.resent, "{dups} duplicates, {:?}", r.stats);
    assert!(r.stats.resent > 0, "no reconnect happened: {:?}", r.stats);
    assert!(
        r.stats.write_errors >= 1,
        "the 5 s outage was not seen: {:?}",
        r.stats
    );
    missing
}

#[test]
fn relp_delivers_every_event_through_restarts_and_an_outage() {
    if rsyslogd().is_none() {
        return;
    }
    let r = under_load("relp-block", "block");
    assert_eq!(r.stats.dropped, 0, "{:?}", r.stats);
    assert_eq!(check(&r), 0, "events missing: {:?}", r.stats);
}

#[test]
fn relp_in_drop_mode_misses_exactly_what_it_dropped() {
    if rsyslogd().is_none() {
        return;
    }
    let r = under_load("relp-drop", "drop");
    assert!(
        r.stats.dropped > 0,
        "the outage dropped nothing: {:?}",
        r.stats
    );
    assert_eq!(check(&r), r.stats.dropped, "{:?}", r.stats);
}

/// The first RELP frame in `buf`: (txnr, command, bytes taken), or `None` while incomplete.
fn relp_frame(buf: &[u8]) -> Option<(String, String, usize)> {
    let text = String::from_utf8_lossy(buf);
    let mut words = text.splitn(4, ' ');
    let (txnr, command, len) = (words.next()?, words.next()?, words.next()?);
    let (len, head) = match len.split_once('\n') {
        Some((l, _)) if l.len() < len.len() && l == "0" => (0, txnr.len() + command.len() + 3),
        _ => (
            len.parse::<usize>().ok()?,
            txnr.len() + command.len() + len.len() + 3,
        ),
    };
    let total = head + len + 1;
    (buf.len() >= total).then(|| (txnr.to_owned(), command.to_owned(), total.min(buf.len())))
}

/// A RELP server of the test's own: it answers `open`, then acknowledges each `syslog`
/// after `delay` (never, when `None`). Returns its port and the count of messages it got.
fn slow_relp_server(
    delay: Option<Duration>,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let got2 = got.clone();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let (mut all, mut buf) = (Vec::new(), [0u8; 4096]);
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
            while let Some((txnr, command, used)) = relp_frame(&all) {
                all.drain(..used);
                let reply = match command.as_str() {
                    "open" => {
                        let d = "200 OK\nrelp_version=0\ncommands=syslog";
                        Some(format!("{txnr} rsp {} {d}\n", d.len()))
                    }
                    "syslog" => {
                        got2.fetch_add(1, Ordering::SeqCst);
                        delay.map(|d| {
                            std::thread::sleep(d);
                            format!("{txnr} rsp 6 200 OK\n")
                        })
                    }
                    _ => Some(format!("{txnr} rsp 0\n")),
                };
                if let Some(r) = reply {
                    let _ = s.write_all(r.as_bytes());
                }
            }
        }
    });
    (port, got)
}

#[test]
fn log_close_waits_for_the_acknowledgements_within_close_timeout() {
    let dir = scratch("relp-close");
    let cfg = |port: u16, timeout: &str| {
        format!(
            "heartbeat = 0\nmainlog = \"syslog+relp://127.0.0.1:{port}\"\n\
             rejectlog = \"{0}/rejectlog\"\npaniclog = \"{0}/paniclog\"\nclose_timeout = {timeout}\n",
            dir.display()
        )
    };
    // Acknowledged slowly: the close waits for every acknowledgement.
    let (port, got) = slow_relp_server(Some(Duration::from_millis(50)));
    let l = Logger::open("ec_logger", "slow", &cfg(port, "10s")).unwrap();
    for i in 0..10 {
        event(
            &l,
            Kind::Delivery,
            Timestamp::now(),
            &format!("id-{i}-"),
            "250 ok",
        );
    }
    let start = Instant::now();
    l.close().unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(got.load(Ordering::SeqCst), 10);
    // Never acknowledged: the close gives up after close_timeout and says so.
    let (port, got) = slow_relp_server(None);
    let l = Logger::open("ec_logger", "mute", &cfg(port, "700ms")).unwrap();
    for i in 0..10 {
        event(
            &l,
            Kind::Delivery,
            Timestamp::now(),
            &format!("id-{i}-"),
            "250 ok",
        );
    }
    let start = Instant::now();
    let r = l.close();
    assert!(matches!(r, Err(mtalog::error::Error::TimedOut(_))), "{r:?}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(got.load(Ordering::SeqCst), 10);
}
