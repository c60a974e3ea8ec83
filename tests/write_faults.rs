//! A fault that lasts: the mainlog reaches the process's file size limit (`RLIMIT_FSIZE`,
//! `EFBIG`) in the middle of a line, and every later write to it fails. The writer keeps the
//! events; a reopen (the operator moved the full file away) is acted on at once, although
//! its request waits in the queue behind the fault, and every event reaches the new file.
//! The line the limit cut is finished in the new file, not lost and not mixed with another.
//!
//! The limit applies to a whole process, so the logging runs in a child process: this test
//! runs its own binary again with `MTALOG_FSIZE_CHILD` set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mtalog::event::{Field, Kind};
use mtalog::logger::Logger;

const CHILD: &str = "MTALOG_FSIZE_CHILD";
const LIMIT: u64 = 64 * 1024;
const EVENTS: usize = 300;

fn delivery(l: &Logger, i: usize) {
    let mut ev = l.begin(Kind::Delivery).unwrap();
    ev.time.sec = 1_700_000_000;
    ev.push(Field::MsgId, format!("m-{i}").as_bytes(), 100);
    ev.push(Field::DomainName, b"d.example", 100);
    ev.push(Field::MxIp, b"192.0.2.25", 100);
    assert!(l.submit(ev));
}

/// In the child: a mainlog `room` bytes short of the limit (filler lines), the limit, and a
/// logger writing it with `close_timeout`.
fn limited_logger(dir: &Path, room: usize, close_timeout: &str) -> Logger {
    let main = dir.join("mainlog.ec");
    let filler = "#\n".repeat((LIMIT as usize - room) / 2);
    std::fs::write(&main, filler).unwrap();
    let lim = libc::rlimit {
        rlim_cur: LIMIT,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: plain system calls with a valid struct; a write past the limit then fails
    // with EFBIG instead of killing the process with SIGXFSZ.
    unsafe {
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cfg = format!(
        "mainlog = \"{0}/mainlog.ec\"\npaniclog = \"{0}/paniclog.ec\"\nrejectlog = \"{0}/rejectlog.ec\"\n\
         heartbeat = 0\nclose_timeout = {close_timeout}\n",
        dir.display()
    );
    Logger::open("ec_logger", "fsize", &cfg).unwrap()
}

/// Runs `test` of this binary again in a child process with `CHILD` set to `dir`.
fn in_child(test: &str, dir: &Path) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtalog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The child: the limit (whole filler lines up to 1,000 bytes short of it), then the
/// events, the reopen and the close.
fn child(dir: &Path) {
    let main = dir.join("mainlog.ec");
    let l = limited_logger(dir, 1000, "20s");
    for i in 0..EVENTS {
        delivery(&l, i);
    }
    // Wait until the writer met the limit (a flush would wait for the fault to end).
    let t = Instant::now();
    while l.stats().write_errors == 0 {
        assert!(t.elapsed() < Duration::from_secs(10), "no write fault");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::rename(&main, dir.join("mainlog.ec.full")).unwrap();
    l.reopen().expect("a reopen during a lasting write fault");
    l.close().expect("close");
    let s = l.stats();
    assert_eq!((s.written, s.reopens), (EVENTS as u64, 1), "{s:?}");
}

#[test]
fn a_reopen_during_a_lasting_write_fault_moves_to_the_new_file_and_loses_nothing() {
    if let Ok(dir) = std::env::var(CHILD) {
        child(Path::new(&dir));
        return;
    }
    let dir = scratch("fsize");
    in_child(
        "a_reopen_during_a_lasting_write_fault_moves_to_the_new_file_and_loses_nothing",
        &dir,
    );

    let full = std::fs::read_to_string(dir.join("mainlog.ec.full")).unwrap();
    let new = std::fs::read_to_string(dir.join("mainlog.ec")).unwrap();
    assert_eq!(full.len() as u64, LIMIT, "the old file filled to the limit");
    // The limit cut a line: its start is the old file's end, its rest starts the new file.
    let (kept, head) = full.rsplit_once('\n').unwrap();
    assert!(
        !head.is_empty(),
        "the limit fell between lines; the test needs a cut line"
    );
    let (tail, rest) = new.split_once('\n').unwrap();
    let cut = format!("{head}{tail}");
    let lines = kept
        .lines()
        .filter(|l| *l != "#")
        .chain(std::iter::once(cut.as_str()))
        .chain(rest.lines());
    let mut ids = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('@').collect();
        assert_eq!(f.len(), 12, "not one whole D line: {line:?}");
        assert_eq!(f[4], "D", "{line:?}");
        ids.push(f[1].strip_prefix("m-").unwrap().parse::<usize>().unwrap());
    }
    assert_eq!(ids, (0..EVENTS).collect::<Vec<_>>());
    assert!(new.ends_with('\n'));
    let panic = std::fs::read_to_string(dir.join("paniclog.ec")).unwrap();
    assert!(panic.contains("File too large"), "{panic}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child of the next test: one line, which the limit cuts.
fn one_cut_line(dir: &Path) {
    let l = limited_logger(dir, 30, "1s");
    delivery(&l, 0);
    // The line's start fits, its end does not: that is a fault, not a finished flush.
    let e = l.flush().unwrap_err();
    assert_eq!(e.errno(), libc::ETIMEDOUT, "{e}");
    assert_eq!(l.stats().write_errors, 1);
    std::fs::rename(dir.join("mainlog.ec"), dir.join("mainlog.ec.full")).unwrap();
    l.reopen().expect("reopen");
    l.flush().expect("flush after the reopen");
    l.close().expect("close");
}

#[test]
fn a_line_cut_at_its_end_is_a_fault_until_its_rest_is_written() {
    if let Ok(dir) = std::env::var(CHILD) {
        one_cut_line(Path::new(&dir));
        return;
    }
    let dir = scratch("fsize-one");
    in_child(
        "a_line_cut_at_its_end_is_a_fault_until_its_rest_is_written",
        &dir,
    );
    let full = std::fs::read_to_string(dir.join("mainlog.ec.full")).unwrap();
    let new = std::fs::read_to_string(dir.join("mainlog.ec")).unwrap();
    let (_, head) = full.rsplit_once('\n').unwrap();
    assert_eq!(full.len() as u64, LIMIT);
    assert!(head.starts_with("1700000000@m-0@"), "{head:?}");
    let line = format!("{head}{new}");
    assert_eq!(line.matches('\n').count(), 1, "{line:?}");
    assert_eq!(line.split('@').count(), 12, "{line:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
