//! The real `logrotate` driving mtalog under continuous logging, in its common setups:
//! `create` with a postrotate that asks for a reopen through the control socket (via the
//! example client `mtalog_ctl`) or through SIGHUP to the example MTA; and `copytruncate`.
//!
//! Without logrotate these tests are skipped, except under CI (`CI=true`), where a missing
//! logrotate is a failure.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtalog::event::{Field, Kind};
use mtalog::logger::Logger;

mod support;

use support::{cc, cdylib};

fn work_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("rotation_logrotate")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The logrotate binary, or `None` (skip) when it is missing outside CI.
fn logrotate() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join("logrotate"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "logrotate is not installed (CI=true: install the Debian package logrotate)"
        );
        eprintln!("logrotate not installed: test skipped");
    }
    found
}

/// Compiles one C example into the test's scratch directory.
fn build_example(name: &str, libs: &[&str]) -> PathBuf {
    // Once per test binary: two tests compiling the same program at once would have one
    // run it while the other's linker still writes it (ETXTBSY).
    static BUILT: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, exe)) = built.iter().find(|(n, _)| n == name) {
        return exe.clone();
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rotation_logrotate");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join(format!("{name}-{}", std::process::id()));
    cc(&format!("examples_c/{name}.c"), &exe, libs);
    built.push((name.to_owned(), exe.clone()));
    exe
}

