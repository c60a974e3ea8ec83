//! Opening a log file: the path's registry key, the flags, the exact mode and owner.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
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

pub(crate) fn open_file(path: &Path, mode: u32, policy: &OpenPolicy) -> io::Result<File> {
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
            errno_error(code, msg)
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
