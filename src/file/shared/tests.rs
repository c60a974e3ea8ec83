use super::*;
use std::fs::OpenOptions;
use std::os::unix::fs::{PermissionsExt, symlink};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mtalog-sink-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn same_path_is_opened_once_and_mode_is_exact() {
    let d = dir("share");
    let p = d.join("a.log");
    let a = SharedFile::open(&p, 0o640, &OpenPolicy::default()).unwrap();
    let b = SharedFile::open(&d.join(".").join("a.log"), 0o600, &OpenPolicy::default()).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    a.write(b"x\n").unwrap();
    b.write(b"y\n").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"x\ny\n");
}

#[test]
fn missing_directory_is_a_clear_error() {
    let e = SharedFile::open(
        Path::new("/nonexistent-mtalog-dir/x.log"),
        0o644,
        &OpenPolicy::default(),
    )
    .unwrap_err();
    assert_eq!(errno_of(&e), libc::ENOENT);
    assert!(e.to_string().contains("does not exist"), "{e}");
}

/// A directory with an empty file `target` and a symlink `log` to it, and the policy
/// that follows symlinks.
fn linked(name: &str) -> (PathBuf, PathBuf, PathBuf, OpenPolicy) {
    let d = dir(name);
    let target = d.join("target");
    std::fs::write(&target, b"").unwrap();
    let link = d.join("log");
    symlink(&target, &link).unwrap();
    let policy = OpenPolicy {
        follow_symlinks: true,
        ..OpenPolicy::default()
    };
    (d, target, link, policy)
}

#[test]
fn symlinks_are_refused_unless_allowed() {
    let (d, target, link, policy) = linked("link");
    let e = SharedFile::open(&link, 0o644, &OpenPolicy::default()).unwrap_err();
    assert_eq!(errno_of(&e), libc::ELOOP);
    let f = SharedFile::open(&link, 0o644, &policy).unwrap();
    f.write(b"z\n").unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"z\n");
    // Through the link, the path names the open file: nothing to reopen.
    assert!(!f.path_moved());
    assert!(!f.reopen().unwrap());
    // The link now points elsewhere: the next reopen follows it.
    let other = d.join("other");
    std::fs::remove_file(&link).unwrap();
    symlink(&other, &link).unwrap();
    assert!(f.path_moved());
    assert!(f.reopen().unwrap());
    f.write(b"y\n").unwrap();
    assert_eq!(std::fs::read(&other).unwrap(), b"y\n");
    assert_eq!(std::fs::read(&target).unwrap(), b"z\n");
}

#[test]
fn built_in_rotation_of_a_followed_symlink_is_refused() {
    let (d, _, link, policy) = linked("link-rotate");
    let rot = Policy {
        max_file_size: 2048,
        ..Policy::default()
    };
    let e = SharedFile::open_rotating(&link, 0o644, &policy, &rot).unwrap_err();
    assert_eq!(errno_of(&e), libc::EINVAL);
    assert!(e.to_string().contains("is a symlink"), "{e}");
    // A plain file with the same options rotates.
    let plain = d.join("plain");
    let f = SharedFile::open_rotating(&plain, 0o644, &policy, &rot).unwrap();
    let mut header = |_: Timestamp, _: &mut Vec<u8>| {};
    let mut ctx = RotateCtx {
        header: &mut header,
        rotated: Vec::new(),
        errors: Vec::new(),
    };
    let line = [b'x'; 99];
    for _ in 0..30 {
        let mut buf = line.to_vec();
        buf.push(b'\n');
        assert_eq!(f.write_rotating(&buf, &mut ctx).unwrap(), 100);
    }
    assert_eq!(ctx.rotated.len(), 1, "{:?}", ctx.errors);
    assert!(ctx.errors.is_empty(), "{:?}", ctx.errors);
}