/// Runs logrotate on `conf`, forcing a rotation.
fn rotate(logrotate: &Path, dir: &Path, conf: &str) {
    let conf_path = dir.join("logrotate.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let out = Command::new(logrotate)
        .arg("-s")
        .arg(dir.join("logrotate.state"))
        .arg("-f")
        .arg(&conf_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "logrotate failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `path.N ... path.1 path`: logrotate's numbered files, oldest first, then the current.
fn logrotate_files(path: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for n in (1..100).rev() {
        let p = PathBuf::from(format!("{}.{n}", path.display()));
        if p.exists() {
            v.push(p);
        }
    }
    v.push(path.to_path_buf());
    v
}

/// How every line the tests log starts (their events' time).
const TIME: &str = "1700000000@";

/// The `t<thread>-<i>` ids of the ec mainlog lines, in file order; fails on a NUL byte or
/// a line that is not whole. With `copied`, the files before the last are logrotate's
/// copies, and each may end in part of the one line mtalog was writing while logrotate
/// read the file (a read of a regular file may see a write half done); that part is
/// left out, and the count of such tails is returned.
fn ids(files: &[PathBuf], copied: bool) -> (Vec<(usize, usize)>, usize) {
    let mut out = Vec::new();
    let mut tails = 0;
    for (n, f) in files.iter().enumerate() {
        let mut raw = std::fs::read(f).unwrap();
        assert!(!raw.contains(&0), "{} has NUL bytes", f.display());
        if !raw.is_empty() && !raw.ends_with(b"\n") {
            assert!(
                copied && n + 1 < files.len(),
                "{} ends mid-line",
                f.display()
            );
            let whole = raw.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let tail = String::from_utf8_lossy(&raw[whole..]).into_owned();
            assert!(
                tail.len() < 200 && (TIME.starts_with(&tail) || tail.starts_with(TIME)),
                "{}: the tail is not the start of a line: {tail:?}",
                f.display()
            );
            raw.truncate(whole);
            tails += 1;
        }
        for line in String::from_utf8(raw).unwrap().lines() {
            let fields: Vec<&str> = line.split('@').collect();
            assert_eq!(fields.len(), 12, "torn line in {}: {line}", f.display());
            assert_eq!(
                fields[0],
                &TIME[..10],
                "torn line in {}: {line}",
                f.display()
            );
            let (t, i) = fields[1]
                .strip_prefix('t')
                .and_then(|r| r.split_once('-'))
                .unwrap_or_else(|| panic!("{line}"));
            out.push((t.parse().unwrap(), i.parse().unwrap()));
        }
    }
    (out, tails)
}

/// Threads log deliveries (`t<thread>-<i>`) until `stop`; returns how many each logged.
fn start_logging(
    l: &Arc<Logger>,
    threads: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<usize>> {
    (0..threads)
        .map(|t| {
            let (l, stop) = (Arc::clone(l), Arc::clone(stop));
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut ev = l.begin(Kind::Delivery).unwrap();
                    ev.time.sec = 1_700_000_000;
                    ev.push(Field::MsgId, format!("t{t}-{i}").as_bytes(), 100);
                    ev.push(Field::DomainName, b"d.example", 100);
                    assert!(l.submit(ev));
                    i += 1;
                    if i % 50 == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                i
            })
        })
        .collect()
}

/// Logs from 3 threads while logrotate runs `rounds` times with `conf`; returns how many
/// events each thread logged.
fn log_while_rotating(l: Logger, lr: &Path, dir: &Path, conf: &str, rounds: usize) -> Vec<usize> {
    let l = Arc::new(l);
    let stop = Arc::new(AtomicBool::new(false));
    let hs = start_logging(&l, 3, &stop);
    for _ in 0..rounds {
        std::thread::sleep(Duration::from_millis(300));
        rotate(lr, dir, conf);
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let counts: Vec<usize> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    l.close().unwrap();
    counts
}

fn ec_config(d: &Path, extra: &str) -> String {
    format!(
        "mainlog = \"{0}/mainlog.ec\"\nrejectlog = \"{0}/rejectlog.ec\"\npaniclog = \"{0}/paniclog.ec\"\nheartbeat = 0\n{extra}",
        d.display()
    )
}

#[test]
fn create_and_reopen_through_the_control_socket_loses_nothing() {
    let Some(lr) = logrotate() else { return };
    let ctl = build_example("mtalog_ctl", &[]);
    let d = work_dir("create-socket");
    let sock = d.join("ctl.sock");
    let l = Logger::open(
        "ec_logger",
        "t",
        &ec_config(&d, &format!("control_socket = \"{}\"\n", sock.display())),
    )
    .unwrap();
    let main = d.join("mainlog.ec");
    let conf = format!(
        "{main} {{\n  rotate 20\n  create 0644\n  missingok\n  postrotate\n    {ctl} {sock} reopen logs > {out}\n  endscript\n}}\n",
        main = main.display(),
        ctl = ctl.display(),
        sock = sock.display(),
        out = d.join("ctl.out").display(),
    );
    let counts = log_while_rotating(l, &lr, &d, &conf, 3);
    assert_eq!(
        std::fs::read_to_string(d.join("ctl.out")).unwrap(),
        "Log files reopened\n"
    );
    let files = logrotate_files(&main);
    assert_eq!(files.len(), 4, "{files:?}");
    let (got, _) = ids(&files, false);
    // Exactly once, in order per thread.
    for (t, &n) in counts.iter().enumerate() {
        let mine: Vec<usize> = got.iter().filter(|x| x.0 == t).map(|x| x.1).collect();
        assert_eq!(mine, (0..n).collect::<Vec<_>>(), "thread {t}");
    }
    for f in &files {
        assert!(
            std::fs::metadata(f).unwrap().len() > 0,
            "{} empty",
            f.display()
        );
    }
}

#[test]
fn copytruncate_leaves_no_hole_no_torn_line_no_duplicate() {
    let Some(lr) = logrotate() else { return };
    let d = work_dir("copytruncate");
    let l = Logger::open("ec_logger", "t", &ec_config(&d, "flush_interval = 10ms\n")).unwrap();
    let main = d.join("mainlog.ec");
    let conf = format!(
        "{} {{\n  rotate 20\n  copytruncate\n  missingok\n}}\n",
        main.display()
    );
    let counts = log_while_rotating(l, &lr, &d, &conf, 3);
    let files = logrotate_files(&main);
    assert_eq!(files.len(), 4);
    let (got, tails) = ids(&files, true);
    let mut seen = HashSet::new();
    for x in &got {
        assert!(seen.insert(*x), "duplicate {x:?}");
    }
    // In order per thread; what is missing was written between logrotate's copy and its
    // truncate (copytruncate's own window, which may also cut the copy's last line), and
    // the end is complete.
    for (t, &n) in counts.iter().enumerate() {
        let mine: Vec<usize> = got.iter().filter(|x| x.0 == t).map(|x| x.1).collect();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "thread {t} out of order"
        );
        assert_eq!(mine.last(), Some(&(n - 1)), "thread {t}");
    }
    for f in &files[..3] {
        assert!(
            std::fs::metadata(f).unwrap().len() > 0,
            "{} empty",
            f.display()
        );
    }
    eprintln!(
        "copytruncate: {} of {} events kept, {tails} copies ending in part of a line",
        got.len(),
        counts.iter().sum::<usize>()
    );
}

#[test]
fn create_and_sighup_to_the_example_mta_loses_nothing() {
    let Some(lr) = logrotate() else { return };
    let sim = build_example("mta_sim", &["-ldl", "-lpthread"]);
    let d = work_dir("sighup");
    std::fs::write(
        d.join("mtalog.conf"),
        "ec_logger \"ec_logger1\" {\n  mainlog = \"mainlog.ec\"\n  rejectlog = \"rejectlog.ec\"\n  paniclog = \"paniclog.ec\"\n  heartbeat = 0\n}\n",
    )
    .unwrap();
    let child = Command::new(&sim)
        .current_dir(&d)
        .args(["-c", "mtalog.conf", "-j", "3", "-n", "6000", "-p", "1000"])
        .arg("-l")
        .arg(cdylib())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let files = ["mainlog.ec", "rejectlog.ec", "paniclog.ec"].map(|f| d.join(f));
    let conf = format!(
        "{} {} {} {{\n  rotate 20\n  create 0644\n  missingok\n  sharedscripts\n  postrotate\n    kill -HUP {}\n  endscript\n}}\n",
        files[0].display(),
        files[1].display(),
        files[2].display(),
        child.id()
    );
    // The example has opened its logs before the first rotation (missingok would skip it).
    let start = std::time::Instant::now();
    while !files[0].exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(400));
        rotate(&lr, &d, &conf);
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mta_sim failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("ec_logger "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let written: usize = row.split_whitespace().nth(3).unwrap().parse().unwrap();
    // Every event is one line; across the rotated and current files, exactly as many lines
    // as events written, none torn, no NUL bytes, and the moved files all got lines.
    let mut lines = 0;
    let mut main_lines = HashSet::new();
    for f in &files {
        let all = logrotate_files(f);
        if f == &files[0] {
            assert!(all.len() >= 3, "{all:?}");
        }
        for p in all {
            let raw = std::fs::read(&p).unwrap();
            assert!(!raw.contains(&0), "{} has NUL bytes", p.display());
            assert!(raw.is_empty() || raw.ends_with(b"\n"));
            let text = String::from_utf8(raw).unwrap();
            lines += text.lines().count();
            if f == &files[0] {
                for line in text.lines() {
                    assert!(main_lines.insert(line.to_owned()), "duplicate: {line}");
                }
            }
        }
    }
    assert_eq!(lines, written, "{stdout}");
    assert!(stdout.contains(" reopens"), "{stdout}");
}

#[test]
fn mtalog_ctl_gives_up_when_no_reply_comes() {
    let ctl = build_example("mtalog_ctl", &[]);
    let d = work_dir("ctl-timeout");
    let sock = d.join("mute.sock");
    let (server, done_tx) = support::mute_console(&sock);
    let start = std::time::Instant::now();
    let out = Command::new(&ctl)
        .args(["-t", "1"])
        .arg(&sock)
        .args(["reopen", "logs"])
        .output()
        .unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no reply within 1 s"), "{err}");
    done_tx.send(()).unwrap();
    assert_eq!(server.join().unwrap(), "reopen logs\n");
    let out = Command::new(&ctl)
        .args(["-t", "0"])
        .arg(&sock)
        .arg("stats")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
