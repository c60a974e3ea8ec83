//! fork, `reopen logs` and `log_close` with every syslog destination (local socket, TCP,
//! TLS, RELP), against rsyslogd: a reopen makes a new connection, a forked child opens
//! connections of its own (the parent's stay the parent's), and each `log_close` drains:
//! every event of the parent and of the child arrives.
//!
//! The forking runs in a process of its own (this test binary again, with
//! `MTALOG_SYSLOG_FORK` set), whose only thread is the test's.

mod syslog_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mtalog::event::{Kind, Timestamp};
use mtalog::logger::Logger;
use syslog_support::*;

const SCENARIO: &str = "MTALOG_SYSLOG_FORK";
const DESTS: [&str; 4] = ["local", "tcp", "tls", "relp"];

fn log(l: &Logger, who: &str, range: std::ops::Range<u32>) {
    for i in range {
        event(
            l,
            Kind::Delivery,
            Timestamp::now(),
            &format!("{who}{i}-"),
            "250 ok",
        );
    }
}

/// In the scenario process: a logger per destination (`DEST_<name>` in the environment);
/// events, a reopen, more events, a fork (the child logs and closes), more events, close.
/// Prints `resent N` for the parent and the child.
fn scenario(dir: &Path) {
    let loggers: Vec<Logger> = DESTS
        .iter()
        .map(|name| {
            let dest = std::env::var(format!("DEST_{name}")).unwrap();
            let cfg = format!(
                "heartbeat = 0\nmainlog = \"{dest}\"\nrejectlog = \"{0}/rejectlog-{name}\"\n\
                 paniclog = \"{0}/paniclog-{name}\"\nsyslog_tls_ca = \"{0}/ca.pem\"\n",
                dir.display()
            );
            Logger::open("ec_logger", name, &cfg).unwrap()
        })
        .collect();
    for l in &loggers {
        log(l, "p", 0..100);
        l.reopen().unwrap();
        log(l, "p", 100..200);
        l.flush().unwrap();
    }
    // SAFETY: this process has one thread; the child only logs, closes and exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let mut ok = true;
        let mut resent = 0;
        for l in &loggers {
            log(l, "c", 0..100);
            ok &= l.close().is_ok();
            resent += l.stats().resent;
        }
        println!("child resent {resent}");
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut resent = 0;
    for l in &loggers {
        log(l, "p", 200..300);
    }
    let mut status = 0;
    // SAFETY: waits for the child this process made.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child: {status}"
    );
    for l in &loggers {
        l.close().unwrap();
        let st = l.stats();
        assert_eq!(
            (st.written, st.write_errors, st.reopens),
            (300, 0, 1),
            "{st:?}"
        );
        resent += st.resent;
    }
    println!("parent resent {resent}");
}

fn ids(path: &Path) -> BTreeMap<String, u32> {
    let mut m = BTreeMap::new();
    for l in lines(path) {
        if let Some(i) = l.find("@p").or_else(|| l.find("@c")) {
            let id: String = l[i + 1..].chars().take_while(|&c| c != '-').collect();
            *m.entry(id).or_default() += 1;
        }
    }
    m
}

#[test]
fn fork_reopen_and_close_with_every_destination() {
    if let Some(dir) = std::env::var_os(SCENARIO) {
        return scenario(Path::new(&dir));
    }
    if rsyslogd().is_none() || tool("openssl", &[]).is_none() {
        return;
    }
    let dir = scratch("lifecycle");
    make_ca(&dir, "ca");
    make_cert(&dir, "ca", "server", false);
    let sock = dir.join("log.sock");
    let (tcp, relp, tls) = (free_port(), free_port(), free_port());
    let out = |n: &str| dir.join(format!("{n}.log"));
    let rule = |n: &str| {
        format!(
            "ruleset(name=\"{n}\") {{ {} }}\n",
            rsyslog_file_action(&out(n))
        )
    };
    let plain_dir = dir.join("plain");
    std::fs::create_dir_all(&plain_dir).unwrap();
    let sock2 = sock.clone();
    let _plain = rsyslog(
        &plain_dir,
        &format!(
            "module(load=\"imuxsock\" SysSock.Use=\"off\")\nmodule(load=\"imtcp\")\n\
             module(load=\"imrelp\")\ntemplate(name=\"t\" type=\"string\" string=\"%msg%\\n\")\n\
             {}{}{}\
             input(type=\"imuxsock\" Socket=\"{}\" ruleset=\"local\" RateLimit.Interval=\"0\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tcp}\" ruleset=\"tcp\")\n\
             input(type=\"imrelp\" address=\"127.0.0.1\" port=\"{relp}\" ruleset=\"relp\")\n",
            rule("local"),
            rule("tcp"),
            rule("relp"),
            sock.display()
        ),
        move || socket_exists(&sock2)() && tcp_listens(tcp)() && tcp_listens(relp)(),
    );
    let tls_dir = dir.join("tls");
    std::fs::create_dir_all(&tls_dir).unwrap();
    let p = |n: &str| dir.join(n).display().to_string();
    let _tls = rsyslog_with(
        &tls_dir,
        &format!(
            "DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{}\" \
             DefaultNetstreamDriverCertFile=\"{}\" DefaultNetstreamDriverKeyFile=\"{}\"",
            p("ca.pem"),
            p("server.pem"),
            p("server.key")
        ),
        &format!(
            "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" \
             StreamDriver.AuthMode=\"anon\")\n\
             template(name=\"t\" type=\"string\" string=\"%msg%\\n\")\n{}\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tls}\" ruleset=\"tls\")\n",
            rule("tls")
        ),
        tcp_listens(tls),
    );
    // Taps count the connections of the network destinations.
    let taps: BTreeMap<&str, (u16, Tap)> = [("tcp", tcp), ("tls", tls), ("relp", relp)]
        .into_iter()
        .map(|(n, to)| {
            let from = free_port();
            (n, (from, tap(from, to)))
        })
        .collect();
    let dest = |n: &str| match n {
        "local" => format!("syslog:{}", sock.display()),
        "tls" => format!("syslog+tls://localhost:{}", taps["tls"].0),
        _ => format!("syslog+{n}://127.0.0.1:{}", taps[n].0),
    };
    let o = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fork_reopen_and_close_with_every_destination"])
        .args(["--nocapture", "--test-threads=1"])
        .env(SCENARIO, &dir)
        .envs(DESTS.map(|n| (format!("DEST_{n}"), dest(n))))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let resent: u64 = text
        .lines()
        .filter_map(|l| {
            l.split_once("resent ")
                .map(|(_, n)| n.trim().parse::<u64>().unwrap())
        })
        .sum();
    for n in DESTS {
        let want: Vec<String> = (0..300)
            .map(|i| format!("p{i}"))
            .chain((0..100).map(|i| format!("c{i}")))
            .collect();
        wait_for(Duration::from_secs(20), || ids(&out(n)).len() >= want.len());
        let got = ids(&out(n));
        let missing: Vec<&String> = want.iter().filter(|w| !got.contains_key(*w)).collect();
        assert!(missing.is_empty(), "{n}: missing {missing:?}");
        let dups: u64 = got.values().map(|&c| u64::from(c) - 1).sum();
        assert!(dups <= resent, "{n}: {dups} duplicates, {resent} resent");
        assert_eq!(got.len(), want.len(), "{n}: {got:?}");
    }
    // Each network destination: a connection at the start, one after the reopen, and
    // the child's own.
    for (n, (_, t)) in &taps {
        assert_eq!(t.connections(), 3, "{n}");
    }
}
