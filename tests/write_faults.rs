//! A fault that lasts: the mainlog reaches the process's file size limit (`RLIMIT_FSIZE`,
//! `EFBIG`) in the middle of a line, and every later write to it fails. The writer keeps the
//! events; a reopen (the operator moved the full file away) is acted on at once, although
//! its request waits in the queue behind the fault, and every event reaches the new file.
//! The line the limit cut is finished in the new file, not lost and not mixed with another.
//!
//! The limit applies to a whole process, so the logging runs in a child process: this test
//! runs its own binary again with `MTALOG_FSIZE_CHILD` set.

use std::path::Path;
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

/// The child: the limit, then the events, the reopen and the close.
fn child(dir: &Path) {
    let main = dir.join("mainlog.ec");
    // Nearly full before the limit applies: whole filler lines up to 1,000 bytes short.
    let filler = "#\n".repeat((LIMIT as usize - 1000) / 2);
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
         heartbeat = 0\nclose_timeout = 20s\n",
        dir.display()
    );
    let l = Logger::open("ec_logger", "fsize", &cfg).unwrap();
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
    let dir = std::env::temp_dir().join(format!("mtalog-fsize-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_reopen_during_a_lasting_write_fault_moves_to_the_new_file_and_loses_nothing",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
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
