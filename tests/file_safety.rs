//! Files planted in a log directory that others can write to (docs/file-safety.md): Sun's
//! roll, the start-up compression sweep and retention never follow a symlink they did not
//! expect, act only on regular files of mtalog's own, and treat absurd names as foreign.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mtalog::event::{Field, Kind};
use mtalog::file::rotate::scan;
use mtalog::logger::Logger;

const SECRET: &str = "TOP SECRET: the root password is hunter2\n";

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mtalog-safety-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A `0600` file holding [`SECRET`], outside the log directory's names.
fn secret(d: &Path) -> PathBuf {
    let p = d.join("secret");
    std::fs::write(&p, SECRET).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

fn mkfifo(p: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success());
}

/// One delivery whose message id is `t0-<i>`.
fn delivery(l: &Logger, i: usize) {
    let mut ev = l.begin(Kind::Delivery).unwrap();
    ev.time.sec = 1_700_000_000;
    ev.push(Field::MsgId, format!("t0-{i}").as_bytes(), 100);
    ev.push(Field::RcptTo, format!("t0-{i}@d.example").as_bytes(), 100);
    ev.push(Field::DomainName, b"d.example", 100);
    assert!(l.submit(ev));
}

/// Every regular file under `d` but the secret (under any of its names; not through
/// symlinks), decompressed where gzip'ed.
fn all_text(d: &Path) -> String {
    let secret = std::fs::metadata(d.join("secret")).map_or(0, |m| m.ino());
    let mut out = String::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        if !m.file_type().is_file() || m.ino() == secret {
            continue;
        }
        let raw = std::fs::read(&p).unwrap();
        if raw.starts_with(&[0x1f, 0x8b]) {
            let _ = flate2::read::MultiGzDecoder::new(&raw[..]).read_to_string(&mut out);
        } else {
            out.push_str(&String::from_utf8_lossy(&raw));
        }
    }
    out
}

