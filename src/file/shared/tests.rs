use super::state::write_through;
use super::*;
use std::fs::OpenOptions;
use std::io::{Seek, Write};
use std::os::fd::AsFd;
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
        cut: None,
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

/// What a test does to a path and its rotated name, before the rename.
type RenameHook = Box<dyn FnMut(&Path, &Path)>;

thread_local! {
    /// What a test does between the choice of a rotated name and the rename.
    static BEFORE_RENAME: std::cell::RefCell<Option<RenameHook>> =
        const { std::cell::RefCell::new(None) };
}

/// Called by the rotation between the choice of a rotated name and the rename (a race
/// made on purpose).
pub(super) fn before_rename(path: &Path, to: &Path) {
    BEFORE_RENAME.with(|h| {
        if let Some(f) = h.borrow_mut().as_mut() {
            f(path, to);
        }
    });
}

/// A file at `d/m.log` rotating at `max` bytes, and a context that keeps what happened.
fn rotating(d: &Path, max: u64) -> Arc<SharedFile> {
    let rot = Policy {
        max_file_size: max,
        ..Policy::default()
    };
    SharedFile::open_rotating(&d.join("m.log"), 0o644, &OpenPolicy::default(), &rot).unwrap()
}

/// Writes `lines` lines of 100 bytes (`tag`, a number, padding) through a rotating write;
/// returns the rotations (current path, rotated name) and the problems met.
fn write_lines(
    f: &SharedFile,
    tag: &str,
    lines: std::ops::Range<usize>,
) -> (Vec<(PathBuf, Option<PathBuf>)>, Vec<String>) {
    let mut header = |_: Timestamp, _: &mut Vec<u8>| {};
    let mut ctx = RotateCtx {
        header: &mut header,
        rotated: Vec::new(),
        errors: Vec::new(),
        cut: None,
    };
    for i in lines {
        let line = format!("{tag}{i:<98}\n").replace(' ', "x");
        assert_eq!(f.write_rotating(line.as_bytes(), &mut ctx).unwrap(), 100);
    }
    (ctx.rotated, ctx.errors)
}

#[test]
fn a_file_another_process_rotated_is_left_for_the_new_one() {
    let d = dir("follow");
    let f = rotating(&d, 100_000);
    write_lines(&f, "a", 0..3);
    // Another process rotates the file: renames it and starts a new one.
    std::fs::rename(d.join("m.log"), d.join("m.log.1.100")).unwrap();
    std::fs::write(d.join("m.log"), b"theirs\n").unwrap();
    let (rotated, errors) = write_lines(&f, "b", 0..2);
    assert!(
        rotated.is_empty() && errors.is_empty(),
        "{rotated:?} {errors:?}"
    );
    let old = std::fs::read_to_string(d.join("m.log.1.100")).unwrap();
    let new = std::fs::read_to_string(d.join("m.log")).unwrap();
    assert_eq!(old.lines().count(), 3);
    assert!(new.starts_with("theirs\nb0x"), "{new}");
    assert_eq!(new.lines().count(), 3);
}

#[test]
fn a_rotated_name_taken_meanwhile_is_never_replaced() {
    let d = dir("noreplace");
    let f = rotating(&d, 1000);
    write_lines(&f, "a", 0..10);
    // Between the choice of the name and the rename, another process takes the name.
    BEFORE_RENAME.with(|h| {
        let mut once = true;
        *h.borrow_mut() = Some(Box::new(move |_: &Path, to: &Path| {
            if std::mem::take(&mut once) {
                std::fs::write(to, b"theirs\n").unwrap();
            }
        }))
    });
    let (rotated, errors) = write_lines(&f, "b", 0..1);
    BEFORE_RENAME.with(|h| *h.borrow_mut() = None);
    assert!(errors.is_empty(), "{errors:?}");
    let names: Vec<_> = rotated.iter().map(|(_, to)| to.clone().unwrap()).collect();
    assert_eq!(names.len(), 1);
    let taken = d.join(format!(
        "m.log.1.{}",
        names[0].to_string_lossy().rsplit('.').next().unwrap()
    ));
    assert_eq!(std::fs::read(&taken).unwrap(), b"theirs\n");
    assert!(names[0].to_string_lossy().contains("m.log.2."), "{names:?}");
    assert_eq!(
        std::fs::read_to_string(&names[0]).unwrap().lines().count(),
        10
    );
}

#[test]
fn rotation_numbers_continue_past_any_found_next_to_the_file() {
    let d = dir("seq");
    let f = rotating(&d, 1000);
    write_lines(&f, "a", 0..10);
    // Another process (a forked child) rotated the file with the next number meanwhile.
    std::fs::write(d.join("m.log.7.100.gz"), b"").unwrap();
    let (rotated, _) = write_lines(&f, "b", 0..1);
    let to = rotated[0].1.clone().unwrap();
    assert!(to.to_string_lossy().contains("m.log.8."), "{to:?}");
}

