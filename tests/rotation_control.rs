//! The control socket: console commands from another process's point of view.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mtalog::control::request;
use mtalog::event::{Field, Kind};
use mtalog::logger::Logger;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mtalog-ctl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(d: &Path, name: &str, socket: &Path) -> String {
    format!(
        "mainlog = \"{0}/{name}.main\"\nrejectlog = \"{0}/{name}.reject\"\npaniclog = \"{0}/{name}.panic\"\nheartbeat = 0\ncontrol_socket = \"{1}\"\n",
        d.display(),
        socket.display()
    )
}

fn line(l: &Logger, id: &str) {
    let mut ev = l.begin(Kind::Delivery).unwrap();
    ev.time.sec = 1_700_000_000;
    ev.push(Field::MsgId, id.as_bytes(), 100);
    assert!(l.submit(ev));
}

fn ids(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| l.split('@').nth(1).unwrap().to_owned())
        .collect()
}

#[test]
fn one_socket_serves_several_loggers() {
    let d = dir("two");
    let sock = d.join("ctl.sock");
    // A stale socket file (nobody listening) is replaced.
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());
    let a = Logger::open("ec_logger", "a", &config(&d, "a", &sock)).unwrap();
    let b = Logger::open("ec_logger", "b", &config(&d, "b", &sock)).unwrap();
    let meta = std::fs::symlink_metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    line(&a, "a1");
    line(&b, "b1");
    std::fs::rename(d.join("a.main"), d.join("a.main.1")).unwrap();
    std::fs::rename(d.join("b.main"), d.join("b.main.1")).unwrap();
    assert_eq!(
        request(&sock, "reopen logs").unwrap(),
        "Log files reopened\nLog files reopened\n"
    );
    line(&a, "a2");
    line(&b, "b2");

    let stats = request(&sock, "ec_logger:b stats").unwrap();
    assert!(stats.contains("reopens: 1\n"), "{stats}");
    assert_eq!(stats.matches("accepted:").count(), 1);
    assert!(request(&sock, "help").unwrap().starts_with("reopen logs\n"));
    let e = request(&sock, "frobnicate").unwrap();
    assert!(
        e.starts_with("error: ") && e.contains("unknown command"),
        "{e}"
    );
    let e = request(&sock, "ec_logger:nobody stats").unwrap();
    assert!(e.starts_with("error: no logger ec_logger:nobody"), "{e}");

    // Another logger cannot take a socket a live process listens on... but this process
    // shares it (several loggers, one listener); a regular file is never replaced.
    let f = d.join("not-a-socket");
    std::fs::write(&f, b"keep").unwrap();
    let e = Logger::open("ec_logger", "c", &config(&d, "c", &f)).unwrap_err();
    assert!(e.to_string().contains("not a socket"), "{e}");
    assert_eq!(std::fs::read(&f).unwrap(), b"keep");

    a.close().unwrap();
    // b still answers; only its reply comes back.
    assert_eq!(
        request(&sock, "reopen logs").unwrap(),
        "Log files reopened\n"
    );
    b.close().unwrap();
    assert!(!sock.exists(), "socket removed at the last close");

    assert_eq!(ids(&d.join("a.main.1")), ["a1"]);
    assert_eq!(ids(&d.join("a.main")), ["a2"]);
    assert_eq!(ids(&d.join("b.main.1")), ["b1"]);
    assert_eq!(ids(&d.join("b.main")), ["b2"]);
}

#[test]
fn a_socket_in_use_by_another_listener_is_refused() {
    let d = dir("busy");
    let sock = d.join("busy.sock");
    let _other = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let e = Logger::open("ec_logger", "x", &config(&d, "x", &sock)).unwrap_err();
    assert!(e.to_string().contains("another process"), "{e}");
    assert_eq!(e.errno(), libc::EADDRINUSE, "{e}");
    // Another kind of file at the path is refused too, with its own code.
    let file = d.join("plain");
    std::fs::write(&file, b"").unwrap();
    let e = Logger::open("ec_logger", "x", &config(&d, "x", &file)).unwrap_err();
    assert_eq!(e.errno(), libc::EEXIST, "{e}");
    // The logger did not start half-way: a fresh one with another socket works.
    let l = Logger::open("ec_logger", "x", &config(&d, "x", &d.join("ok.sock"))).unwrap();
    assert!(
        request(&d.join("ok.sock"), "stats")
            .unwrap()
            .contains("written: 0\n")
    );
    l.close().unwrap();
}

#[test]
fn a_socket_path_at_the_address_limit_works() {
    let d = dir("long");
    // Paths of 107 bytes (the most a socket address holds) and 108 (one too many), padded
    // with a subdirectory; the temporary name used otherwise would not fit.
    let base = d.display().to_string().len() + 1;
    assert!(base < 80, "temporary directory too deep for this test");
    let sub = d.join("p".repeat(100 - base));
    std::fs::create_dir_all(&sub).unwrap();
    let prefix = sub.display().to_string().len() + 1;
    let sock = sub.join("s".repeat(107 - prefix));
    assert_eq!(sock.as_os_str().len(), 107);
    let l = Logger::open("ec_logger", "l", &config(&d, "l", &sock)).unwrap();
    let meta = std::fs::symlink_metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    line(&l, "x1");
    assert!(request(&sock, "stats").unwrap().contains("accepted: 1\n"));
    l.close().unwrap();
    // A socket file left by a process that died is replaced at this length too.
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());
    let l = Logger::open("ec_logger", "l", &config(&d, "l", &sock)).unwrap();
    assert!(request(&sock, "stats").unwrap().contains("accepted: 0\n"));
    l.close().unwrap();

    let too_long = sub.join("s".repeat(108 - prefix));
    let e = Logger::open("ec_logger", "m", &config(&d, "m", &too_long)).unwrap_err();
    assert!(e.to_string().contains("control_socket"), "{e}");
    assert!(!too_long.exists());
}
