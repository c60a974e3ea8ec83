//! The state of one open log file, kept under its `ForkMutex`, and what is done with it
//! at the level of bytes and locks: whole-line writes that survive short writes, and the
//! cross-process locks of the module documentation (the write record lock over the file's
//! first byte, the shared `flock` of an appender).

use std::fs::File;
use std::io::{self, Seek, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::file::open::{OpenPolicy, open_file};
use crate::file::rotate;

pub(super) struct State {
    pub(super) file: Option<File>,
    pub(super) dev: u64,
    pub(super) ino: u64,
    /// The open file's owner.
    pub(super) uid: u32,
    /// The open file is a regular file (anything else is never rotated).
    pub(super) regular: bool,
    /// Bytes in the open file (refreshed from the file before a size-limited write).
    pub(super) size: u64,
    /// Something besides a file header was written since the file was created.
    pub(super) data: bool,
    /// The last byte written ended a line (a rotation only happens there).
    pub(super) line_start: bool,
    /// Creation time of the open file (Unix seconds), the `TIMESTAMP` of its rotated name.
    pub(super) created: i64,
    /// The next `SEQ` of a rotated name.
    pub(super) next_seq: u64,
    /// After a failed rotation, the next try is not before this (Unix seconds).
    pub(super) retry_after: i64,
    /// The rest of a line that a write left unfinished (a short write: disk full, file
    /// size limit): written before anything else, by whichever logger writes next, so that
    /// no other line lands inside it.
    pub(super) pending: Vec<u8>,
    /// Names the line whose rest is `pending` (a new number for each line cut).
    pub(super) pending_id: u64,
    /// Bytes written since the last line end (the part of a cut line in the file).
    pub(super) partial: u64,
    /// Where the file ended after the last write of a cut line (its rest is `pending`).
    pub(super) torn_end: u64,
    /// The open file description is the parent's (this process was forked since it was
    /// opened): its locks are shared with the parent, so a rotating write opens the file
    /// anew first.
    pub(super) inherited: bool,
    /// This process holds the file's write record lock (see the module documentation).
    pub(super) locked: bool,
    /// Another process held the lock all the time this one waited for it (or a fork was
    /// being prepared): this process writes on, but rotates nothing until it has the lock
    /// again, so that two rotations never run at once.
    pub(super) busy: bool,
    /// A move to the file that now has the path failed, and was reported.
    pub(super) follow_failed: bool,
    /// How long the next lock may be waited for: [`LOCK_WAIT`], or nothing after a wait
    /// ran out (until a lock is had again).
    pub(super) lock_wait: Duration,
}

impl State {
    /// A file not opened yet, created at `created`, whose next rotated name has `next_seq`.
    pub(super) fn new(created: i64, next_seq: u64) -> State {
        State {
            file: None,
            dev: 0,
            ino: 0,
            uid: 0,
            regular: true,
            size: 0,
            data: false,
            line_start: true,
            created,
            next_seq,
            retry_after: 0,
            pending: Vec::new(),
            pending_id: 0,
            partial: 0,
            torn_end: 0,
            inherited: false,
            locked: false,
            busy: false,
            follow_failed: false,
            lock_wait: LOCK_WAIT,
        }
    }

    /// Accounts for `bytes` written to the open file.
    pub(super) fn wrote(&mut self, bytes: &[u8]) {
        if let Some(&last) = bytes.last() {
            self.size += bytes.len() as u64;
            self.data = true;
            self.line_start = last == b'\n';
            self.partial = match bytes.iter().rposition(|&b| b == b'\n') {
                Some(i) => (bytes.len() - i - 1) as u64,
                None => self.partial + bytes.len() as u64,
            };
        }
    }

    /// Makes `file` (this process's own opening, `locked` or not) the open file; the old
    /// one's lock is released first (its description may live on in a forked child).
    pub(super) fn opened(
        &mut self,
        file: File,
        meta: &std::fs::Metadata,
        created: i64,
        lock: Lock,
    ) {
        self.unlock();
        self.dev = meta.dev();
        self.ino = meta.ino();
        self.uid = meta.uid();
        self.regular = meta.file_type().is_file();
        self.size = meta.len();
        self.data = meta.len() > 0;
        self.line_start = self.pending.is_empty();
        if self.pending.is_empty() {
            self.partial = 0;
        }
        self.created = created;
        self.file = Some(file);
        self.inherited = false;
        self.locked = lock == Lock::Had;
        self.busy = lock == Lock::Busy;
    }

    /// Takes the open file's write record lock (see [`lock_file`]); not on a description
    /// shared with the parent process, whose lock would not keep it out.
    pub(super) fn lock(&mut self) {
        if !self.locked && !self.inherited {
            let wait = &mut self.lock_wait;
            let lock = self
                .file
                .as_ref()
                .map_or(Lock::Untaken, |f| lock_file(f, wait));
            self.locked = lock == Lock::Had;
            self.busy = lock == Lock::Busy;
        }
    }

    /// Releases the lock [`State::lock`] took.
    pub(super) fn unlock(&mut self) {
        if std::mem::take(&mut self.locked) {
            if let Some(f) = &self.file {
                let _ = crate::sys::ofd_lock(f.as_fd(), false);
            }
        }
    }
}

/// Longest wait for a file's write record lock, which another process holds for one
/// batch of lines (and a rotation); past it the batch goes on without (see the module
/// documentation).
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// What became of a try to take a file's write record lock.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Lock {
    /// Taken.
    Had,
    /// Held by another process all the time waited (or a fork is being prepared).
    Busy,
    /// Not taken, and held by no one known: not tried yet, or not to be had (a file system
    /// without record locks, where a process rotates as if it were alone).
    Untaken,
}

