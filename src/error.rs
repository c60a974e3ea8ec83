//! [`Error`](crate::error::Error), the error of the core API, and the one place that maps results to the
//! negative errno codes of the C API ([`Error::errno`](crate::error::Error::errno), [`errno_of`](crate::error::errno_of)).

use std::fmt;
use std::io;

use crate::config::ConfigError;

/// Errors of the core API; `ffi` returns them as negative errno codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Bad configuration (`-EINVAL`).
    Config(ConfigError),
    /// An operating-system error with its errno and a message naming the file.
    Os(i32, String),
    /// `log_init` on a logger that is already running (`-EALREADY`).
    AlreadyRunning,
    /// The logger is not running: not initialised yet, or closed (`-ECANCELED`).
    NotRunning,
    /// The writer did not finish in time (`-ETIMEDOUT`).
    TimedOut(String),
    /// The operation does not apply to this logger kind (`-ENOTSUP`).
    NotSupported(String),
    /// Invalid argument (`-EINVAL`).
    Invalid(String),
    /// The writer thread failed (`-ENOTRECOVERABLE`).
    Failed(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Os(_, m) => f.write_str(m),
            Error::AlreadyRunning => f.write_str("logger is already initialised"),
            Error::NotRunning => f.write_str("logger is not running (not initialised, or closed)"),
            Error::TimedOut(m) | Error::NotSupported(m) | Error::Invalid(m) | Error::Failed(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Os(errno_of(&e), e.to_string())
    }
}

impl Error {
    /// The positive errno value this error stands for.
    pub fn errno(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Invalid(_) => libc::EINVAL,
            Error::Os(e, _) => *e,
            Error::AlreadyRunning => libc::EALREADY,
            Error::NotRunning => libc::ECANCELED,
            Error::TimedOut(_) => libc::ETIMEDOUT,
            Error::NotSupported(_) => libc::ENOTSUP,
            Error::Failed(_) => libc::ENOTRECOVERABLE,
        }
    }
}

/// An error message that keeps the errno it came from (see [`errno_of`]).
#[derive(Debug)]
struct ErrnoMessage(i32, String);

impl fmt::Display for ErrnoMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for ErrnoMessage {}

/// An I/O error with `msg` as its text that [`errno_of`] maps back to `code`.
pub(crate) fn errno_error(code: i32, msg: String) -> io::Error {
    io::Error::new(
        io::Error::from_raw_os_error(code).kind(),
        ErrnoMessage(code, msg),
    )
}

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
