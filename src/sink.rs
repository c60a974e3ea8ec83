//! Log files: opened once per path (loggers that name the same file share one handle),
//! `O_APPEND | O_CLOEXEC`, refusing a symlink unless allowed, created with the configured
//! mode whatever the umask, reopened by name on request.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use once_cell::sync::Lazy;

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

struct State {
    file: Option<File>,
    dev: u64,
    ino: u64,
}

/// One open log file, shared by every logger that names its path.
pub struct SharedFile {
    path: PathBuf,
    mode: u32,
    policy: OpenPolicy,
    state: Mutex<State>,
}

impl std::fmt::Debug for SharedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedFile")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish()
    }
}

static REGISTRY: Lazy<Mutex<HashMap<PathBuf, Weak<SharedFile>>>> =
    Lazy::new(|| Mutex::new(HashMap::new()));

/// A file or registry lock, taken inside the fork gate (`fork::gate`) so that no
/// such lock is held when the process forks. Fields drop in order: the lock, then the gate.
struct Locked<'a, T> {
    guard: MutexGuard<'a, T>,
    _gate: crate::fork::GateGuard,
}

impl<T> std::ops::Deref for Locked<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> std::ops::DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

fn lock<T>(m: &Mutex<T>) -> Locked<'_, T> {
    let gate = crate::fork::gate();
    Locked {
        guard: m.lock().unwrap_or_else(|e| e.into_inner()),
        _gate: gate,
    }
}

/// The key under which a path is shared: its directory resolved, plus its file name.
fn registry_key(path: &Path) -> io::Result<PathBuf> {
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

fn open_file(path: &Path, mode: u32, policy: &OpenPolicy) -> io::Result<File> {
    let mut flags = libc::O_CLOEXEC;
    if !policy.follow_symlinks {
        flags |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            let code = e.raw_os_error().unwrap_or(libc::EIO);
            let msg = if code == libc::ELOOP {
                format!(
                    "{}: is a symlink; refusing to follow it (set follow_symlinks = true to allow)",
                    path.display()
                )
            } else {
                format!("{}: {e}", path.display())
            };
            io::Error::new(
                io::Error::from_raw_os_error(code).kind(),
                ErrnoMessage(code, msg),
            )
        })?;
    let meta = file.metadata()?;
    if meta.permissions().mode() & 0o7777 != mode {
        // The umask may have narrowed the creation mode; apply the configured mode exactly.
        // A file owned by someone else keeps its mode (EPERM), which is not fatal.
        let _ = file.set_permissions(std::fs::Permissions::from_mode(mode));
    }
    if policy.owner.is_some() || policy.group.is_some() {
        std::os::unix::fs::fchown(&file, policy.owner, policy.group).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{}: cannot change owner: {e}", path.display()),
            )
        })?;
    }
    Ok(file)
}

/// An error message that keeps the errno it came from (see [`errno_of`]).
#[derive(Debug)]
struct ErrnoMessage(i32, String);

impl std::fmt::Display for ErrnoMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for ErrnoMessage {}

/// The errno behind an I/O error (also through mtalog's own message wrappers); `EIO` when
/// unknown.
pub fn errno_of(e: &io::Error) -> i32 {
    if let Some(code) = e.raw_os_error() {
        return code;
    }
    if let Some(m) = e.get_ref().and_then(|r| r.downcast_ref::<ErrnoMessage>()) {
        return m.0;
    }
    match e.kind() {
        io::ErrorKind::NotFound => libc::ENOENT,
        io::ErrorKind::PermissionDenied => libc::EACCES,
        io::ErrorKind::InvalidInput => libc::EINVAL,
        io::ErrorKind::AlreadyExists => libc::EEXIST,
        io::ErrorKind::TimedOut => libc::ETIMEDOUT,
        _ => libc::EIO,
    }
}

impl SharedFile {
    /// Opens `path` (or joins the handle another logger already has for it).
    pub fn open(path: &Path, mode: u32, policy: &OpenPolicy) -> io::Result<Arc<SharedFile>> {
        let key = registry_key(path)?;
        let mut reg = lock(&REGISTRY);
        reg.retain(|_, w| w.strong_count() > 0);
        if let Some(f) = reg.get(&key).and_then(Weak::upgrade) {
            return Ok(f);
        }
        let file = open_file(path, mode, policy)?;
        let meta = file.metadata()?;
        let shared = Arc::new(SharedFile {
            path: path.to_path_buf(),
            mode,
            policy: policy.clone(),
            state: Mutex::new(State {
                file: Some(file),
                dev: meta.dev(),
                ino: meta.ino(),
            }),
        });
        reg.insert(key, Arc::downgrade(&shared));
        Ok(shared)
    }

    /// The path as configured.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes as much of `buf` as the file takes; returns the bytes written (a short count
    /// only together with an error on the next call). Retries `EINTR`.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        let mut st = lock(&self.state);
        let file = st
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other(format!("{}: not open", self.path.display())))?;
        let mut done = 0;
        while done < buf.len() {
            match file.write(&buf[done..]) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "write returned 0")),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if done > 0 => {
                    // Report progress now; the error comes back on the retry.
                    let _ = e;
                    return Ok(done);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// fsync.
    pub fn sync(&self) -> io::Result<()> {
        let st = lock(&self.state);
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
        let mut st = lock(&self.state);
        if st.file.is_some() {
            if let Ok(m) = std::fs::symlink_metadata(&self.path) {
                if m.dev() == st.dev && m.ino() == st.ino {
                    return Ok(false);
                }
            }
        }
        let file = open_file(&self.path, self.mode, &self.policy)?;
        let meta = file.metadata()?;
        st.dev = meta.dev();
        st.ino = meta.ino();
        let old = st.file.replace(file);
        drop(old);
        Ok(true)
    }

    /// Does the path still name the open file? (`reopen_on_rename` checks this.)
    pub fn path_moved(&self) -> bool {
        let st = lock(&self.state);
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) => m.dev() != st.dev || m.ino() != st.ino,
            Err(_) => true,
        }
    }

    /// Size of the open file.
    pub fn len(&self) -> io::Result<u64> {
        let st = lock(&self.state);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

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
        let b =
            SharedFile::open(&d.join(".").join("a.log"), 0o600, &OpenPolicy::default()).unwrap();
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

    #[test]
    fn symlinks_are_refused_unless_allowed() {
        let d = dir("link");
        let target = d.join("target");
        std::fs::write(&target, b"").unwrap();
        let link = d.join("log");
        symlink(&target, &link).unwrap();
        let e = SharedFile::open(&link, 0o644, &OpenPolicy::default()).unwrap_err();
        assert_eq!(errno_of(&e), libc::ELOOP);
        let policy = OpenPolicy {
            follow_symlinks: true,
            ..OpenPolicy::default()
        };
        let f = SharedFile::open(&link, 0o644, &policy).unwrap();
        f.write(b"z\n").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"z\n");
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
}