/// Takes the write record lock of `file` for this open file description, waiting up to
/// `wait`, and not while a fork is being prepared. A wait that runs out sets `wait` to
/// nothing; a lock had sets it back to [`LOCK_WAIT`].
pub(super) fn lock_file(file: &File, wait: &mut Duration) -> Lock {
    let start = Instant::now();
    // Short naps: the lock is free only for moments while several processes write, and a
    // waiter that sleeps long misses them.
    let mut nap = Duration::from_micros(10);
    loop {
        match crate::sys::ofd_lock(file.as_fd(), true) {
            Ok(true) => {
                *wait = LOCK_WAIT;
                return Lock::Had;
            }
            Ok(false) if crate::sync::fork_pending() => return Lock::Busy,
            Ok(false) if start.elapsed() < *wait => {
                std::thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_micros(100));
            }
            Ok(false) => {
                *wait = Duration::ZERO;
                return Lock::Busy;
            }
            Err(_) => return Lock::Untaken,
        }
    }
}

/// Opens `path` for this process's appends (see [`open_file`]) and takes the shared
/// `flock` that keeps it from being compressed or removed. A file that some process holds
/// exclusively is being compressed or removed: the path has moved on from it by then, and
/// is opened again.
pub(super) fn open_appending(
    path: &Path,
    mode: u32,
    policy: &OpenPolicy,
) -> io::Result<(File, std::fs::Metadata)> {
    let mut tries = 0;
    loop {
        let file = open_file(path, mode, policy)?;
        let meta = file.metadata()?;
        if !meta.file_type().is_file() {
            return Ok((file, meta));
        }
        tries += 1;
        let moved = || {
            std::fs::metadata(path).map_or(true, |m| m.dev() != meta.dev() || m.ino() != meta.ino())
        };
        match crate::sys::flock(file.as_fd(), libc::LOCK_SH) {
            Ok(false) if tries < 3 && moved() => continue,
            // Held by something else than a rotation, or no flock here: appended to as it is.
            _ => return Ok((file, meta)),
        }
    }
}

/// Creation time of an open file: its birth time where the file system keeps one, else
/// its modification time, else now; to the nearest second, so that a process that opens
/// a file another one just created agrees with its creator (who takes the clock's second:
/// file times come from a coarser clock, a few milliseconds behind).
pub(super) fn creation_time(meta: &std::fs::Metadata) -> i64 {
    if meta.len() == 0 {
        return rotate::unix_now();
    }
    meta.created()
        .or_else(|_| meta.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or_else(rotate::unix_now, |d| {
            d.as_secs() as i64 + i64::from(d.subsec_nanos() >= 500_000_000)
        })
}

/// Writes `buf` (retrying `EINTR`) to the open file; see [`write_through`].
pub(super) fn write_locked(st: &mut State, buf: &[u8]) -> io::Result<usize> {
    let mut file = st.file.take().ok_or_else(|| io::Error::other("not open"))?;
    let r = write_through(st, buf, &mut |b| file.write(b));
    if !st.pending.is_empty() {
        // Appending leaves the offset at the end of what was written: where the file
        // ends while nobody appended after the cut line (see `SharedFile::take_back`).
        st.torn_end = file.stream_position().unwrap_or(u64::MAX);
    }
    st.file = Some(file);
    r
}

/// Writes `buf` with `raw` (one `write(2)`), keeping the state's size and line position.
/// Returns the bytes of `buf` taken; a short count comes with the error on the next call.
///
/// A line that a short write leaves unfinished is taken whole: its rest is kept in the
/// state and written first by the next write to the file, from whichever logger, so that
/// loggers sharing a file never write into each other's lines.
pub(super) fn write_through(
    st: &mut State,
    buf: &[u8],
    raw: &mut dyn FnMut(&[u8]) -> io::Result<usize>,
) -> io::Result<usize> {
    if !st.pending.is_empty() {
        let pending = std::mem::take(&mut st.pending);
        let (n, r) = write_all(raw, &pending);
        st.wrote(&pending[..n]);
        if n < pending.len() {
            st.pending = pending[n..].to_vec();
            return Err(r.err().unwrap_or_else(|| io::Error::other("short write")));
        }
    }
    let (done, r) = write_all(raw, buf);
    st.wrote(&buf[..done]);
    match r {
        Ok(()) => Ok(done),
        Err(e) if done == 0 => Err(e),
        Err(_) if st.line_start => Ok(done),
        Err(_) => {
            let end = buf[done..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(buf.len(), |i| done + i + 1);
            st.pending = buf[done..end].to_vec();
            st.pending_id += 1;
            Ok(end)
        }
    }
}

/// Writes as much of `buf` as `raw` takes (retrying `EINTR`): the count, and the error that
/// stopped it.
pub(super) fn write_all(
    raw: &mut dyn FnMut(&[u8]) -> io::Result<usize>,
    buf: &[u8],
) -> (usize, io::Result<()>) {
    let mut done = 0;
    while done < buf.len() {
        match raw(&buf[done..]) {
            Ok(0) => {
                let e = io::Error::new(io::ErrorKind::WriteZero, "write returned 0");
                return (done, Err(e));
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Err(e)),
        }
    }
    (done, Ok(()))
}
