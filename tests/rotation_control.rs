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
        "ec_logger:a: Log files reopened\nec_logger:b: Log files reopened\n"
    );
    line(&a, "a2");
    line(&b, "b2");

    let stats = request(&sock, "ec_logger:b stats").unwrap();
    assert!(stats.contains("ec_logger:b: reopens: 1\n"), "{stats}");
    assert_eq!(stats.matches("accepted:").count(), 1);
    // Every counter, each line labelled with its logger.
    let stats = request(&sock, "stats").unwrap();
    for name in [
        "accepted",
        "written",
        "dropped",
        "filtered",
        "truncated",
        "panics",
    ] {
        for l in ["a", "b"] {
            let want = format!("ec_logger:{l}: {name}: ");
            assert_eq!(stats.matches(&want).count(), 1, "{want} in\n{stats}");
        }
    }
    assert!(
        stats.lines().all(|l| l.starts_with("ec_logger:")),
        "{stats}"
    );
    assert_eq!(
        request(&sock, "help")
            .unwrap()
            .matches("reopen logs")
            .count(),
        1
    );
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

#[test]
fn a_silent_or_slow_client_delays_nobody() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    let d = dir("slow");
    let sock = d.join("slow.sock");
    let conf = format!("{}close_timeout = 2s\n", config(&d, "s", &sock));
    let l = Logger::open("ec_logger", "s", &conf).unwrap();

    // One client connects and sends nothing; another sends a byte now and then.
    let silent = UnixStream::connect(&sock).unwrap();
    let trickle_sock = sock.clone();
    let trickler = std::thread::spawn(move || {
        let mut s = UnixStream::connect(&trickle_sock).unwrap();
        let start = Instant::now();
        for _ in 0..25 {
            if s.write_all(b"s").is_err() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(400));
        }
        None
    });
    std::thread::sleep(Duration::from_millis(200));
    // Other clients are answered at once.
    for _ in 0..3 {
        let start = Instant::now();
        let mut s = UnixStream::connect(&sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"stats\n").unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).expect("no reply within 10 s");
        assert!(reply.contains("written: 0\n"), "{reply}");
        // Well under the 3 s a silent client may take (margin for a busy machine).
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }
    // Each is given a few seconds in all, however it trickles, and gets no reply.
    let cut = trickler
        .join()
        .unwrap()
        .expect("the trickling client was never cut off");
    assert!(cut < Duration::from_secs(6), "{cut:?}");
    let mut silent = silent;
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    silent.read_to_end(&mut got).unwrap();
    assert!(got.is_empty(), "{got:?}");

    // A client that closes without a command gets no reply (and no `unknown command`).
    let mut quiet = UnixStream::connect(&sock).unwrap();
    quiet.shutdown(std::net::Shutdown::Write).unwrap();
    quiet
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = String::new();
    quiet.read_to_string(&mut got).unwrap();
    assert_eq!(got, "");

    // A silent client does not hold up the close either.
    let _held = UnixStream::connect(&sock).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    l.close().unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "close took {:?}",
        start.elapsed()
    );
    assert!(!sock.exists());
}

/// Runs `Logger::open` on another thread; panics if it takes longer than 10 s.
fn open_within(conf: String) -> Result<Logger, mtalog::error::Error> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Logger::open("ec_logger", "p", &conf));
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("log_init hung on the control socket")
}

#[test]
fn only_a_refused_connection_makes_a_socket_stale() {
    use std::os::unix::fs::MetadataExt;

    let d = dir("probe");
    // A live listener whose backlog is full: checking it must not wait, and it is kept.
    let sock = d.join("full.sock");
    let c = std::ffi::CString::new(sock.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: plain socket calls on a descriptor this test owns; the address is a zeroed
    // `sockaddr_un` with a NUL-terminated path that fits.
    let fd = unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let mut a: libc::sockaddr_un = std::mem::zeroed();
        a.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, &b) in a.sun_path.iter_mut().zip(c.as_bytes()) {
            *d = b as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, (&a as *const libc::sockaddr_un).cast(), len),
            0
        );
        assert_eq!(libc::listen(fd, 0), 0);
        fd
    };
    let _pending = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    let ino = std::fs::metadata(&sock).unwrap().ino();
    let e = open_within(config(&d, "p", &sock)).unwrap_err();
    assert_eq!(e.errno(), libc::EADDRINUSE, "{e}");
    assert_eq!(std::fs::metadata(&sock).unwrap().ino(), ino);
    // SAFETY: the descriptor is this test's and is closed once.
    unsafe { libc::close(fd) };

    // A socket that refuses for another reason (a datagram socket: EPROTOTYPE) is not
    // taken for stale either.
    let dgram_path = d.join("dgram.sock");
    let _dgram = std::os::unix::net::UnixDatagram::bind(&dgram_path).unwrap();
    let ino = std::fs::metadata(&dgram_path).unwrap().ino();
    let e = open_within(config(&d, "p", &dgram_path)).unwrap_err();
    assert_eq!(e.errno(), libc::EPROTOTYPE, "{e}");
    assert!(e.to_string().contains("not replaced"), "{e}");
    assert_eq!(std::fs::metadata(&dgram_path).unwrap().ino(), ino);
}

