use super::*;
use crate::config::parse_init;
use std::fs::File;

fn policies(kind: &str, text: &str) -> Result<[Policy; TARGET_COUNT], ConfigError> {
    let entries = parse_init(text, kind, "t").unwrap();
    let mut o = Options::new(&entries);
    let p = parse(&mut o, kind == "imta_logger")?;
    o.finish()?;
    Ok(p)
}

#[test]
fn compressed_files_keep_mode_owner_group_and_time() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let d = std::env::temp_dir().join(format!("mtalog-gz-owner-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("mainlog.1");
    std::fs::write(&f, b"line\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    // Where the test may (as root), the file is given to another user and group, as
    // `log_owner`/`log_group` do; otherwise it stays the test's own, and so must the .gz.
    let (uid, gid) = match std::os::unix::fs::chown(&f, Some(1), Some(1)) {
        Ok(()) => (1, 1),
        Err(_) => {
            let m = std::fs::metadata(&f).unwrap();
            (m.uid(), m.gid())
        }
    };
    let mtime = std::fs::metadata(&f).unwrap().modified().unwrap();
    compress(&f, &Owners::with_log_owner(uid), &|| false).unwrap();
    assert!(!f.exists());
    let m = std::fs::metadata(d.join("mainlog.1.gz")).unwrap();
    assert_eq!(
        (m.uid(), m.gid(), m.permissions().mode() & 0o7777),
        (uid, gid, 0o640)
    );
    assert_eq!(m.modified().unwrap(), mtime);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn compression_takes_only_its_own_leftover_temporary_file() {
    use std::os::fd::AsFd;
    let d = std::env::temp_dir().join(format!("mtalog-gz-tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("mainlog.3.1700000000");
    let tmp = d.join("mainlog.3.1700000000.gz.tmp");
    let gz = d.join("mainlog.3.1700000000.gz");
    std::fs::write(&f, b"line\n").unwrap();
    let owners = Owners::of(&d.join("mainlog"));
    // Another compression is writing the temporary file (it holds its lock): busy, and
    // neither file is touched.
    std::fs::write(&tmp, b"partial").unwrap();
    let other = File::open(&tmp).unwrap();
    assert!(crate::sys::flock(other.as_fd(), libc::LOCK_EX).unwrap());
    let e = compress(&f, &owners, &|| false).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ResourceBusy, "{e}");
    assert_eq!(std::fs::read(&tmp).unwrap(), b"partial");
    assert_eq!(std::fs::read(&f).unwrap(), b"line\n");
    // Once nobody writes it, it is a leftover: taken, emptied, renamed.
    drop(other);
    compress(&f, &owners, &|| false).unwrap();
    assert!(!f.exists() && !tmp.exists());
    let mut text = String::new();
    flate2::read::GzDecoder::new(File::open(&gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "line\n");
    // A symlink at the temporary name is not followed, and stays.
    let g = d.join("mainlog.4.1700000000");
    std::fs::write(&g, b"line\n").unwrap();
    let target = d.join("target");
    std::fs::write(&target, b"").unwrap();
    let link = d.join("mainlog.4.1700000000.gz.tmp");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = compress(&g, &owners, &|| false).unwrap_err();
    assert_eq!(crate::error::errno_of(&e), libc::ELOOP, "{e}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"");
    assert_eq!(std::fs::read(&g).unwrap(), b"line\n");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn off_unless_configured_except_imta() {
    let p = policies("ec_logger", "").unwrap();
    assert!(p.iter().all(|p| !p.rotates() && !p.has_jobs()));
    let p = policies("imta_logger", "").unwrap();
    assert_eq!(p[Target::Main as usize], Policy::sun_daily());
    assert_eq!(p[Target::Panic as usize], Policy::sun_service());
}

#[test]
fn none_or_off_is_no_limit() {
    let p = policies(
        "imta_logger",
        "maxlogfilesize = none\nmaxlogfiles = None\nmaxlogsize = off\nminfreediskspace = none\nexpirytime = none\n",
    )
    .unwrap();
    let service = &p[Target::Panic as usize];
    assert_eq!(
        (
            service.max_file_size,
            service.max_files,
            service.max_total_size,
            service.min_free_disk,
            service.max_age
        ),
        (0, 0, 0, 0, None)
    );
    assert!(!service.retains());
    let p = policies("ec_logger", "max_file_size = off\nmax_files = none\n").unwrap();
    assert!(p.iter().all(|p| !p.rotates() && !p.has_jobs()));
    assert!(policies("ec_logger", "max_files = never\n").is_err());
}

#[test]
fn options_and_sun_names() {
    let p = policies(
        "ec_logger",
        "max_file_size = 10M\nrollover_time = 02:30\nmax_files = 5\nmax_total_size = 1G\nmin_free_disk = 100M\nmax_age = 30d\ncompress = yes\n",
    )
    .unwrap();
    let m = &p[Target::Main as usize];
    assert_eq!(m.max_file_size, 10 << 20);
    assert_eq!(m.rollover, Rollover::Daily(150));
    assert_eq!((m.max_files, m.max_total_size), (5, 1 << 30));
    assert_eq!(m.min_free_disk, 100 << 20);
    assert_eq!(m.max_age, Some(Duration::from_secs(30 * 86400)));
    assert!(m.compress);
    let p = policies(
        "imta_logger",
        "maxlogfilesize = 1000\nservice_rollovertime = 3600\nmaxlogfiles = 3\nexpirytime = 0\nrollover_time = none\n",
    )
    .unwrap();
    let s = &p[Target::Panic as usize];
    assert_eq!(s.max_file_size, 1000);
    assert_eq!(s.rollover, Rollover::Every(Duration::from_secs(3600)));
    assert_eq!((s.max_files, s.max_age), (3, None));
    assert_eq!(p[Target::Main as usize].rollover, Rollover::Off);
    assert!(
        policies("ec_logger", "maxlogfilesize = 1000\n")
            .unwrap_err()
            .to_string()
            .contains("unknown option")
    );
    for bad in [
        "rollover_time = 25:00",
        "rollover_time = 1:5",
        "rollover_time = soon",
        "max_files = -1",
        "max_file_size = big",
    ] {
        let e = policies("ec_logger", bad).unwrap_err();
        assert_eq!(e.line, 1, "{bad}: {e}");
    }
}

#[test]
fn retention_tells_at_what_size_of_the_current_file_it_must_run_again() {
    let d = std::env::temp_dir().join(format!("mtalog-retain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("mainlog");
    std::fs::write(&path, [b'x'; 100]).unwrap();
    let now = unix_now();
    for seq in 1..=5 {
        std::fs::write(numbered_name(&path, seq, now), [b'x'; 8000]).unwrap();
    }
    let p = policies("ec_logger", "max_total_size = 40960\n").unwrap()[0].clone();
    let seqs = || -> Vec<u64> { scan(&path).unwrap().iter().map(|f| f.seq).collect() };
    // 40,100 bytes fit: nothing goes, and 860 more bytes of the current file would fit.
    assert_eq!(retain(&path, &p, now), (vec![], 960));
    assert_eq!(seqs(), [1, 2, 3, 4, 5]);
    // Past that, the oldest file goes and the room grows by its size.
    std::fs::write(&path, [b'x'; 961]).unwrap();
    assert_eq!(retain(&path, &p, now), (vec![], 961 + 40960 - 32961));
    assert_eq!(seqs(), [2, 3, 4, 5]);
    // A current file larger than the bound leaves no rotated file, and nothing to do
    // until the next rotation.
    std::fs::write(&path, [b'x'; 50000]).unwrap();
    assert_eq!(retain(&path, &p, now), (vec![], NO_SWEEP));
    assert_eq!(seqs(), Vec::<u64>::new());
    // Without max_total_size there is no such size.
    let p = policies("ec_logger", "max_files = 3\n").unwrap()[0].clone();
    assert_eq!(retain(&path, &p, now), (vec![], NO_SWEEP));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn names() {
    assert_eq!(
        numbered_name(Path::new("/l/imta"), 63, 915107696),
        Path::new("/l/imta.63.915107696")
    );
    assert_eq!(
        parse_rotated("imta", "imta.63.915107696"),
        Some((63, 915107696, false))
    );
    assert_eq!(parse_rotated("imta", "imta.63.9.gz"), Some((63, 9, true)));
    assert_eq!(
        parse_rotated("imta", "imta.999999999999999.99999999999.gz"),
        Some((MAX_SEQ, MAX_TIMESTAMP, true))
    );
    assert_eq!(parse_rotated("imta", "imta.1.0"), Some((1, 0, false)));
    // A creation time out of bounds is named by the bound, so the name stays mtalog's.
    assert_eq!(
        numbered_name(Path::new("/l/imta"), 2, i64::MAX),
        Path::new("/l/imta.2.99999999999")
    );
    assert_eq!(
        numbered_name(Path::new("/l/imta"), 2, -5),
        Path::new("/l/imta.2.0")
    );
    for bad in [
        "imta",
        "imta.63",
        "imta.x.1",
        "imta.1.2.gz.tmp",
        "imtb.1.2",
        "imta.1.2.3",
        // Absurd or not as mtalog writes them: foreign.
        "imta.18446744073709551615.1700000000",
        "imta.18446744073709551616.1700000000",
        "imta.1000000000000000.1700000000",
        "imta.1.100000000000",
        "imta.1.99999999999999999999999",
        "imta.0.1700000000",
        "imta.01.1700000000",
        "imta.1.01700000000",
        "imta.+1.1700000000",
    ] {
        assert_eq!(parse_rotated("imta", bad), None, "{bad}");
    }
    assert_eq!(
        sun_names(Path::new("/l/mail.log_current")),
        (
            PathBuf::from("/l/mail.log_yesterday"),
            PathBuf::from("/l/mail.log")
        )
    );
}

#[test]
fn daily_boundary_is_after_and_within_a_day() {
    let t = 1_709_802_902;
    let n = next_daily(t, 0);
    assert!(n > t && n - t <= 86400 + 3600, "{n} {t}");
    assert!((next_daily(n, 0) - n - 86400).abs() <= 3600);
    assert_eq!(next_daily(n - 1, 0), n);
}

#[test]
fn a_file_a_process_still_appends_to_is_neither_compressed_nor_removed() {
    use std::os::fd::AsFd;
    let d = std::env::temp_dir().join(format!("mtalog-in-use-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("mainlog");
    std::fs::write(&path, b"current\n").unwrap();
    let rotated = numbered_name(&path, 1, 100);
    std::fs::write(&rotated, b"old\n").unwrap();
    // Another process appends to the rotated file still: it holds its shared lock.
    let appender = std::fs::OpenOptions::new()
        .append(true)
        .open(&rotated)
        .unwrap();
    assert!(crate::sys::flock(appender.as_fd(), libc::LOCK_SH).unwrap());
    let e = compress(&rotated, &Owners::of(&path), &|| false).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    let p = policies("ec_logger", "max_files = 1\n").unwrap()[0].clone();
    retain(&path, &p, unix_now());
    assert_eq!(std::fs::read(&rotated).unwrap(), b"old\n");
    let gz = PathBuf::from(format!("{}.gz", rotated.display()));
    assert!(!gz.exists());
    // It moved on to the new file: now both go.
    drop(appender);
    compress(&rotated, &Owners::of(&path), &|| false).unwrap();
    assert!(!rotated.exists() && gz.exists());
    retain(&path, &p, unix_now());
    assert!(!gz.exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_compression_waits_while_the_file_is_appended_to() {
    use std::os::fd::AsFd;
    let d = std::env::temp_dir().join(format!("mtalog-in-use-job-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("mainlog");
    let rotated = numbered_name(&path, 1, 100);
    std::fs::write(&rotated, b"old\n").unwrap();
    let appender = std::fs::OpenOptions::new()
        .append(true)
        .open(&rotated)
        .unwrap();
    assert!(crate::sys::flock(appender.as_fd(), libc::LOCK_SH).unwrap());
    let mut h = Helper::start(|| false).unwrap();
    h.send(Job::Rotated {
        path: path.clone(),
        rotated: rotated.clone(),
        policy: policies("ec_logger", "compress = true\n").unwrap()[0].clone(),
        sweep_at: Arc::new(AtomicU64::new(NO_SWEEP)),
    });
    std::thread::sleep(RETRY_IN_USE * 3);
    assert!(rotated.exists());
    // The appender writes its last line and moves on; the job, tried again, finishes.
    (&appender).write_all(b"last\n").unwrap();
    drop(appender);
    let gz = PathBuf::from(format!("{}.gz", rotated.display()));
    let start = std::time::Instant::now();
    while !gz.exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(h.finish().is_empty());
    assert!(!rotated.exists());
    let mut text = String::new();
    flate2::read::GzDecoder::new(File::open(&gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "old\nlast\n");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn compression_never_replaces_a_gz_that_appears_meanwhile() {
    let d = std::env::temp_dir().join(format!("mtalog-gz-appears-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("mainlog");
    std::fs::write(&path, b"current\n").unwrap();
    let rotated = numbered_name(&path, 1, 100);
    std::fs::write(&rotated, b"old\n").unwrap();
    let gz = PathBuf::from(format!("{}.gz", rotated.display()));
    let tmp = PathBuf::from(format!("{}.gz.tmp", rotated.display()));
    // Someone makes the .gz while the compression reads.
    let plant = || {
        if !gz.exists() {
            std::fs::write(&gz, b"someone's").unwrap();
        }
        false
    };
    let e = compress(&rotated, &Owners::of(&path), &plant).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{e}");
    assert_eq!(std::fs::read(&gz).unwrap(), b"someone's");
    assert_eq!(std::fs::read(&rotated).unwrap(), b"old\n");
    assert!(!tmp.exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn retention_removes_only_own_files_and_not_through_a_symlink() {
    let d = std::env::temp_dir().join(format!("mtalog-remove-own-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("mainlog");
    std::fs::write(&path, b"current\n").unwrap();
    let owners = Owners::of(&path);
    // A symlink put at a rotated name after the listing: the name stays, and so does
    // what it points to.
    let target = d.join("precious");
    std::fs::write(&target, b"keep\n").unwrap();
    let link = numbered_name(&path, 1, 100);
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for gz in [false, true] {
        let e = remove_unused(&link, gz, &owners).unwrap_err();
        assert_eq!(crate::error::errno_of(&e), libc::ELOOP, "{e}");
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"keep\n");
    // A FIFO under a rotated name is not a regular file: left alone.
    let fifo = numbered_name(&path, 2, 100);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()));
    let e = remove_unused(&fifo, false, &owners).unwrap_err();
    assert_eq!(crate::error::errno_of(&e), libc::EPERM, "{e}");
    assert!(fifo.exists());
    // An own file with a second name: this name goes, the other stays.
    let own = numbered_name(&path, 3, 100);
    std::fs::write(&own, b"old\n").unwrap();
    let other = d.join("backup");
    std::fs::hard_link(&own, &other).unwrap();
    assert!(remove_unused(&own, false, &owners).unwrap());
    assert!(!own.exists());
    assert_eq!(std::fs::read(&other).unwrap(), b"old\n");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_close_applies_retention_for_a_job_still_waiting_and_compresses_nothing() {
    use std::os::fd::AsFd;
    let d = std::env::temp_dir().join(format!("mtalog-close-waiting-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("mainlog");
    std::fs::write(&path, b"current\n").unwrap();
    let oldest = numbered_name(&path, 1, 100);
    std::fs::write(&oldest, b"oldest\n").unwrap();
    let rotated = numbered_name(&path, 2, 200);
    std::fs::write(&rotated, b"old\n").unwrap();
    // Another process still appends to the file just rotated.
    let appender = std::fs::OpenOptions::new()
        .append(true)
        .open(&rotated)
        .unwrap();
    assert!(crate::sys::flock(appender.as_fd(), libc::LOCK_SH).unwrap());
    let mut h = Helper::start(|| false).unwrap();
    h.send(Job::Rotated {
        path: path.clone(),
        rotated: rotated.clone(),
        policy: policies("ec_logger", "compress = true\nmax_files = 2\n").unwrap()[0].clone(),
        sweep_at: Arc::new(AtomicU64::new(NO_SWEEP)),
    });
    std::thread::sleep(RETRY_IN_USE / 2);
    let start = std::time::Instant::now();
    assert!(h.finish().is_empty());
    assert!(start.elapsed() < Duration::from_secs(2));
    // The oldest went (max_files); the one appended to stays, uncompressed, for the
    // next sweep.
    assert!(!oldest.exists());
    assert_eq!(std::fs::read(&rotated).unwrap(), b"old\n");
    assert!(!PathBuf::from(format!("{}.gz", rotated.display())).exists());
    drop(appender);
    let _ = std::fs::remove_dir_all(&d);
}
