//! A rotation whose new file cannot be created: on a tmpfs with no inode left, the rename
//! succeeds but the new file cannot be made. The error reaches the paniclog (on another
//! filesystem) and `last_error`, and logging goes on into the current file, losing
//! nothing. Needs root to mount; skipped otherwise, required when CI=true.

use std::path::{Path, PathBuf};
use std::process::Command;

use mtalog::event::{Field, Kind};
use mtalog::logger::Logger;

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn tmpfs(dir: &Path, opts: &str) -> Option<Mount> {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            !ci,
            "CI=true: this test must run as root (it mounts a tmpfs)"
        );
        eprintln!("note: not root; skipping the tmpfs rotation test");
        return None;
    }
    std::fs::create_dir_all(dir).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        assert!(!ci, "CI=true: cannot mount a tmpfs on {}", dir.display());
        eprintln!("note: cannot mount a tmpfs; skipping");
        return None;
    }
    Some(Mount(dir.to_path_buf()))
}

fn delivery(l: &Logger, i: usize) {
    let mut ev = l.begin(Kind::Delivery).unwrap();
    ev.time.sec = 1_700_000_000;
    ev.push(Field::MsgId, format!("m-{i}").as_bytes(), 100);
    ev.push(Field::RcptTo, b"rcpt@d.example", 100);
    ev.push(Field::DomainName, b"d.example", 100);
    assert!(l.submit(ev));
}

#[test]
fn a_new_file_that_cannot_be_created_is_reported_and_nothing_is_lost() {
    let base = std::env::temp_dir().join(format!("mtalog-noinode-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let fs = base.join("fs");
    // Three inodes: the root directory, the mainlog, and one spare that the first
    // rotation's new file takes; the second rotation finds none.
    let Some(_m) = tmpfs(&fs, "size=4m,nr_inodes=3") else {
        return;
    };
    let cfg = format!(
        "mainlog = \"{0}/mainlog.ec\"\npaniclog = \"{1}/paniclog.ec\"\nrejectlog = \"{1}/rejectlog.ec\"\nheartbeat = 0\n\
         max_file_size = 20K\n",
        fs.display(),
        base.display()
    );
    let l = Logger::open("ec_logger", "noinode", &cfg).unwrap();
    let n = 2000;
    for i in 0..n {
        delivery(&l, i);
        if i % 100 == 99 {
            l.flush().unwrap();
        }
    }
    l.close().unwrap();

    let panic = std::fs::read_to_string(base.join("paniclog.ec")).unwrap();
    assert!(
        panic.contains("cannot create a new") && panic.contains("No space left on device"),
        "{panic}"
    );
    l.with_last_error(|e| {
        let e = e.to_str().unwrap();
        assert!(e.contains("cannot create a new"), "last error: {e}");
    });
    // Every event exactly once, in order, across the files on the tmpfs.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&fs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort_by_key(|p| (p.file_name().unwrap() == "mainlog.ec", p.clone()));
    let mut ids = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'));
        for line in text.lines() {
            let id = line.split('@').nth(1).unwrap();
            ids.push(id.strip_prefix("m-").unwrap().parse::<usize>().unwrap());
        }
    }
    assert_eq!(ids, (0..n).collect::<Vec<_>>(), "files: {files:?}");
    assert!(files.len() >= 2, "no rotation happened: {files:?}");
    let _ = std::fs::remove_file(base.join("paniclog.ec"));
}
