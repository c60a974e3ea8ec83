//! Opening files, and telling mtalog's own files from anyone else's.
//!
//! The rule every file operation follows (open, reopen, roll, rotate, compress, sweep,
//! remove), for log directories that others can write to:
//!
//! - **No open waits because of what a file is.** Every file is opened `O_NONBLOCK`, which
//!   is cleared once it is open: a FIFO that no process reads fails at once with `ENXIO`
//!   (instead of waiting for a reader), a file another process holds a lease on with
//!   `EWOULDBLOCK`.
//! - **No symlink is followed unless expected.** A configured log path is followed through
//!   a symlink only with `follow_symlinks`; a name mtalog derives from it (a rotated name,
//!   Sun's `_yesterday` and cumulative files, `.gz`, `.gz.tmp`) never (`O_NOFOLLOW`, then
//!   `fstat` on what was opened; `lstat` before a remove).
//! - **A log path that is not a regular file is used as it is.** A FIFO or a device
//!   named as a log path is written to, never created, chmod'ed, chown'ed, rotated,
//!   compressed or removed.
//! - **Only its own files.** A file found by its name (next to a log file, to roll,
//!   compress or remove) is acted on only when it is a regular file that [`Owners`] owns,
//!   under a sane name (`crate::file::rotate::parse_rotated` treats absurd numbers as
//!   foreign), and, when its contents are copied into another file, with no other name
//!   (a hard link could be anyone's file). Anything else is foreign and left alone.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::errno_error;

/// How files are opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenPolicy {
    /// Follow a symlink at the log path (default: refuse with `ELOOP`).
    pub follow_symlinks: bool,
    /// Change the owner of a file mtalog opens (when running as root).
    pub owner: Option<u32>,
    /// Change the group of a file mtalog opens.
    pub group: Option<u32>,
}

/// Who may own a file that mtalog treats as its own: the effective user, root, and the
/// owner of the log file it belongs to (`log_owner`, or whoever made it). A file of
/// anyone else is foreign, whatever its name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Owners {
    log: Option<u32>,
}

impl Owners {
    /// The owners of the files that belong with the log file at `path`: with the owner of
    /// the regular file there now (not through a symlink).
    pub fn of(path: &Path) -> Owners {
        let log = std::fs::symlink_metadata(path)
            .ok()
            .filter(|m| m.file_type().is_file())
            .map(|m| m.uid());
        Owners { log }
    }

    /// The owners of the files that belong with a log file owned by `uid`.
    pub fn with_log_owner(uid: u32) -> Owners {
        Owners { log: Some(uid) }
    }

    /// Is `meta` (from `lstat` or `fstat`) a regular file of one of these owners?
    pub fn own(&self, meta: &Metadata) -> bool {
        self.foreign(meta).is_none()
    }

    /// Why `meta` is not a regular file of one of these owners (`None`: it is).
    fn foreign(&self, meta: &Metadata) -> Option<String> {
        let t = meta.file_type();
        if t.is_symlink() {
            return Some("is a symlink".into());
        }
        if !t.is_file() {
            return Some("is not a regular file".into());
        }
        let uid = meta.uid();
        if uid != crate::sys::effective_uid() && uid != 0 && Some(uid) != self.log {
            return Some(format!("belongs to another user (uid {uid})"));
        }
        None
    }

    /// `Ok` when the file opened at `path` is a regular file of these owners and (with
    /// `one_name`) has no other name; else the `EPERM` error that says why not.
    fn check(&self, path: &Path, meta: &Metadata, one_name: bool) -> io::Result<()> {
        let why = self.foreign(meta).or_else(|| {
            (one_name && meta.nlink() > 1).then(|| {
                format!(
                    "has {} names (a hard link may be anyone's file)",
                    meta.nlink()
                )
            })
        });
        match why {
            None => Ok(()),
            Some(why) => Err(errno_error(
                libc::EPERM,
                format!(
                    "{}: {why}; not a file of mtalog's, left alone",
                    path.display()
                ),
            )),
        }
    }
}

/// The key under which a path is shared: its directory resolved, plus its file name.
pub(crate) fn registry_key(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file path", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match dir.canonicalize() {
        Ok(d) => Ok(d.join(name)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{}: directory {} does not exist (mtalog does not create it)",
                path.display(),
                dir.display()
            ),
        )),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("{}: directory {}: {e}", path.display(), dir.display()),
        )),
    }
}

/// Where a path to open comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A log path from the configuration: followed through a symlink with
    /// `follow_symlinks`.
    Configured,
    /// A name mtalog derives: never followed.
    Derived,
}

/// Opens `path` with `opts`, `O_CLOEXEC | O_NONBLOCK` and (unless following symlinks)
/// `O_NOFOLLOW`, and clears `O_NONBLOCK` again: the open never waits (see the module
/// docs); errors name the path and say what to do.
fn open_raw(path: &Path, opts: &mut OpenOptions, follow: bool, origin: Origin) -> io::Result<File> {
    let mut flags = libc::O_CLOEXEC | libc::O_NONBLOCK;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = opts.custom_flags(flags).open(path).map_err(|e| {
        let code = e.raw_os_error().unwrap_or(libc::EIO);
        let msg = match code {
            libc::ELOOP if origin == Origin::Configured => format!(
                "{}: is a symlink; refusing to follow it (set follow_symlinks = true to allow)",
                path.display()
            ),
            libc::ELOOP => format!(
                "{}: is a symlink; mtalog never follows one there",
                path.display()
            ),
            libc::ENXIO => format!(
                "{}: a FIFO that no process reads (or a socket, or a device without its driver); mtalog does not wait for a reader: start it first",
                path.display()
            ),
            libc::EWOULDBLOCK => format!(
                "{}: another process holds a lease on it; mtalog does not wait for it",
                path.display()
            ),
            _ => format!("{}: {e}", path.display()),
        };
        errno_error(code, msg)
    })?;
    crate::sys::clear_nonblocking(file.as_fd())?;
    Ok(file)
}

