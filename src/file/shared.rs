//! Log files: opened once per path (loggers that name the same file share one handle),
//! `O_APPEND | O_CLOEXEC`, refusing a symlink unless allowed, created with the configured
//! mode whatever the umask, reopened by name on request, and rotated (when a
//! [`Policy`] says so) under the same lock as the writes, between
//! two whole writes. A path that is not a regular file (a FIFO, a device) is written as it
//! is and never rotated; every file is opened by the rules of [`crate::file::open`].
//!
//! Several processes may append to one file (a host's forked children, or processes
//! configured with the same path); built-in rotation then stays exact across them:
//!
//! - each process holds a shared `flock` on the file it appends to, so that nothing is
//!   compressed or removed while a process may still append to it (those take the
//!   exclusive lock without waiting, and try again later; see
//!   [`rotate::claim`]);
//! - a rotating write takes the file's write record lock (`F_OFD_SETLK`, over its first
//!   byte) for the whole batch, then checks that the path still names the open file: when
//!   another process rotated it meanwhile, the rest of a cut line goes to the old file and
//!   the batch to the new one. The size check, the rotation and the write are one step for
//!   all processes, so one of them rotates a full file and the others follow;
//! - a rotated name never replaces a file (`renameat2(RENAME_NOREPLACE)`, else a link that
//!   fails on an existing name), and its sequence number is one more than any found next
//!   to the file, so that a forked child never reuses its parent's;
//! - a forked child shares its parent's open file descriptions, and with them their
//!   locks: before its first rotating write it opens the file itself.
//!
//! The lock is waited for at most [`LOCK_WAIT`] (a process holding it that long is
//! stuck; later batches then try once without waiting, until the lock is had again), and
//! not while this process is being forked (`fork()` waits for file operations under way
//! only so long). A batch that goes on without the lock is appended as it is, and this
//! process rotates nothing until it has the lock again: the file may then grow past
//! `max_file_size` for a while, but two rotations never run at once, so no sequence
//! number is given twice. (On a file system without record locks, each process rotates
//! as if it were alone: no name is replaced and nothing a process appends to is
//! compressed or removed, but two processes may then give one number twice.)

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use once_cell::sync::Lazy;

use super::open::{OpenPolicy, Owners, open_own_to_append, open_own_to_read, registry_key};
use super::rotate::{self, Policy, Scheme};
use crate::error::{errno_error, errno_of};
use crate::event::Timestamp;
use crate::sync::ForkMutex;

mod state;
pub use state::LOCK_WAIT;
use state::{Lock, State, creation_time, lock_file, open_appending, write_locked};

/// One open log file, shared by every logger that names its path.
pub struct SharedFile {
    path: PathBuf,
    mode: u32,
    policy: OpenPolicy,
    rot: Policy,
    /// fsync the file before it is rotated (some logger sharing it wants fsyncs).
    sync_on_rotate: AtomicBool,
    /// When the file is due by time (Unix seconds; `i64::MAX` = never), readable without
    /// the lock.
    due: AtomicI64,
    /// Start-up work (compressing and expiring old files) not yet handed to a helper.
    fresh: AtomicBool,
    /// The size of this file at which it and the rotated files outgrow `max_total_size`,
    /// as the last retention found ([`rotate::NO_SWEEP`]: none known).
    sweep_at: Arc<AtomicU64>,
    state: ForkMutex<State>,
}

/// What the writer gives a rotating write, and what it gets back.
pub struct RotateCtx<'a> {
    /// Appends the lines a new file starts with (e.g. Sun's `Log created`).
    pub header: &'a mut dyn FnMut(Timestamp, &mut Vec<u8>),
    /// Files rotated during the call: (current path, the name the old file got).
    pub rotated: Vec<(PathBuf, Option<PathBuf>)>,
    /// Problems met (the file could not be rotated; logging went on in the old file).
    pub errors: Vec<String>,
    /// A line of the written bytes that a short write cut (disk full): the number that
    /// names it (see [`SharedFile::is_cut`]) and how many of its bytes, counted as taken,
    /// are not in the file yet.
    pub cut: Option<(u64, usize)>,
}

impl std::fmt::Debug for SharedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedFile")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish()
    }
}

static REGISTRY: Lazy<ForkMutex<HashMap<PathBuf, Weak<SharedFile>>>> =
    Lazy::new(|| ForkMutex::new(HashMap::new()));