#[test]
fn a_rename_racing_a_rotation_does_not_pause_rotation() {
    let d = dir("race");
    let f = rotating(&d, 1000);
    write_lines(&f, "a", 0..10);
    // logrotate (or a person) renames the file between the check and the rename.
    BEFORE_RENAME.with(|h| {
        let moved = d.join("m.log.moved");
        *h.borrow_mut() = Some(Box::new(move |path: &Path, _: &Path| {
            if !moved.exists() {
                std::fs::rename(path, &moved).unwrap();
            }
        }))
    });
    let (_, errors) = write_lines(&f, "b", 0..1);
    BEFORE_RENAME.with(|h| *h.borrow_mut() = None);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        std::fs::read_to_string(d.join("m.log.moved"))
            .unwrap()
            .lines()
            .count(),
        10
    );
    // Rotation goes on at once (no pause of a minute): the next full file rotates.
    let (rotated, errors) = write_lines(&f, "c", 0..10);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rotated.len(), 1, "{rotated:?}");
    let first = std::fs::read_to_string(rotated[0].1.as_ref().unwrap()).unwrap();
    assert!(
        first.starts_with("b0x") && first.lines().count() == 10,
        "{first}"
    );
}

#[test]
fn a_cut_line_given_up_is_cut_off_the_file() {
    let d = dir("takeback");
    let p = d.join("m.log");
    let f = SharedFile::open(&p, 0o644, &OpenPolicy::default()).unwrap();
    f.write(b"whole\n").unwrap();
    // A short write (the disk filled) left "par" of "partial\n" in the file.
    let id = {
        let mut st = f.state.lock();
        let mut file = st.file.take().unwrap();
        let mut room = 3;
        let r = write_through(&mut st, b"partial\n", &mut |b: &[u8]| {
            if room == 0 {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let n = b.len().min(room);
            room -= n;
            file.write(&b[..n])
        });
        assert_eq!(r.unwrap(), 8);
        st.torn_end = file.stream_position().unwrap();
        st.file = Some(file);
        st.pending_id
    };
    assert_eq!(std::fs::read(&p).unwrap(), b"whole\npar");
    assert!(f.is_cut(id));
    assert!(f.take_back(id).unwrap());
    assert!(!f.is_cut(id));
    assert_eq!(std::fs::read(&p).unwrap(), b"whole\n");
    // Nothing of it is written later, and the next line starts at a line start.
    f.write(b"next\n").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"whole\nnext\n");
}

#[test]
fn a_cut_line_others_wrote_after_stays() {
    let d = dir("takeback-other");
    let p = d.join("m.log");
    let f = SharedFile::open(&p, 0o644, &OpenPolicy::default()).unwrap();
    let id = {
        let mut st = f.state.lock();
        let mut file = st.file.take().unwrap();
        let mut room = 3;
        let _ = write_through(&mut st, b"partial\n", &mut |b: &[u8]| {
            if room == 0 {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let n = b.len().min(room);
            room -= n;
            file.write(&b[..n])
        });
        st.torn_end = file.stream_position().unwrap();
        st.file = Some(file);
        st.pending_id
    };
    // Another process appended after it: cutting would take its line too.
    OpenOptions::new()
        .append(true)
        .open(&p)
        .unwrap()
        .write_all(b"theirs\n")
        .unwrap();
    assert!(!f.take_back(id).unwrap());
    assert_eq!(std::fs::read(&p).unwrap(), b"partheirs\n");
    assert!(!f.is_cut(id));
}

#[test]
fn a_process_without_the_lock_rotates_nothing_until_it_has_it() {
    let d = dir("busy");
    let f = rotating(&d, 1000);
    write_lines(&f, "a", 0..5);
    // Another process holds the file's write record lock (stopped in a batch).
    let other = File::options().append(true).open(d.join("m.log")).unwrap();
    assert!(crate::sys::ofd_lock(other.as_fd(), true).unwrap());
    // The first batch waits for it in vain, the next ones try once: all appended, past
    // max_file_size, and no rotation (which could give a number another one gives).
    let (rotated, errors) = write_lines(&f, "b", 0..10);
    assert!(
        rotated.is_empty() && errors.is_empty(),
        "{rotated:?} {errors:?}"
    );
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&d), ["m.log"]);
    assert_eq!(std::fs::read(d.join("m.log")).unwrap().len(), 1500);
    // Once the lock is free again, the next write rotates the full file.
    assert!(crate::sys::ofd_lock(other.as_fd(), false).unwrap());
    let (rotated, errors) = write_lines(&f, "c", 0..1);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rotated.len(), 1, "{rotated:?}");
    assert_eq!(names(&d).len(), 2, "{:?}", names(&d));
    assert_eq!(std::fs::read(d.join("m.log")).unwrap().len(), 100);
}

#[test]
fn a_child_that_cannot_open_the_file_appends_through_the_parents_without_locking_or_rotating() {
    let d = dir("inherited");
    let f = rotating(&d, 1000);
    write_lines(&f, "a", 0..5);
    // As after fork() in the child: the description and its lock are the parent's; the
    // parent holds the lock right now (its own batch).
    {
        let mut st = f.state.lock();
        st.inherited = true;
        st.locked = false;
        let fd = st.file.as_ref().unwrap().as_fd();
        assert!(crate::sys::ofd_lock(fd, true).unwrap());
    }
    // The child cannot open the path (here: a symlink, which is refused).
    std::fs::rename(d.join("m.log"), d.join("real.log")).unwrap();
    symlink(d.join("real.log"), d.join("m.log")).unwrap();
    let (rotated, errors) = write_lines(&f, "b", 0..10);
    assert!(rotated.is_empty(), "{rotated:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    {
        let st = f.state.lock();
        assert!(st.inherited && st.busy && !st.locked);
    }
    // Every line went to the parent's file; nothing was rotated away.
    assert_eq!(std::fs::read(d.join("real.log")).unwrap().len(), 1500);
    let names: Vec<_> = std::fs::read_dir(&d).unwrap().collect();
    assert_eq!(names.len(), 2);
}
