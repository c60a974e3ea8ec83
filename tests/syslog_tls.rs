//! `syslog+tls://` into rsyslogd's gtls driver, with a throwaway CA made by the test
//! (openssl command line): delivered when the receiver's certificate verifies (and a
//! client certificate is presented); refused when it does not: `log_init` fails when it
//! can tell at once, else the fault is reported and nothing readable is ever sent.

mod syslog_support;

use std::path::Path;
use std::time::Duration;

use mtalog::event::{Kind, Timestamp};
use mtalog::logger::Logger;
use syslog_support::*;

const MARK: &str = "secret-marker";

/// rsyslogd with a TLS input on `port` presenting `cert` (signed by `ca`), writing `file`;
/// with `client_auth` it asks for a client certificate signed by `ca`.
fn rsyslog_tls(
    dir: &Path,
    port: u16,
    ca: &str,
    cert: &str,
    client_auth: bool,
    file: &Path,
) -> Daemon {
    let p = |n: &str| dir.join(n).display().to_string();
    rsyslog_with(
        dir,
        &format!(
            "DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{}\" \
             DefaultNetstreamDriverCertFile=\"{}\" DefaultNetstreamDriverKeyFile=\"{}\"",
            p(&format!("{ca}.pem")),
            p(&format!("{cert}.pem")),
            p(&format!("{cert}.key"))
        ),
        &format!(
            "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" \
             StreamDriver.AuthMode=\"{}\")\n\
             template(name=\"t\" type=\"string\" string=\"%msg%\\n\")\n\
             ruleset(name=\"r\") {{ {} }}\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"r\")\n",
            if client_auth {
                "x509/certvalid"
            } else {
                "anon"
            },
            rsyslog_file_action(file)
        ),
        tcp_listens(port),
    )
}

fn config(dir: &Path, port: u16, extra: &str) -> String {
    format!(
        "heartbeat = 0\nmainlog = \"syslog+tls://localhost:{port}\"\n\
         rejectlog = \"{0}/rejectlog\"\npaniclog = \"{0}/paniclog\"\n\
         syslog_tls_ca = \"{0}/ca.pem\"\n{extra}",
        dir.display()
    )
}

fn send(l: &Logger, n: usize) {
    for i in 0..n {
        event(
            l,
            Kind::Delivery,
            Timestamp::now(),
            &format!("{MARK}-{i}"),
            "250 ok",
        );
    }
}

#[test]
fn tls_delivers_to_a_receiver_whose_certificate_verifies() {
    if rsyslogd().is_none() || tool("openssl", &[]).is_none() {
        return;
    }
    let dir = scratch("tls-ok");
    make_ca(&dir, "ca");
    make_cert(&dir, "ca", "server", false);
    make_cert(&dir, "ca", "client", true);
    let (port, tapped) = (free_port(), free_port());
    let central = dir.join("central.log");
    let _d = rsyslog_tls(&dir, port, "ca", "server", true, &central);
    let wire = tap(tapped, port);
    let l = Logger::open(
        "ec_logger",
        "tls",
        &config(
            &dir,
            tapped,
            &format!(
                "syslog_tls_cert = \"{0}/client.pem\"\nsyslog_tls_key = \"{0}/client.key\"\n",
                dir.display()
            ),
        ),
    )
    .unwrap();
    send(&l, 500);
    l.close().unwrap();
    let got = wait_lines(&central, 500, Duration::from_secs(20));
    assert_eq!(got.len(), 500, "{:?}", got.last());
    for (i, line) in got.iter().enumerate() {
        assert!(line.contains(&format!("{MARK}-{i}@")), "{line}");
    }
    let st = l.stats();
    assert_eq!((st.written, st.write_errors), (500, 0), "{st:?}");
    // On the wire: TLS records only.
    let seen = wire.bytes();
    assert!(seen.len() > 500 * 40, "{}", seen.len());
    assert!(!seen.windows(MARK.len()).any(|w| w == MARK.as_bytes()));
    // The certificate must carry the name asked for (it carries localhost).
    let e = Logger::open(
        "ec_logger",
        "tls2",
        &config(&dir, port, "syslog_tls_server_name = mx.example\n"),
    )
    .unwrap_err();
    assert_eq!(e.errno(), libc::EACCES, "{e}");
}

#[test]
fn tls_refuses_a_receiver_whose_certificate_does_not_verify() {
    if rsyslogd().is_none() || tool("openssl", &[]).is_none() {
        return;
    }
    let dir = scratch("tls-untrusted");
    make_ca(&dir, "ca");
    make_ca(&dir, "other");
    make_cert(&dir, "other", "server", false);
    let (port, tapped) = (free_port(), free_port());
    let central = dir.join("central.log");
    let wire = tap(tapped, port);

    // The receiver is up at log_init: refused at once.
    let mut d = rsyslog_tls(&dir, port, "other", "server", false, &central);
    let e = Logger::open("ec_logger", "tls", &config(&dir, tapped, "")).unwrap_err();
    assert_eq!(e.errno(), libc::EACCES, "{e}");
    assert!(e.to_string().contains("refused"), "{e}");
    d.stop();

    // Down at log_init, up later: each try is refused, the fault is reported once, the
    // events wait; nothing readable went out.
    let l = Logger::open(
        "ec_logger",
        "tls",
        &config(&dir, tapped, "close_timeout = 2s\nconnect_timeout = 1s\n"),
    )
    .unwrap();
    d.restart();
    send(&l, 50);
    assert!(wait_for(Duration::from_secs(10), || l.stats().write_errors == 1));
    std::thread::sleep(Duration::from_millis(1500));
    let st = l.stats();
    assert_eq!((st.written, st.write_errors), (0, 1), "{st:?}");
    let panic = lines(&dir.join("paniclog"));
    let reports: Vec<_> = panic
        .iter()
        .filter(|p| p.contains("error: mtalog: write to"))
        .collect();
    assert_eq!(reports.len(), 1, "{panic:?}");
    assert!(reports[0].contains("certificate"), "{reports:?}");
    assert!(matches!(l.close(), Err(mtalog::error::Error::TimedOut(_))));
    assert_eq!(l.stats().dropped, 50);
    assert!(lines(&central).is_empty());
    let seen = wire.bytes();
    assert!(!seen.is_empty(), "no handshake was tried");
    assert!(!seen.windows(MARK.len()).any(|w| w == MARK.as_bytes()));
    assert!(!seen.windows(9).any(|w| w == b"ecelerity"));
}

#[test]
fn tls_needs_a_ca_file() {
    let dir = scratch("tls-config");
    let cfg = format!(
        "heartbeat = 0\nmainlog = \"syslog+tls://localhost:6514\"\n\
         rejectlog = \"{0}/rejectlog\"\npaniclog = \"{0}/paniclog\"\n",
        dir.display()
    );
    let e = Logger::open("ec_logger", "tls", &cfg).unwrap_err();
    assert!(e.to_string().contains("syslog_tls_ca"), "{e}");
    let cfg = format!("{cfg}syslog_tls_ca = \"{}/none.pem\"\n", dir.display());
    let e = Logger::open("ec_logger", "tls", &cfg).unwrap_err();
    assert!(e.to_string().contains("none.pem"), "{e}");
    let cfg = format!("{cfg}syslog_tls_cert = \"{}/c.pem\"\n", dir.display());
    let e = Logger::open("ec_logger", "tls", &cfg).unwrap_err();
    assert!(e.to_string().contains("go together"), "{e}");
}