/// Connects `n` clients that send nothing.
fn idle_clients(sock: &Path, n: usize) -> Vec<std::os::unix::net::UnixStream> {
    (0..n)
        .map(|_| std::os::unix::net::UnixStream::connect(sock).unwrap())
        .collect()
}

/// Is the server's end of `s` still open (nothing to read, no end of file)?
fn still_open(s: &std::os::unix::net::UnixStream) -> bool {
    use std::io::Read;
    s.set_nonblocking(true).unwrap();
    let mut r = s;
    let open =
        matches!(r.read(&mut [0u8; 16]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    s.set_nonblocking(false).unwrap();
    open
}

#[test]
fn a_flood_of_idle_and_trickling_clients_delays_nobody() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    let d = dir("flood");
    let sock = d.join("flood.sock");
    let l = Logger::open("ec_logger", "f", &config(&d, "f", &sock)).unwrap();

    // 200 clients that send nothing, and 40 that send one byte a second.
    let start = Instant::now();
    let idle = idle_clients(&sock, 200);
    let trickling = idle_clients(&sock, 40);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = std::sync::Arc::clone(&stop);
    let trickler = std::thread::spawn(move || {
        let mut trickling = trickling;
        while !stop2.load(std::sync::atomic::Ordering::SeqCst) {
            for s in &mut trickling {
                let _ = s.write_all(b"s");
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    std::thread::sleep(Duration::from_millis(1200));
    // A well-behaved client is answered at once, every time.
    let mut waits = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut s = UnixStream::connect(&sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(b"stats\n").unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).expect("no reply within 30 s");
        waits.push(t.elapsed());
        assert!(reply.contains("written: 0\n"), "{reply}");
    }
    println!("stats replies during a flood of 240 slow clients: {waits:?}");
    for w in &waits {
        // A fraction of a second (0.1 ms unloaded; margin for a busy machine).
        assert!(*w < Duration::from_secs(1), "{waits:?}");
    }
    // The flood was still there: within their 3 s, the idle clients were all kept.
    if start.elapsed() < Duration::from_millis(2900) {
        assert!(idle.iter().all(still_open));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    trickler.join().unwrap();
    l.close().unwrap();
}

#[test]
fn a_full_house_drops_its_idlest_client_for_a_new_one() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    let d = dir("full");
    let sock = d.join("full.sock");
    let l = Logger::open("ec_logger", "h", &config(&d, "h", &sock)).unwrap();
    let start = Instant::now();
    // Every place taken by a client that sends nothing (accepted in this order).
    let idle = idle_clients(&sock, mtalog::control::MAX_CLIENTS);
    let mut fillers = Vec::new();
    for n in 0..2 {
        if n > 0 {
            // The house is full again (the newcomer before was answered and left).
            fillers.extend(idle_clients(&sock, 1));
        }
        let t = Instant::now();
        let mut s = UnixStream::connect(&sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(b"stats\n").unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).expect("no reply within 30 s");
        assert!(reply.contains("written: 0\n"), "{reply}");
        // Let in at once, not after the idle clients' 3 s (margin for a busy machine).
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        // The oldest idle clients made room (closed before the reply was sent), one per
        // newcomer; the others are kept within their 3 s.
        for (i, c) in idle.iter().enumerate().take(4) {
            if i <= n {
                assert!(!still_open(c), "client {i} was kept after newcomer {n}");
            } else if start.elapsed() < Duration::from_millis(2900) {
                assert!(still_open(c), "client {i} was dropped after newcomer {n}");
            }
        }
    }
    if start.elapsed() < Duration::from_millis(2900) {
        assert!(idle[2..].iter().chain(&fillers).all(still_open));
    }
    l.close().unwrap();
}
