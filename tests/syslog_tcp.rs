//! `syslog+tcp://`: RFC 5424 with octet counting into a central rsyslogd or syslog-ng of
//! the test's own. The central file reads like the local one, and pflogsumm on it reports
//! exactly the traffic sent; a receiver killed mid-stream loses at most what its host had
//! acknowledged and it had not written, and logging goes on once it is back.

mod syslog_support;

use std::path::Path;
use std::time::Duration;

use syslog_support::*;

/// The traffic of traffic_postfix.c written to files in `dir/local` and sent to `dest`;
/// waits until `central` has as many lines as the local files and checks they are the
/// same lines; then pflogsumm's report on `central`.
fn central_equals_local(dir: &Path, dest: &str, central: &Path) {
    let local = dir.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let day = local_midnight_today();
    traffic_postfix(&local, day, "");
    let mut want = lines(&local.join("mainlog"));
    want.extend(lines(&local.join("paniclog")));
    want.sort();
    traffic_postfix(
        dir,
        day,
        &format!("mainlog = \"{dest}\"\npaniclog = \"{dest}\"\n"),
    );
    let mut got = wait_lines(central, want.len(), Duration::from_secs(20));
    got.sort();
    assert_eq!(got, want);
    let pfl = pflogsumm().expect("pflogsumm");
    let report = run_pflogsumm(&pfl, &[central.to_path_buf()]);
    assert_traffic_report(&report);
}

#[test]
fn pflogsumm_reads_the_postfix_log_that_rsyslog_writes() {
    if rsyslogd().is_none() || pflogsumm().is_none() {
        return;
    }
    let dir = scratch("tcp-pflogsumm");
    let port = free_port();
    let central = dir.join("central.log");
    let _d = rsyslog_tcp(&dir, port, &central);
    central_equals_local(&dir, &format!("syslog+tcp://127.0.0.1:{port}"), &central);
}

#[test]
fn pflogsumm_reads_the_postfix_log_that_syslog_ng_writes() {
    if syslog_ng().is_none() || pflogsumm().is_none() {
        return;
    }
    let dir = scratch("tcp-syslog-ng");
    let port = free_port();
    let central = dir.join("central.log");
    let _d = syslog_ng_daemon(
        &dir,
        &format!(
            "source s {{ syslog(ip(\"127.0.0.1\") port({port}) transport(\"tcp\")); }};\n\
             destination d {{ file(\"{}\" template(\"${{S_DATE}} ${{HOST}} ${{PROGRAM}}[${{PID}}]: ${{MESSAGE}}\\n\")); }};\n\
             log {{ source(s); destination(d); }};\n",
            central.display()
        ),
        tcp_listens(port),
    );
    central_equals_local(&dir, &format!("syslog+tcp://127.0.0.1:{port}"), &central);
}

fn send(l: &mtalog::logger::Logger, range: std::ops::Range<u64>) {
    use mtalog::event::{Kind, Timestamp};
    for i in range {
        event(
            l,
            Kind::Delivery,
            Timestamp::now(),
            &format!("id-{i}-"),
            "250 ok",
        );
    }
}

#[test]
fn a_receiver_killed_mid_stream_loses_only_what_it_had_taken() {
    if rsyslogd().is_none() {
        return;
    }
    let dir = scratch("tcp-kill");
    let port = free_port();
    let central = dir.join("central.log");
    let mut d = rsyslog(
        &dir,
        &format!(
            "module(load=\"imtcp\")\ntemplate(name=\"t\" type=\"string\" string=\"%msg%\\n\")\n\
             ruleset(name=\"r\") {{ {} }}\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"r\")\n",
            rsyslog_file_action(&central)
        ),
        tcp_listens(port),
    );
    let cfg = format!(
        "heartbeat = 0\nmainlog = \"syslog+tcp://127.0.0.1:{port}\"\n\
         rejectlog = \"{0}/rejectlog\"\npaniclog = \"{0}/paniclog\"\nconnect_timeout = 1s\n",
        dir.display()
    );
    let l = mtalog::logger::Logger::open("ec_logger", "tcp", &cfg).unwrap();

    // 1. The receiver wrote everything it got, then is killed: nothing is lost, the events
    // logged while it is down wait, and go out once it is back.
    send(&l, 0..2000);
    l.flush().unwrap();
    wait_lines(&central, 2000, Duration::from_secs(20));
    d.kill();
    send(&l, 2000..4000);
    assert!(wait_for(Duration::from_secs(10), || l.stats().write_errors == 1));
    d.restart();
    send(&l, 4000..6000);
    l.flush().unwrap();
    let got = ids(&central);
    wait_for(Duration::from_secs(20), || ids(&central).len() >= 6000);
    let got = if got.len() < 6000 { ids(&central) } else { got };
    let missing: Vec<u64> = (0..6000).filter(|i| !got.contains_key(i)).collect();
    assert!(
        missing.is_empty(),
        "{} missing, from {:?}",
        missing.len(),
        missing.first()
    );
    let dups: u64 = got.values().map(|&n| u64::from(n) - 1).sum();
    let st = l.stats();
    assert!(dups <= st.resent, "{dups} duplicates, {st:?}");
    assert_eq!(st.write_errors, 1, "{st:?}");
    let panic = lines(&dir.join("paniclog"));
    let failed = |p: &&String| p.contains("error: mtalog: write to");
    assert_eq!(panic.iter().filter(failed).count(), 1, "{panic:?}");
    assert_eq!(
        panic
            .iter()
            .filter(|p| p.contains("writing resumed"))
            .count(),
        1,
        "{panic:?}"
    );

    // 2. Killed under load: what is lost was logged before the kill (it was in the
    // receiver's socket or queue); everything logged after it is back arrives.
    let sent_before_kill = std::thread::scope(|s| {
        let lr = &l;
        let sender = s.spawn(move || send(lr, 10_000..40_000));
        std::thread::sleep(Duration::from_millis(100));
        d.kill();
        let before = lr.stats().accepted;
        std::thread::sleep(Duration::from_millis(500));
        d.restart();
        sender.join().unwrap();
        before
    });
    send(&l, 40_000..41_000);
    l.close().unwrap();
    wait_for(Duration::from_secs(30), || {
        ids(&central).range(40_000..).count() >= 1000
    });
    let got = ids(&central);
    let missing: Vec<u64> = (10_000..41_000).filter(|i| !got.contains_key(i)).collect();
    let st = l.stats();
    eprintln!(
        "killed under load: {} missing, resent {}",
        missing.len(),
        st.resent
    );
    // `accepted` counts phase 1's 6000 events too.
    let last_before_kill = 10_000 + (sent_before_kill - 6000);
    assert!(
        missing.iter().all(|&i| i < last_before_kill),
        "missing after the kill: {:?}",
        missing.iter().find(|&&i| i >= last_before_kill)
    );
    let dups: u64 = got.values().map(|&n| u64::from(n) - 1).sum();
    assert!(dups <= st.resent, "{dups} duplicates, {st:?}");
}