/// An imta_logger in `d` rolling every second, fed for 2.5 s (at least two rolls are
/// due); returns the number of events.
fn imta_rolls(d: &Path) -> usize {
    let l = Logger::open(
        "imta_logger",
        "t",
        &format!("logdir = \"{}\"\nrollover_time = 1s\n", d.display()),
    )
    .unwrap();
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < Duration::from_millis(2500) {
        delivery(&l, i);
        i += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    l.close().unwrap();
    i
}

/// What the roll found at `mail.log_yesterday` (or at the cumulative `mail.log`) that is
/// not its own: the roll fails and says why, the secret goes nowhere, the planted entry
/// stays as it was, and no event is lost (all stay in `mail.log_current`).
fn roll_refuses(name: &str, plant: impl FnOnce(&Path, &Path), planted: &str) {
    let d = dir(name);
    let s = secret(&d);
    plant(&d, &s);
    let before = std::fs::symlink_metadata(d.join(planted)).unwrap();
    let n = imta_rolls(&d);
    assert!(!all_text(&d).contains("hunter2"), "the secret was copied");
    assert_eq!(std::fs::read_to_string(&s).unwrap(), SECRET);
    let after = std::fs::symlink_metadata(d.join(planted)).unwrap();
    assert_eq!(
        (after.ino(), after.file_type(), after.len()),
        (before.ino(), before.file_type(), before.len())
    );
    // The service log rotates too: its problems may be in a rotated one.
    let service: String = scan(&d.join("imta"))
        .unwrap()
        .iter()
        .map(|f| f.path.clone())
        .chain([d.join("imta")])
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(
        service.contains("cannot append") && service.contains("left alone")
            || service.contains("never follows"),
        "{service}"
    );
    let current = std::fs::read_to_string(d.join("mail.log_current")).unwrap();
    assert_eq!(current.lines().count(), n);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn sun_roll_never_reads_through_a_symlink_at_yesterday() {
    roll_refuses(
        "sun-link",
        |d, s| symlink(s, d.join("mail.log_yesterday")).unwrap(),
        "mail.log_yesterday",
    );
}

#[test]
fn sun_roll_never_reads_a_hard_link_at_yesterday() {
    roll_refuses(
        "sun-hardlink",
        |d, s| std::fs::hard_link(s, d.join("mail.log_yesterday")).unwrap(),
        "mail.log_yesterday",
    );
}

#[test]
fn sun_roll_never_appends_through_a_symlink_at_the_cumulative_log() {
    // The cumulative log is a link to the secret: appending through it would put
    // yesterday's lines into the secret file (and read nothing out, but alter it).
    roll_refuses(
        "sun-cumulative",
        |d, s| {
            std::fs::write(d.join("mail.log_yesterday"), b"old\n").unwrap();
            symlink(s, d.join("mail.log")).unwrap();
        },
        "mail.log",
    );
}

/// Waits until every rotated file of `main` is compressed (60 s at most).
fn until_compressed(main: &Path) {
    let start = Instant::now();
    while scan(main).unwrap().iter().any(|f| !f.gz) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not compressed: {:?}",
            scan(main).unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ec_config(d: &Path, extra: &str) -> String {
    format!(
        "mainlog = \"{0}/mainlog.ec\"\nrejectlog = \"{0}/rejectlog.ec\"\npaniclog = \"{0}/paniclog.ec\"\nheartbeat = 0\nclose_timeout = 5s\n{extra}",
        d.display()
    )
}

#[test]
fn the_start_up_sweep_leaves_planted_links_and_fifos_alone() {
    let d = dir("sweep");
    let s = secret(&d);
    // Named as rotated files a previous run left uncompressed.
    let urandom = d.join("mainlog.ec.1.1700000000");
    symlink("/dev/urandom", &urandom).unwrap();
    let to_secret = d.join("mainlog.ec.2.1700000000");
    symlink(&s, &to_secret).unwrap();
    let fifo = d.join("mainlog.ec.3.1700000000");
    mkfifo(&fifo);
    // A leftover of mtalog's own is compressed.
    let own = d.join("mainlog.ec.4.1700000000");
    std::fs::write(&own, b"an old line\n").unwrap();
    let l = Logger::open(
        "ec_logger",
        "t",
        &ec_config(&d, "compress = true\nmax_file_size = 2K\n"),
    )
    .unwrap();
    for i in 0..100 {
        delivery(&l, i);
    }
    l.flush().unwrap();
    let main = d.join("mainlog.ec");
    until_compressed(&main);
    l.close().unwrap();
    for p in [&urandom, &to_secret] {
        assert!(
            std::fs::symlink_metadata(p)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(!own.exists());
    let mut names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".gz"))
        .collect();
    names.sort();
    assert!(names.iter().all(|n| n.ends_with(".gz")), "{names:?}");
    assert!(
        names.contains(&"mainlog.ec.4.1700000000.gz".to_owned()),
        "{names:?}"
    );
    for n in ["mainlog.ec.1.", "mainlog.ec.2.", "mainlog.ec.3."] {
        assert!(!names.iter().any(|x| x.starts_with(n)), "{names:?}");
    }
    assert!(!all_text(&d).contains("hunter2"));
    // Rotation went on with numbers after the planted ones, and lost nothing.
    let text = all_text(&d);
    for i in 0..100 {
        assert!(text.contains(&format!("@t0-{i}@")), "event {i} missing");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn absurd_and_foreign_rotated_names_are_left_alone() {
    let d = dir("absurd");
    let main = d.join("mainlog.ec");
    let absurd = d.join("mainlog.ec.18446744073709551615.1700000000");
    std::fs::write(&absurd, b"planted\n").unwrap();
    let huge_seq = d.join("mainlog.ec.1000000000000000.1700000000");
    std::fs::write(&huge_seq, b"planted\n").unwrap();
    // Another user's file under a name mtalog gives, large enough to exceed
    // max_total_size alone (where the test may give a file away, as root).
    let foreign = d.join("mainlog.ec.1.1000000000");
    std::fs::write(&foreign, vec![b'x'; 100_000]).unwrap();
    let given_away = std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).is_ok();
    let l = Logger::open(
        "ec_logger",
        "t",
        &ec_config(
            &d,
            "max_file_size = 2K\nmax_files = 3\nmax_total_size = 20K\n",
        ),
    )
    .unwrap();
    let n = 400;
    for i in 0..n {
        delivery(&l, i);
    }
    l.close().unwrap();
    assert_eq!(std::fs::read(&absurd).unwrap(), b"planted\n");
    assert_eq!(std::fs::read(&huge_seq).unwrap(), b"planted\n");
    if given_away {
        assert_eq!(std::fs::metadata(&foreign).unwrap().len(), 100_000);
    }
    // The newest rotated files are kept (two, beside the current one), numbered from 1
    // on: the planted numbers did not wrap the sequence.
    let rotated = scan(&main).unwrap();
    let seqs: Vec<u64> = rotated.iter().map(|f| f.seq).collect();
    assert_eq!(seqs.len(), 2, "{rotated:?}");
    assert!(seqs[1] == seqs[0] + 1 && seqs[1] < 1000, "{seqs:?}");
    // And they hold the last events, in order, up to the last one.
    let mut ids = Vec::new();
    for f in rotated.iter().map(|f| f.path.clone()).chain([main.clone()]) {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let id = line.split('@').nth(1).unwrap();
            ids.push(id.strip_prefix("t0-").unwrap().parse::<usize>().unwrap());
        }
    }
    let first = ids[0];
    assert_eq!(ids, (first..n).collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&d);
}
