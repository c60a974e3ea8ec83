//! Built-in rotation and retention under continuous logging from several threads: every
//! event is found exactly once across the current and rotated files, in order per thread.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtalog::event::{Field, Kind};
use mtalog::file::rotate::{parse_rotated, scan};
use mtalog::logger::Logger;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mtalog-rotation-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ec_config(d: &Path, extra: &str) -> String {
    format!(
        "mainlog = \"{0}/mainlog.ec\"\nrejectlog = \"{0}/rejectlog.ec\"\npaniclog = \"{0}/paniclog.ec\"\nheartbeat = 0\n{extra}",
        d.display()
    )
}

/// One delivery whose message id names the thread and the sequence number.
fn delivery(l: &Logger, t: usize, i: usize) {
    let mut ev = l.begin(Kind::Delivery).unwrap();
    ev.time.sec = 1_700_000_000;
    ev.push(Field::MsgId, format!("t{t}-{i}").as_bytes(), 100);
    ev.push(Field::RcptTo, format!("t{t}-{i}@d.example").as_bytes(), 100);
    ev.push(Field::DomainName, b"d.example", 100);
    assert!(l.submit(ev));
}

/// Logs `n` events from each of `threads` threads, for at least `min_time`.
fn log_from_threads(l: &Arc<Logger>, threads: usize, n: usize, min_time: Duration) {
    let start = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let l = Arc::clone(l);
            std::thread::spawn(move || {
                for i in 0..n {
                    delivery(&l, t, i);
                    let due = min_time.mul_f64((i + 1) as f64 / n as f64);
                    if let Some(wait) = due.checked_sub(start.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

/// The rotated files of `path` (oldest first), then `path`.
fn all_files(path: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = scan(path).unwrap().into_iter().map(|f| f.path).collect();
    v.push(path.to_path_buf());
    v
}

fn read(p: &Path) -> String {
    let raw = std::fs::read(p).unwrap();
    if p.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(raw).unwrap()
    }
}

/// The `t<thread>-<seq>` ids of the ec mainlog lines in `files`, in file order.
fn ec_ids(files: &[PathBuf]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for f in files {
        for line in read(f).lines() {
            let id = line.split('@').nth(1).unwrap_or_else(|| panic!("{line}"));
            out.push(parse_id(id));
        }
    }
    out
}

fn parse_id(id: &str) -> (usize, usize) {
    let (t, i) = id
        .strip_prefix('t')
        .and_then(|r| r.split_once('-'))
        .unwrap_or_else(|| panic!("not an id: {id}"));
    (t.parse().unwrap(), i.parse().unwrap())
}

/// Every event of every thread exactly once and in order (from `first[t]` on, for files
/// whose oldest part was removed by retention).
fn exactly_once(ids: &[(usize, usize)], threads: usize, n: usize, tail_only: bool) {
    let mut next: HashMap<usize, usize> = HashMap::new();
    for &(t, i) in ids {
        let want = next.entry(t).or_insert(if tail_only { i } else { 0 });
        assert_eq!(i, *want, "thread {t}: expected event {want}, found {i}");
        *want += 1;
    }
    for t in 0..threads {
        // With the oldest files removed, a thread that finished early may be gone whole.
        if tail_only && !next.contains_key(&t) {
            continue;
        }
        assert_eq!(next.get(&t).copied(), Some(n), "thread {t} incomplete");
    }
}

/// Runs an ec_logger with `extra` options while `threads` threads log `n` events each.
fn ec_run(d: &Path, extra: &str, threads: usize, n: usize) -> Arc<Logger> {
    let l = Arc::new(Logger::open("ec_logger", "t", &ec_config(d, extra)).unwrap());
    log_from_threads(&l, threads, n, Duration::ZERO);
    l.close().unwrap();
    l
}

fn rotated_seqs(path: &Path) -> Vec<u64> {
    scan(path).unwrap().iter().map(|f| f.seq).collect()
}

#[test]
fn size_limit_rotates_between_whole_lines_and_loses_nothing() {
    let d = dir("size");
    let l = ec_run(&d, "max_file_size = 16K\nqueue_size = 1024\n", 4, 5000);
    let main = d.join("mainlog.ec");
    let files = all_files(&main);
    assert!(files.len() > 10, "{files:?}");
    for f in &files {
        let len = std::fs::metadata(f).unwrap().len();
        assert!(len <= 16 * 1024, "{} has {len} bytes", f.display());
        assert!(read(f).ends_with('\n'));
    }
    let seqs = rotated_seqs(&main);
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    exactly_once(&ec_ids(&files), 4, 5000, false);
    assert_eq!(l.stats().rotations, seqs.len() as u64);
    // The other files of the logger rotate only when they grow.
    assert!(scan(&d.join("rejectlog.ec")).unwrap().is_empty());
}

#[test]
fn sequence_numbers_continue_after_a_restart() {
    let d = dir("restart");
    std::fs::write(d.join("mainlog.ec.41.1600000000"), b"").unwrap();
    std::fs::write(d.join("mainlog.ec.7.1500000000.gz"), b"").unwrap();
    let l = Logger::open("ec_logger", "t", &ec_config(&d, "max_file_size = 1K\n")).unwrap();
    for i in 0..100 {
        delivery(&l, 0, i);
    }
    l.close().unwrap();
    let seqs = rotated_seqs(&d.join("mainlog.ec"));
    assert_eq!(seqs[..2], [7, 41]);
    assert_eq!(seqs[2], 42);
    for f in scan(&d.join("mainlog.ec")).unwrap().iter().skip(2) {
        let name = f.path.file_name().unwrap().to_string_lossy().into_owned();
        let (_, created, _) = parse_rotated("mainlog.ec", &name).unwrap();
        let now = mtalog::file::rotate::unix_now();
        assert!((now - created).abs() < 60, "{name}");
    }
}

#[test]
fn rollover_time_rotates_while_threads_log() {
    let d = dir("time");
    let l =
        Arc::new(Logger::open("ec_logger", "t", &ec_config(&d, "rollover_time = 1s\n")).unwrap());
    let start = Instant::now();
    log_from_threads(&l, 3, 600, Duration::from_millis(3500));
    l.close().unwrap();
    let secs = start.elapsed().as_secs();
    let main = d.join("mainlog.ec");
    // One rotation per second boundary crossed while logging, give or take the first and
    // the last (a busy machine may stretch the 3.5 s).
    let n = rotated_seqs(&main).len() as u64;
    assert!((2..=secs + 2).contains(&n), "{n} rotations in {secs} s");
    exactly_once(&ec_ids(&all_files(&main)), 3, 600, false);
}

#[test]
fn max_files_keeps_the_newest() {
    let d = dir("maxfiles");
    let l = ec_run(&d, "max_file_size = 8K\nmax_files = 3\n", 3, 2000);
    let main = d.join("mainlog.ec");
    let seqs = rotated_seqs(&main);
    assert_eq!(seqs.len(), 2, "{seqs:?}");
    let total = l.stats().rotations;
    assert_eq!(seqs, [total - 1, total]);
    exactly_once(&ec_ids(&all_files(&main)), 3, 2000, true);
}

#[test]
fn max_total_size_removes_old_files_as_the_current_one_grows() {
    // No size limit and no rollover: the current file only grows, and the files an earlier
    // run rotated go, oldest first, once the total would pass max_total_size.
    let d = dir("growth");
    let main = d.join("mainlog.ec");
    let then = mtalog::file::rotate::unix_now() - 3600;
    for seq in 1..=4 {
        let line = format!("{then}@old-{seq}@@@M1\n");
        std::fs::write(
            mtalog::file::rotate::numbered_name(&main, seq, then),
            line.repeat(8000 / line.len()),
        )
        .unwrap();
    }
    let old_size = std::fs::metadata(mtalog::file::rotate::numbered_name(&main, 1, then))
        .unwrap()
        .len();
    let l = ec_run(&d, "max_total_size = 40K\n", 2, 200);
    let current = std::fs::metadata(&main).unwrap().len();
    // Some of the old files had to go, not all: the test's own sizes.
    assert!(
        current + 4 * old_size > 40 * 1024 && current + old_size <= 40 * 1024,
        "{current}"
    );
    let kept = (40 * 1024 - current) / old_size;
    let seqs = rotated_seqs(&main);
    assert_eq!(seqs, (5 - kept..=4).collect::<Vec<_>>(), "{current} bytes");
    let total: u64 = all_files(&main)
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(total <= 40 * 1024, "{total}");
    assert_eq!(l.stats().rotations, 0);
    exactly_once(&ec_ids(&[main]), 2, 200, false);
}

#[test]
fn max_total_size_bounds_all_files() {
    let d = dir("total");
    ec_run(&d, "max_file_size = 8K\nmax_total_size = 40K\n", 2, 3000);
    let main = d.join("mainlog.ec");
    let files = all_files(&main);
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(total <= 40 * 1024, "{total}");
    assert!(files.len() >= 4, "{files:?}");
    exactly_once(&ec_ids(&files), 2, 3000, true);
}

#[test]
fn max_age_and_min_free_disk_remove_old_files_at_start() {
    let d = dir("age");
    let old = d.join("mainlog.ec.1.1000000000");
    let young = d.join("mainlog.ec.2.1000000001");
    for p in [&old, &young] {
        std::fs::write(p, b"x\n").unwrap();
    }
    let f = std::fs::File::options().write(true).open(&old).unwrap();
    f.set_modified(std::time::SystemTime::now() - Duration::from_secs(3 * 86400))
        .unwrap();
    drop(f);
    let l = Logger::open(
        "ec_logger",
        "t",
        &ec_config(&d, "max_file_size = 1M\nmax_age = 2d\n"),
    )
    .unwrap();
    l.close().unwrap();
    assert!(!old.exists());
    assert!(young.exists());

    // More free space than any disk has: every rotated file goes, the current one stays.
    let l = Logger::open(
        "ec_logger",
        "t",
        &ec_config(&d, "max_file_size = 1M\nmin_free_disk = 1000000G\n"),
    )
    .unwrap();
    delivery(&l, 0, 0);
    l.close().unwrap();
    assert!(scan(&d.join("mainlog.ec")).unwrap().is_empty());
    assert_eq!(ec_ids(&[d.join("mainlog.ec")]), [(0, 0)]);
}

#[test]
fn compressed_rotations_hold_every_event() {
    let d = dir("gzip");
    let l = Arc::new(
        Logger::open(
            "ec_logger",
            "t",
            &ec_config(
                &d,
                "max_file_size = 32K\ncompress = true\nmainlog_mode = 0640\n",
            ),
        )
        .unwrap(),
    );
    log_from_threads(&l, 3, 4000, Duration::ZERO);
    l.flush().unwrap();
    // Compression runs beside logging (a close does not wait for it): until every rotated
    // file is compressed (60 s allows for a slow machine).
    let main = d.join("mainlog.ec");
    let start = Instant::now();
    while scan(&main).unwrap().iter().any(|f| !f.gz) {
        assert!(start.elapsed() < Duration::from_secs(60), "not compressed");
        std::thread::sleep(Duration::from_millis(20));
    }
    l.close().unwrap();
    let rotated = scan(&main).unwrap();
    assert!(rotated.len() > 3);
    for f in &rotated {
        assert!(f.gz, "{} not compressed", f.path.display());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    exactly_once(&ec_ids(&all_files(&main)), 3, 4000, false);
}

#[test]
fn a_shared_path_is_rotated_once() {
    let d = dir("shared");
    let cfg = |name: &str| {
        format!(
            "mainlog = \"{0}/shared.ec\"\nrejectlog = \"{0}/{name}-reject.ec\"\npaniclog = \"{0}/{name}-panic.ec\"\nheartbeat = 0\nmax_file_size = 8K\n",
            d.display()
        )
    };
    let a = Arc::new(Logger::open("ec_logger", "a", &cfg("a")).unwrap());
    let b = Arc::new(Logger::open("ec_logger", "b", &cfg("b")).unwrap());
    let e = Logger::open(
        "ec_logger",
        "c",
        &cfg("c").replace("max_file_size = 8K", "max_file_size = 9K"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("other rotation options"), "{e}");
    let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    let ta = std::thread::spawn(move || log_from_threads(&a2, 2, 2000, Duration::ZERO));
    let tb = std::thread::spawn(move || {
        let hs: Vec<_> = (0..2)
            .map(|t| {
                let b = Arc::clone(&b2);
                std::thread::spawn(move || {
                    for i in 0..2000 {
                        delivery(&b, t + 2, i);
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
    });
    ta.join().unwrap();
    tb.join().unwrap();
    a.close().unwrap();
    b.close().unwrap();
    let main = d.join("shared.ec");
    let files = all_files(&main);
    // Once per limit reached: every rotated file is nearly full, none is empty or tiny.
    for f in &files[..files.len() - 1] {
        let len = std::fs::metadata(f).unwrap().len();
        assert!(len > 7 * 1024 && len <= 8 * 1024, "{}: {len}", f.display());
    }
    let seqs = rotated_seqs(&main);
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(a.stats().rotations + b.stats().rotations, seqs.len() as u64);
    exactly_once(&ec_ids(&files), 4, 2000, false);
}

/// Sets or clears the immutable attribute of `p` (which even root cannot remove).
fn set_immutable(p: &Path, on: bool) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    const FS_IMMUTABLE_FL: libc::c_long = 0x10;
    let f = std::fs::File::open(p)?;
    let mut flags: libc::c_long = 0;
    // SAFETY: the descriptor is open for the call; the kernel reads and writes an int
    // through the pointer, which points to a (larger, zeroed) long.
    if unsafe { libc::ioctl(f.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    flags = if on {
        flags | FS_IMMUTABLE_FL
    } else {
        flags & !FS_IMMUTABLE_FL
    };
    // SAFETY: as above.
    if unsafe { libc::ioctl(f.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[test]
fn failures_are_reported_and_logging_goes_on() {
    let d = dir("fail");
    // A rotated file that cannot be removed (immutable: root only, where the file system
    // has the attribute); and a directory under a rotated name, which is not mtalog's
    // (not a regular file): left alone, without a word.
    let stuck = d.join("mainlog.ec.1.1000000000");
    std::fs::write(&stuck, b"").unwrap();
    let immutable = set_immutable(&stuck, true);
    if let Err(e) = &immutable {
        eprintln!("note: cannot make a file immutable here ({e}): removal failures not checked");
        std::fs::remove_file(&stuck).unwrap();
    }
    let foreign = d.join("mainlog.ec.2.1000000000");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("x"), b"").unwrap();
    let l = Logger::open(
        "ec_logger",
        "t",
        &ec_config(&d, "max_file_size = 2K\nmax_files = 1\n"),
    )
    .unwrap();
    for i in 0..200 {
        delivery(&l, 0, i);
    }
    l.close().unwrap();
    let panic = std::fs::read_to_string(d.join("paniclog.ec")).unwrap();
    if immutable.is_ok() {
        set_immutable(&stuck, false).unwrap();
        assert!(
            panic.contains("cannot remove old log file")
                && panic.contains("mainlog.ec.1.1000000000"),
            "{panic}"
        );
        let last = l.with_last_error(|c| c.to_string_lossy().into_owned());
        assert!(last.contains("cannot remove old log file"), "{last}");
    }
    assert!(!panic.contains("mainlog.ec.2.1000000000"), "{panic}");
    assert!(foreign.join("x").exists());
    // The newest file holds the last events.
    let ids = ec_ids(&[d.join("mainlog.ec")]);
    assert_eq!(ids.last(), Some(&(0, 199)));

    // Sun scheme: the cumulative log cannot be appended to (it is a directory).
    let d = dir("fail-sun");
    std::fs::create_dir(d.join("mail.log")).unwrap();
    std::fs::write(d.join("mail.log_yesterday"), b"old\n").unwrap();
    let l = Logger::open(
        "imta_logger",
        "t",
        &format!("logdir = \"{}\"\nrollover_time = 1s\n", d.display()),
    )
    .unwrap();
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < Duration::from_millis(2500) {
        delivery(&l, 0, i);
        i += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    l.close().unwrap();
    let service: String = all_files(&d.join("imta")).iter().map(|f| read(f)).collect();
    assert!(service.contains("cannot append"), "{service}");
    assert_eq!(
        std::fs::read_to_string(d.join("mail.log_yesterday")).unwrap(),
        "old\n"
    );
    let current = std::fs::read_to_string(d.join("mail.log_current")).unwrap();
    assert_eq!(current.lines().count(), i);
}

/// The id in an imta message entry (`rfc822;t0-5@d.example`).
fn imta_ids(files: &[PathBuf]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for line in text.lines() {
            let rest = line
                .split("rfc822;")
                .nth(1)
                .unwrap_or_else(|| panic!("{line}"));
            let id = rest.split('@').next().unwrap();
            out.push(parse_id(id));
        }
    }
    out
}

#[test]
fn imta_follows_sun_current_yesterday_cumulative() {
    let d = dir("sun");
    std::fs::write(d.join("mail.log"), b"").unwrap();
    let l = Arc::new(
        Logger::open(
            "imta_logger",
            "t",
            &format!(
                "logdir = \"{}\"\nrollover_time = 1s\nmaxlogfilesize = 4K\nmaxlogfiles = 0\n",
                d.display()
            ),
        )
        .unwrap(),
    );
    let l2 = Arc::clone(&l);
    let errors = std::thread::spawn(move || {
        for i in 0..300 {
            let mut ev = l2.begin(Kind::Error).unwrap();
            ev.time = mtalog::event::Timestamp::now();
            ev.push(Field::Note, format!("error: number {i}").as_bytes(), 100);
            assert!(l2.submit(ev));
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    log_from_threads(&l, 2, 500, Duration::from_millis(3500));
    errors.join().unwrap();
    l.close().unwrap();
    let files = [
        d.join("mail.log"),
        d.join("mail.log_yesterday"),
        d.join("mail.log_current"),
    ];
    assert!(!std::fs::read_to_string(&files[0]).unwrap().is_empty());
    exactly_once(&imta_ids(&files), 2, 500, false);
    // The service log rotates by Sun's names: imta.SEQ.TIMESTAMP, each starting with
    // "Log created (TIMESTAMP)".
    let service = d.join("imta");
    let rotated = scan(&service).unwrap();
    assert!(!rotated.is_empty());
    let mut numbers = Vec::new();
    for f in rotated
        .iter()
        .map(|f| f.path.clone())
        .chain([service.clone()])
    {
        let text = std::fs::read_to_string(&f).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.contains("General Notice: Log created ("), "{first}");
        for line in text.lines().skip(1) {
            let n = line.rsplit(' ').next().unwrap().parse::<usize>().unwrap();
            numbers.push(n);
        }
    }
    for r in &rotated {
        let text = std::fs::read_to_string(&r.path).unwrap();
        assert!(text.contains(&format!("Log created ({})", r.created)) || r.seq == 1);
    }
    assert_eq!(numbers, (0..300).collect::<Vec<_>>());
}

#[test]
fn reopen_on_rename_follows_a_move_and_a_deletion_by_itself() {
    let d = dir("onrename");
    let l = Arc::new(
        Logger::open(
            "ec_logger",
            "t",
            &ec_config(&d, "reopen_on_rename = true\n"),
        )
        .unwrap(),
    );
    let main = d.join("mainlog.ec");
    let moved = d.join("mainlog.ec.moved");
    let l2 = Arc::clone(&l);
    let h = std::thread::spawn(move || log_from_threads(&l2, 2, 1500, Duration::from_secs(3)));
    std::thread::sleep(Duration::from_millis(500));
    std::fs::rename(&main, &moved).unwrap();
    // The writer checks once a second and reopens by itself (10 s allows for a slow
    // machine).
    let start = Instant::now();
    while !main.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no reopen after a move"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    h.join().unwrap();
    l.flush().unwrap();
    exactly_once(&ec_ids(&[moved, main.clone()]), 2, 1500, false);

    std::fs::remove_file(&main).unwrap();
    let start = Instant::now();
    while !main.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no reopen after a deletion"
        );
        delivery(&l, 9, 0);
        std::thread::sleep(Duration::from_millis(20));
    }
    delivery(&l, 9, 1);
    l.close().unwrap();
    assert!(ec_ids(&[main]).contains(&(9, 1)));
}