/// Append-only, created with `mode` when missing.
fn appending(mode: u32) -> OpenOptions {
    let mut o = OpenOptions::new();
    o.append(true).create(true).mode(mode);
    o
}

/// Opens the configured log path `path` for appending (creating a regular file with
/// exactly `mode` when there is none). A regular file gets exactly `mode` whatever the
/// umask, and the policy's owner and group; anything else there (a FIFO, a device) is used
/// as it is, never altered.
pub(crate) fn open_file(path: &Path, mode: u32, policy: &OpenPolicy) -> io::Result<File> {
    let file = open_raw(
        path,
        &mut appending(mode),
        policy.follow_symlinks,
        Origin::Configured,
    )?;
    let meta = file.metadata()?;
    if meta.file_type().is_file() {
        set_mode_and_owner(&file, &meta, path, mode, policy)?;
    }
    Ok(file)
}

/// Opens `path`, a name mtalog derives (Sun's cumulative file), for appending, never
/// through a symlink, creating it with exactly `mode` when missing; only a regular file of
/// `owners` with no other name is taken (and given `mode` and the policy's owner).
pub(crate) fn open_own_to_append(
    path: &Path,
    mode: u32,
    policy: &OpenPolicy,
    owners: &Owners,
) -> io::Result<File> {
    let file = open_raw(path, &mut appending(mode), false, Origin::Derived)?;
    let meta = file.metadata()?;
    owners.check(path, &meta, true)?;
    set_mode_and_owner(&file, &meta, path, mode, policy)?;
    Ok(file)
}

/// Opens `path`, a file mtalog found by its name and is about to copy into another (Sun's
/// `_yesterday`, a rotated file to compress), for reading, never through a symlink; only a
/// regular file of `owners` with no other name is taken. Returns it with its metadata.
pub(crate) fn open_own_to_read(path: &Path, owners: &Owners) -> io::Result<(File, Metadata)> {
    let file = open_raw(path, OpenOptions::new().read(true), false, Origin::Derived)?;
    let meta = file.metadata()?;
    owners.check(path, &meta, true)?;
    Ok((file, meta))
}

/// Opens `path`, a file mtalog found by its name and is about to remove (an old rotated
/// file), for reading, never through a symlink; only a regular file of `owners` is taken
/// (other names it may have stay: a remove takes only this one). Returns it with its
/// metadata.
pub(crate) fn open_own_to_remove(path: &Path, owners: &Owners) -> io::Result<(File, Metadata)> {
    let file = open_raw(path, OpenOptions::new().read(true), false, Origin::Derived)?;
    let meta = file.metadata()?;
    owners.check(path, &meta, false)?;
    Ok((file, meta))
}

/// Opens `path`, a temporary file mtalog writes (a `.gz.tmp`), for writing, empty, never
/// through a symlink, locked (`flock`) for as long as it is open, with exactly `mode` and
/// the owner `uid` and group `gid` where this process may give files away. It is created
/// exclusively; one already there is taken only when it is a regular file of `owners`
/// with one name (a leftover of a run that stopped) and nobody holds its lock: one that
/// another compression is writing is `EBUSY` (kind `ResourceBusy`), anything else `EPERM`.
pub(crate) fn create_own(
    path: &Path,
    mode: u32,
    owner: (u32, u32),
    owners: &Owners,
) -> io::Result<File> {
    let open = |create: bool| {
        open_raw(
            path,
            OpenOptions::new().write(true).create_new(create).mode(mode),
            false,
            Origin::Derived,
        )
    };
    let file = match open(true) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let file = open(false)?;
            owners.check(path, &file.metadata()?, true)?;
            file
        }
        r => r?,
    };
    if !crate::sys::flock(file.as_fd(), libc::LOCK_EX)? {
        return Err(errno_error(
            libc::EBUSY,
            format!("{}: another compression is writing it", path.display()),
        ));
    }
    file.set_len(0)?;
    // The owner first: giving a file away clears its set-id bits, the mode comes after.
    let _ = std::os::unix::fs::fchown(&file, Some(owner.0), Some(owner.1));
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(file)
}

/// Gives the regular file `file` (at `path`) exactly `mode` (the umask may have narrowed
/// the creation mode) and the policy's owner and group.
fn set_mode_and_owner(
    file: &File,
    meta: &Metadata,
    path: &Path,
    mode: u32,
    policy: &OpenPolicy,
) -> io::Result<()> {
    if meta.permissions().mode() & 0o7777 != mode {
        // A file owned by someone else keeps its mode (EPERM), which is not fatal.
        let _ = file.set_permissions(std::fs::Permissions::from_mode(mode));
    }
    if policy.owner.is_some() || policy.group.is_some() {
        std::os::unix::fs::fchown(file, policy.owner, policy.group).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{}: cannot change owner: {e}", path.display()),
            )
        })?;
    }
    Ok(())
}