/// In a child process just forked (with no file operation under way at the fork): the
/// rest of a line that the parent's last write left is the parent's to finish, not the
/// child's; and the open files are the parent's descriptions, shared with it, locks
/// included (a rotating write opens its file anew first).
pub(crate) fn after_fork_in_child() {
    let files: Vec<Arc<SharedFile>> = REGISTRY.lock().values().filter_map(Weak::upgrade).collect();
    for f in files {
        let mut st = f.state.lock();
        st.pending.clear();
        st.line_start = true;
        st.partial = 0;
        st.inherited = true;
        st.locked = false;
    }
}

impl SharedFile {
    /// Opens `path` (or joins the handle another logger already has for it), without
    /// rotation.
    pub fn open(path: &Path, mode: u32, policy: &OpenPolicy) -> io::Result<Arc<SharedFile>> {
        SharedFile::open_rotating(path, mode, policy, &Policy::default())
    }

    /// Opens `path` with the rotation policy `rot` (or joins the handle another logger
    /// already has for it; then its policy must be the same).
    pub fn open_rotating(
        path: &Path,
        mode: u32,
        policy: &OpenPolicy,
        rot: &Policy,
    ) -> io::Result<Arc<SharedFile>> {
        let key = registry_key(path)?;
        let mut reg = REGISTRY.lock();
        reg.retain(|_, w| w.strong_count() > 0);
        if let Some(f) = reg.get(&key).and_then(Weak::upgrade) {
            if f.rot != *rot {
                return Err(errno_error(
                    libc::EINVAL,
                    format!(
                        "{}: another logger writes this file with other rotation options; give both the same",
                        path.display()
                    ),
                ));
            }
            return Ok(f);
        }
        if rot.rotates() && policy.follow_symlinks && is_symlink(path) {
            return Err(errno_error(
                libc::EINVAL,
                format!(
                    "{} is a symlink; built-in rotation renames only plain files (give the real path, or set max_file_size = 0 and rollover_time = none)",
                    path.display()
                ),
            ));
        }
        let (file, meta) = open_appending(path, mode, policy)?;
        let created = creation_time(&meta);
        let next_seq = if rot.rotates() && rot.scheme == Scheme::Numbered {
            rotate::next_seq(path)
        } else {
            1
        };
        let mut st = State::new(created, next_seq);
        st.opened(file, &meta, created, Lock::Untaken);
        let shared = Arc::new(SharedFile {
            path: path.to_path_buf(),
            mode,
            policy: policy.clone(),
            rot: rot.clone(),
            sync_on_rotate: AtomicBool::new(false),
            due: AtomicI64::new(rot.due_after(created)),
            fresh: AtomicBool::new(rot.has_jobs() && meta.file_type().is_file()),
            sweep_at: Arc::new(AtomicU64::new(rotate::NO_SWEEP)),
            state: ForkMutex::new(st),
        });
        reg.insert(key, Arc::downgrade(&shared));
        Ok(shared)
    }

    /// The rotation policy.
    pub fn rotation(&self) -> &Policy {
        &self.rot
    }

    /// Asks for an fsync before each rotation.
    pub fn sync_before_rotation(&self) {
        self.sync_on_rotate.store(true, Ordering::Relaxed);
    }