#[test]
fn an_append_that_fails_part_way_is_cut_back() {
    struct Broken(usize);
    impl io::Read for Broken {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            let n = b.len().min(self.0).min(1000);
            b[..n].fill(b'y');
            self.0 -= n;
            Ok(n)
        }
    }
    let d = dir("append");
    let to = d.join("mail.log");
    std::fs::write(&to, b"old\n").unwrap();
    let mut dst = OpenOptions::new().append(true).open(&to).unwrap();
    let e = append_whole(&mut Broken(5000), &mut dst).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO));
    assert_eq!(std::fs::read(&to).unwrap(), b"old\n");
    append_whole(&mut &b"new\n"[..], &mut dst).unwrap();
    assert_eq!(std::fs::read(&to).unwrap(), b"old\nnew\n");
}

/// A state for [`write_through`] with nothing written yet.
fn state() -> State {
    State::new(0, 1)
}

/// A file that takes at most `room` more bytes, then fails with ENOSPC.
struct Disk {
    bytes: Vec<u8>,
    room: usize,
}

impl Disk {
    fn raw(&mut self) -> impl FnMut(&[u8]) -> io::Result<usize> + '_ {
        |b: &[u8]| {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let n = b.len().min(self.room);
            self.bytes.extend_from_slice(&b[..n]);
            self.room -= n;
            Ok(n)
        }
    }
}

#[test]
fn a_line_a_short_write_cut_is_finished_before_any_other_line() {
    let mut st = state();
    let mut disk = Disk {
        bytes: Vec::new(),
        room: 7,
    };
    // Logger A: the disk takes "A1\nA2\nA" and fills up. The whole second line is
    // taken; its rest waits in the file's state.
    let a = b"A1\nA2\nA3\nA4\n";
    assert_eq!(write_through(&mut st, a, &mut disk.raw()).unwrap(), 9);
    assert_eq!(st.pending, b"3\n");
    assert!(!st.line_start);
    // Logger B, sharing the file, cannot write into that line while the disk is full.
    let e = write_through(&mut st, b"B1\n", &mut disk.raw()).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
    // Room again: B's write finishes A's line first, then writes its own.
    disk.room = 100;
    assert_eq!(write_through(&mut st, b"B1\n", &mut disk.raw()).unwrap(), 3);
    assert!(st.pending.is_empty());
    assert_eq!(write_through(&mut st, &a[9..], &mut disk.raw()).unwrap(), 3);
    assert_eq!(disk.bytes, b"A1\nA2\nA3\nB1\nA4\n");
    assert_eq!(st.size, disk.bytes.len() as u64);
    assert!(st.line_start);
}

#[test]
fn a_short_write_at_a_line_end_keeps_nothing_back() {
    let mut st = state();
    let mut disk = Disk {
        bytes: Vec::new(),
        room: 3,
    };
    assert_eq!(
        write_through(&mut st, b"A1\nA2\n", &mut disk.raw()).unwrap(),
        3
    );
    assert!(st.pending.is_empty() && st.line_start);
    let e = write_through(&mut st, b"A2\n", &mut disk.raw()).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
    // An empty write finishes only what is pending: nothing here.
    assert_eq!(write_through(&mut st, b"", &mut disk.raw()).unwrap(), 0);
    assert_eq!(disk.bytes, b"A1\n");
}

#[test]
fn reopen_follows_a_rename_and_is_idempotent() {
    let d = dir("reopen");
    let p = d.join("m.log");
    let f = SharedFile::open(&p, 0o644, &OpenPolicy::default()).unwrap();
    f.write(b"1\n").unwrap();
    assert!(!f.reopen().unwrap());
    std::fs::rename(&p, d.join("m.log.1")).unwrap();
    assert!(f.path_moved());
    f.write(b"2\n").unwrap();
    assert!(f.reopen().unwrap());
    assert!(!f.path_moved());
    f.write(b"3\n").unwrap();
    assert_eq!(std::fs::read(d.join("m.log.1")).unwrap(), b"1\n2\n");
    assert_eq!(std::fs::read(&p).unwrap(), b"3\n");
}