    /// Where retention stores the size at which the files outgrow `max_total_size` again.
    pub fn sweep_at(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.sweep_at)
    }

    /// True once each time the file grows past that size: retention must run again (the
    /// size is forgotten until it has).
    pub fn outgrew_budget(&self) -> bool {
        let at = self.sweep_at.load(Ordering::SeqCst);
        at != rotate::NO_SWEEP
            && self.state.lock().size > at
            && self
                .sweep_at
                .compare_exchange(at, rotate::NO_SWEEP, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
    }

    /// True once, for the first caller after the file was opened with start-up work to do.
    pub fn take_startup_work(&self) -> bool {
        self.fresh.swap(false, Ordering::Relaxed)
    }

    /// Is the file due for a rotation by time at `now` (Unix seconds)? Lock-free.
    pub fn due(&self, now: i64) -> bool {
        now >= self.due.load(Ordering::Relaxed)
    }

    /// Rotates the file if it is due by time at `now`; the caller has written out every
    /// line that belongs before the rotation. A file that received nothing but a header
    /// is not rotated (its period starts again). When another process rotated it already,
    /// this one moves to the new file instead.
    pub fn rotate_if_due(&self, now: i64, ctx: &mut RotateCtx<'_>) {
        let mut st = self.state.lock();
        if !self.due(now) || !st.line_start || now < st.retry_after {
            return;
        }
        // A path that is not a regular file (a FIFO, a device) is used as it is, never
        // rotated: its period just starts again.
        let attached = !st.regular || self.attach(&mut st, &mut ctx.errors).is_ok();
        // While another process holds the lock (see `State::busy`), that one rotates the
        // file, or this one does later.
        if attached && self.due(now) && !st.busy {
            if st.data && st.regular {
                self.rotate_locked(&mut st, now, ctx);
            } else {
                self.due.store(self.rot.due_after(now), Ordering::Relaxed);
            }
        }
        st.unlock();
    }

    /// A rotating file, between writes: moves to the file the path names when another
    /// process rotated the open one (or this process was forked since it was opened), so
    /// that an idle process does not keep a rotated file from being compressed. Returns
    /// the problem met, if any (reported once).
    pub fn follow(&self) -> Option<String> {
        if !self.rot.rotates() {
            return None;
        }
        let mut st = self.state.lock();
        if !st.regular || !st.pending.is_empty() || (!st.inherited && self.names_open_file(&st)) {
            return None;
        }
        let mut errors = Vec::new();
        let _ = self.attach(&mut st, &mut errors);
        st.unlock();
        errors.pop()
    }

    /// Before a rotating write: takes the file's write record lock and makes sure that the
    /// open file is this process's own opening of the file the path names. When the path
    /// names another file (another process rotated it), the rest of a cut line is written
    /// to the old file, then the new one is opened; when that fails, writing goes on in
    /// the old file (a problem reported once). An error: the rest of a cut line could not
    /// be written.
    fn attach(&self, st: &mut State, errors: &mut Vec<String>) -> io::Result<()> {
        // A file opened may be rotated by the time its lock is had (its holder filled it):
        // then on to the next one, for a while.
        let start = Instant::now();
        while start.elapsed() < LOCK_WAIT {
            if !st.inherited {
                st.lock();
                if st.file.is_some() && self.names_open_file(st) {
                    return Ok(());
                }
                if !st.pending.is_empty() {
                    write_locked(st, &[])?;
                }
            }
            let moved = !self.names_open_file(st);
            match open_appending(&self.path, self.mode, &self.policy) {
                Ok((file, meta)) => {
                    let lock = lock_file(&file, &mut st.lock_wait);
                    let created = creation_time(&meta);
                    st.opened(file, &meta, created, lock);
                    st.follow_failed = false;
                    self.due
                        .store(self.rot.due_after(created), Ordering::Relaxed);
                    if lock == Lock::Had && self.names_open_file(st) {
                        return Ok(());
                    }
                }
                Err(e) => {
                    // A parent's description works as well for appending.
                    if moved && !std::mem::replace(&mut st.follow_failed, true) {
                        errors.push(format!(
                            "{} was rotated by another process, but it cannot be opened: {e}; still writing to the rotated file",
                            self.path.display()
                        ));
                    }
                    if st.inherited {
                        // The parent's description: its lock is the parent's too, so this
                        // process appends through it but neither locks it nor rotates.
                        st.busy = true;
                    } else {
                        st.lock();
                    }
                    return Ok(());
                }
            }
        }
        // The path keeps changing: written where it is.
        Ok(())
    }

    fn fail(&self, st: &mut State, now: i64, ctx: &mut RotateCtx<'_>, msg: String) {
        st.retry_after = now + 60;
        ctx.errors.push(format!(
            "{msg}; still writing to {} (next try in a minute)",
            self.path.display()
        ));
    }

    /// Moves the open file aside to a numbered name that no file has (never replacing
    /// one): the number is one more than any found next to it. `Ok(None)`: the path no
    /// longer names the open file (someone moved it meanwhile), so there is nothing to
    /// move.
    fn move_aside(&self, st: &mut State) -> Result<Option<PathBuf>, String> {
        let mut seq = st.next_seq.max(rotate::next_seq(&self.path));
        for _ in 0..64 {
            let to = rotate::numbered_name(&self.path, seq, st.created);
            let next = seq.checked_add(1);
            let taken = std::fs::symlink_metadata(&to).is_ok()
                || std::fs::symlink_metadata(format!("{}.gz", to.display())).is_ok();
            #[cfg(test)]
            tests::before_rename(&self.path, &to);
            let r = if taken {
                Err(io::Error::from_raw_os_error(libc::EEXIST))
            } else {
                self.rename_noreplace(st, &to)
            };
            match r {
                Ok(()) => {
                    st.next_seq = next.unwrap_or(u64::MAX);
                    return Ok(Some(to));
                }
                Err(e) if errno_of(&e) == libc::EEXIST => match next {
                    Some(n) => seq = n,
                    None => break,
                },
                // Moved meanwhile (a rename racing this one): nothing to move.
                Err(_) if !self.names_open_file(st) => return Ok(None),
                Err(e) => {
                    return Err(format!(
                        "cannot rename {} to {}: {e}",
                        self.path.display(),
                        to.display()
                    ));
                }
            }
        }
        Err(format!(
            "cannot rename {}: no free rotated name after sequence number {seq}",
            self.path.display()
        ))
    }

    /// Renames the path to `to` unless `to` exists. Where the file system cannot rename
    /// that way, a hard link (which fails on an existing name) then the removal of the
    /// path, when it still names the open file.
    fn rename_noreplace(&self, st: &State, to: &Path) -> io::Result<()> {
        match crate::sys::rename_noreplace(&self.path, to) {
            Err(e) if matches!(errno_of(&e), libc::EINVAL | libc::ENOSYS) => {}
            r => return r,
        }
        std::fs::hard_link(&self.path, to)?;
        let ours = |p: &Path| {
            std::fs::symlink_metadata(p).is_ok_and(|m| m.dev() == st.dev && m.ino() == st.ino)
        };
        if !ours(to) {
            // The path named another file by then: that link is undone.
            let _ = std::fs::remove_file(to);
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        if ours(&self.path) {
            std::fs::remove_file(&self.path)?;
        }
        Ok(())
    }

    /// The rotation: moves the open file aside (numbered or Sun scheme), opens a new one
    /// at the path, writes its header. On failure the old file stays in use. A path that
    /// another process moved meanwhile is not moved again: the file there is opened.
    fn rotate_locked(&self, st: &mut State, now: i64, ctx: &mut RotateCtx<'_>) {
        let moved = !self.names_open_file(st);
        if !moved && self.policy.follow_symlinks && is_symlink(&self.path) {
            // Renaming the link would leave its target, the full file, in use.
            let msg = format!(
                "{} is a symlink; built-in rotation renames only plain files",
                self.path.display()
            );
            return self.fail(st, now, ctx, msg);
        }
        if self.sync_on_rotate.load(Ordering::Relaxed) {
            if let Some(Err(e)) = st.file.as_ref().map(File::sync_data) {
                if errno_of(&e) != libc::EINVAL {
                    ctx.errors.push(format!(
                        "fsync of {} before its rotation failed: {e}; lines written to it may not be on disk",
                        self.path.display()
                    ));
                }
            }
        }
        let mut rotated_to = None;
        if !moved {
            match self.rot.scheme {
                Scheme::Numbered => match self.move_aside(st) {
                    Ok(to) => rotated_to = to,
                    Err(msg) => return self.fail(st, now, ctx, msg),
                },
                Scheme::Sun => {
                    let (yesterday, cumulative) = rotate::sun_names(&self.path);
                    let owners = Owners::with_log_owner(st.uid);
                    if let Err(e) =
                        append_and_remove(&yesterday, &cumulative, self.mode, &self.policy, &owners)
                    {
                        let msg = format!(
                            "cannot append {} to {}: {e}",
                            yesterday.display(),
                            cumulative.display()
                        );
                        return self.fail(st, now, ctx, msg);
                    }
                    match crate::sys::rename_noreplace(&self.path, &yesterday) {
                        Ok(()) => rotated_to = Some(yesterday),
                        Err(_) if !self.names_open_file(st) => {}
                        Err(e) => {
                            let msg = format!(
                                "cannot rename {} to {}: {e}",
                                self.path.display(),
                                yesterday.display()
                            );
                            return self.fail(st, now, ctx, msg);
                        }
                    }
                }
            }
        }
        let (file, meta) = match open_appending(&self.path, self.mode, &self.policy) {
            Ok(x) => x,
            Err(e) => {
                if let Some(to) = &rotated_to {
                    let _ = crate::sys::rename_noreplace(to, &self.path);
                }
                let msg = format!("cannot create a new {}: {e}", self.path.display());
                return self.fail(st, now, ctx, msg);
            }
        };
        // Now, not `now`: the lock may have been waited for since.
        let now = rotate::unix_now();
        let created = if meta.len() == 0 {
            now
        } else {
            creation_time(&meta)
        };
        let lock = lock_file(&file, &mut st.lock_wait);
        st.opened(file, &meta, created, lock);
        st.retry_after = 0;
        self.due
            .store(self.rot.due_after(created), Ordering::Relaxed);
        if !(lock == Lock::Had && self.names_open_file(st)) {
            // Another process (moving to the new file as well) took its lock first, and
            // rotated it meanwhile: on to the file the path names now.
            let _ = self.attach(st, &mut ctx.errors);
        }
        let mut head = Vec::new();
        (ctx.header)(Timestamp { sec: now, usec: 0 }, &mut head);
        if !head.is_empty() && write_locked(st, &head).is_ok() {
            st.data = st.size > head.len() as u64;
        }
        if rotated_to.is_some() {
            ctx.rotated.push((self.path.clone(), rotated_to));
        }
    }

    /// The path as configured.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes as much of `buf` as the file takes; returns the bytes taken (a short count
    /// only together with an error on the next call). Retries `EINTR`. No rotation. A line
    /// a short write left unfinished is taken whole and finished first by the next write,
    /// from any logger (an empty `buf` finishes just that).
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        let mut st = self.state.lock();
        write_locked(&mut st, buf)
    }

    /// [`SharedFile::write`] with rotation: before a line that would take the file past
    /// `max_file_size`, or when it is due by time, the file is rotated (only between whole
    /// lines); `buf` holds whole lines. When another process rotated the file, the lines
    /// go to the new one (see the module documentation). A line a short write cut is
    /// named in `ctx.cut`.
    pub fn write_rotating(&self, buf: &[u8], ctx: &mut RotateCtx<'_>) -> io::Result<usize> {
        let mut st = self.state.lock();
        let id = st.pending_id;
        // A path that is not a regular file (a FIFO, a device) is never rotated.
        let r = if self.rot.rotates() && st.regular {
            let r = self.write_rotating_locked(&mut st, buf, ctx);
            st.unlock();
            r
        } else {
            write_locked(&mut st, buf)
        };
        if st.pending_id != id && !st.pending.is_empty() {
            ctx.cut = Some((st.pending_id, st.pending.len()));
        }
        r
    }

    fn write_rotating_locked(
        &self,
        st: &mut State,
        buf: &[u8],
        ctx: &mut RotateCtx<'_>,
    ) -> io::Result<usize> {
        self.attach(st, &mut ctx.errors)?;
        if !st.regular {
            // The path names a FIFO or a device now: used as it is, never rotated.
            return write_locked(st, buf);
        }
        // The rest of a line a short write left goes first, so that the size and time
        // checks below see the file as it is at a line end.
        if !st.pending.is_empty() {
            write_locked(st, &[])?;
        }
        let max = self.rot.max_file_size;
        if max > 0 {
            // Someone else (copytruncate, another process) may have changed the size.
            if let Some(f) = &st.file {
                st.size = f.metadata()?.len();
            }
        }
        let mut done = 0;
        while done < buf.len() {
            let rest = &buf[done..];
            let first_line = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let mut n = rest.len();
            if st.line_start {
                let now = rotate::unix_now();
                let by_size = max > 0 && st.data && st.size + first_line as u64 > max;
                let by_time = st.data && self.due(now);
                // Not while another process holds the lock (see `State::busy`): the file
                // then grows past `max_file_size` for a while rather than two rotations
                // giving one sequence number.
                let rotating = now >= st.retry_after && !st.busy;
                if (by_size || by_time) && rotating {
                    self.rotate_locked(st, now, ctx);
                }
                if max > 0 && rotating {
                    let room = max.saturating_sub(st.size) as usize;
                    if room < n {
                        n = rest[..room]
                            .iter()
                            .rposition(|&b| b == b'\n')
                            .map_or(first_line, |i| i + 1);
                    }
                }
            } else {
                n = first_line;
            }
            match write_locked(st, &rest[..n]) {
                Ok(w) => done += w,
                Err(_) if done > 0 => return Ok(done),
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// fsync.
    pub fn sync(&self) -> io::Result<()> {
        let st = self.state.lock();
        match &st.file {
            Some(f) => f.sync_data(),
            None => Ok(()),
        }
    }

    /// Reopens by name: when the path now names another file (or none), opens it (creating
    /// it with the configured mode) and swaps handles; the old one is closed after the swap.
    /// A path that still names the open file is left alone, so several loggers sharing a
    /// file reopen it once.
    pub fn reopen(&self) -> io::Result<bool> {
        let mut st = self.state.lock();
        if st.file.is_some() && self.names_open_file(&st) {
            return Ok(false);
        }
        let (file, meta) = open_appending(&self.path, self.mode, &self.policy)?;
        // The end of a line the old file took the start of belongs there; what it does not
        // take goes to the new file (a torn line, rather than a lost one).
        let _ = write_locked(&mut st, &[]);
        let created = creation_time(&meta);
        st.opened(file, &meta, created, Lock::Untaken);
        self.due
            .store(self.rot.due_after(created), Ordering::Relaxed);
        Ok(true)
    }

    /// Is the line a short write cut, named `id` (see [`RotateCtx::cut`]), still
    /// unfinished?
    pub fn is_cut(&self, id: u64) -> bool {
        let st = self.state.lock();
        st.pending_id == id && !st.pending.is_empty()
    }

    /// Gives up the line a short write cut, named `id`, when it is still unfinished: its
    /// rest is forgotten, and the part written is cut off the file again when this process
    /// wrote the last bytes of the file (no file ends in part of a line); a part that
    /// other lines follow already stays. Returns whether the file was cut back.
    pub fn take_back(&self, id: u64) -> io::Result<bool> {
        let mut st = self.state.lock();
        if st.pending_id != id || st.pending.is_empty() {
            return Ok(false);
        }
        st.pending.clear();
        st.line_start = true;
        let part = std::mem::take(&mut st.partial);
        let end = st.torn_end;
        let was_locked = st.locked;
        st.lock();
        let r = match &st.file {
            Some(f) => f.metadata().and_then(|m| {
                if m.len() == end && part <= end {
                    f.set_len(end - part).map(|()| true)
                } else {
                    Ok(false)
                }
            }),
            None => Ok(false),
        };
        if !was_locked {
            st.unlock();
        }
        if let Ok(true) = r {
            st.size = end - part;
        }
        r
    }

    /// Is the rest of a line waiting to be written (see [`SharedFile::write`])?
    pub fn has_pending(&self) -> bool {
        !self.state.lock().pending.is_empty()
    }

    /// Does the path still name the open file? (`reopen_on_rename` checks this.)
    pub fn path_moved(&self) -> bool {
        let st = self.state.lock();
        !self.names_open_file(&st)
    }

    /// Does the path name the open file? With `follow_symlinks`, through a symlink at the
    /// path (the open file is the link's target).
    fn names_open_file(&self, st: &State) -> bool {
        let meta = if self.policy.follow_symlinks {
            std::fs::metadata(&self.path)
        } else {
            std::fs::symlink_metadata(&self.path)
        };
        meta.is_ok_and(|m| m.dev() == st.dev && m.ino() == st.ino)
    }

    /// Size of the open file.
    pub fn len(&self) -> io::Result<u64> {
        let st = self.state.lock();
        match &st.file {
            Some(f) => Ok(f.metadata()?.len()),
            None => Ok(0),
        }
    }

    /// Is the open file empty?
    pub fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Sun's step 1: appends `from` (if it exists) to `to`, makes that durable, then removes
/// `from`, so that a failure later in the rotation never appends it twice. A copy that
/// fails part way is cut off again, so that the next try does not append it twice either.
/// Both must be regular files of `owners` with one name, neither is followed through a
/// symlink: anything else fails the rotation (a planted link or hard link is never read
/// or written through).
fn append_and_remove(
    from: &Path,
    to: &Path,
    mode: u32,
    policy: &OpenPolicy,
    owners: &Owners,
) -> io::Result<()> {
    let mut src = match open_own_to_read(from, owners) {
        Ok((f, _)) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut dst = open_own_to_append(to, mode, policy, owners)?;
    append_whole(&mut src, &mut dst)?;
    std::fs::remove_file(from)
}

/// Appends all of `src` to `dst` and makes it durable; on failure `dst` is cut back to its
/// length before.
fn append_whole(src: &mut dyn io::Read, dst: &mut File) -> io::Result<()> {
    let before = dst.metadata()?.len();
    let r = io::copy(src, dst).and_then(|_| dst.sync_data());
    if r.is_err() {
        let _ = dst.set_len(before);
    }
    r
}

#[cfg(test)]
mod tests;
