//! The [`Logger`](crate::logger::Logger): one configured logger instance, the safe Rust API that the C ABI in
//! `ffi` wraps.
//!
//! - `build`: `log_init`: options, files, the writer thread.
//! - `produce`: the hot path of the MTA's threads: take a recycled event
//!   box, fill it, queue it. No formatting, I/O, locks or (in the steady state) allocation.
//! - `ops`: reopen, flush, close, stats, the console.
//! - `child`: the rebuild in a forked child.

mod build;
mod child;
mod ops;
mod produce;

use std::ffi::CString;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::thread::JoinHandle;

pub use crate::error::Error;
use crate::event::{KIND_COUNT, Kind};
use crate::format::LoggerKind;
use crate::pipeline::Port;
use crate::pipeline::pool::Pool;
use crate::pipeline::settings::Settings;
use crate::pipeline::stats::Shared;
use crate::sync::{ForkGuard, ForkMutex};
use crate::sys::SwapCell;
pub use build::option_keys;

/// One running pipeline: the channel, the event pool, the writer thread.
pub struct Pipeline {
    /// The writer's channel, thread and shared state.
    port: Port,
    /// The event boxes (shared with the writer).
    pool: Arc<Pool>,
    join: ForkMutex<Option<JoinHandle<()>>>,
    /// The options in effect.
    pub settings: Arc<Settings>,
    /// The fields the kind's lines read, per event kind (see
    /// [`LoggerKind::fields_used`]).
    fields: [u64; KIND_COUNT],
    control: Option<crate::control::Registration>,
}

const NEW: u8 = 0;
const RUNNING: u8 = 1;
const CLOSED: u8 = 2;
/// Running in a forked child whose pipeline is prepared but not started: its queue and
/// writer thread start at the first call that needs them (see `child`), so a child that
/// only execs or exits starts no thread and allocates no queue.
const FORKED: u8 = 3;

/// A logger instance. Its state lives in a shared [`Core`] so that the `fork()` handler
/// (`atfork`) can reach every logger and give a child process its own writer.
pub struct Logger {
    core: Arc<Core>,
}

/// The state of a logger (reached through [`Logger`]'s `Deref`).
pub struct Core {
    kind: LoggerKind,
    name: String,
    state: AtomicU8,
    /// The running pipeline; a forked child sets a new one (the parent's is put away,
    /// never touched again).
    pipe: SwapCell<Pipeline>,
    shared: Arc<Shared>,
    /// Serialises `log_init` and the start of `log_close` (held only while the state
    /// changes, never while waiting for the writer).
    ctl: ForkMutex<()>,
    last_error: ForkMutex<CString>,
    /// The configuration, kept for a forked child to rebuild its pipeline from.
    entries: std::sync::OnceLock<Vec<crate::config::Entry>>,
    /// A forked child's pipeline, prepared inside `fork()` and started at its first use
    /// (see `child`).
    parts: ForkMutex<Option<build::Parts>>,
    /// This process is a forked child whose logger could not restart (`mtalog_last_error`
    /// keeps why; see `child`).
    closed_at_fork: std::sync::atomic::AtomicBool,
}

impl std::ops::Deref for Logger {
    type Target = Core;
    #[inline]
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .finish()
    }
}

impl Logger {
    /// A logger of `kind` named `name`, not yet initialised. `None` for an unknown kind.
    pub fn new(kind: &str, name: &str) -> Option<Logger> {
        let kind = LoggerKind::from_name(kind)?;
        let core = Arc::new(Core {
            kind,
            name: name.to_owned(),
            state: AtomicU8::new(NEW),
            pipe: SwapCell::empty(),
            shared: Arc::new(Shared::default()),
            ctl: ForkMutex::new(()),
            last_error: ForkMutex::new(CString::default()),
            entries: std::sync::OnceLock::new(),
            parts: ForkMutex::new(None),
            closed_at_fork: std::sync::atomic::AtomicBool::new(false),
        });
        // Known to the fork handlers from the start: a fork while another thread is inside
        // `log_init` still gives the child a consistent logger.
        let weak: std::sync::Weak<dyn crate::atfork::AfterFork> = Arc::downgrade(&core) as _;
        crate::atfork::register(weak);
        Some(Logger { core })
    }

    /// Creates and initialises a logger in one step (the Rust API).
    pub fn open(kind: &str, name: &str, config: &str) -> Result<Logger, Error> {
        let l = Logger::new(kind, name)
            .ok_or_else(|| Error::Invalid(format!("unknown logger kind '{kind}'")))?;
        l.init(config)?;
        Ok(l)
    }
}

impl Core {
    /// The kind (`ec_logger`, ...), a static string.
    pub fn kind(&self) -> &'static str {
        self.kind.name()
    }

    /// The kind.
    pub fn logger_kind(&self) -> LoggerKind {
        self.kind
    }

    /// The kind's one-line description, a static string.
    pub fn description(&self) -> &'static str {
        self.kind.description()
    }

    /// The instance name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shared counters.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Is the logger running (initialised and not closed)?
    pub fn is_running(&self) -> bool {
        matches!(self.state.load(Ordering::Acquire), RUNNING | FORKED)
    }

    /// The settings in effect (after init).
    pub fn settings(&self) -> Option<&Settings> {
        if self.state.load(Ordering::Acquire) == FORKED {
            let _ = self.resume();
        }
        self.pipe.get().map(|p| &*p.settings)
    }

    /// The pipeline, while the logger runs (built first in a forked child).
    fn running(&self) -> Result<&Pipeline, Error> {
        match self.state.load(Ordering::Acquire) {
            RUNNING => self.pipe.get().ok_or(Error::NotRunning),
            FORKED => self
                .resume()
                .and_then(|()| self.pipe.get().ok_or(Error::NotRunning)),
            _ => Err(Error::NotRunning),
        }
    }

    /// The control lock, unless this process is a child forked while a lock was held
    /// (then no lock is taken again: see `crate::sync`).
    fn ctl(&self) -> Result<ForkGuard<'_, ()>, Error> {
        if crate::sync::unclean() {
            return Err(self.unclean_error());
        }
        Ok(self.ctl.lock())
    }

    fn unclean_error(&self) -> Error {
        Error::Os(
            libc::ECANCELED,
            format!(
                "{} '{}': no logger runs in this process: it was forked while a file \
                 operation (a write, an open) of its parent had not finished {:?} after the \
                 fork was asked for",
                self.kind,
                self.name,
                crate::sync::PREPARE_WAIT
            ),
        )
    }

    /// Records the text of a failed control call for `mtalog_last_error`.
    pub fn set_last_error(&self, msg: &str) {
        if crate::sync::unclean() {
            return;
        }
        let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
        *self.shared.writer_error.lock() = None;
        *self.last_error.lock() = c;
    }

    /// Clears the text of an earlier failed call (a `log_init` that succeeded after one
    /// that failed). A problem the new writer met meanwhile is newer, and stays.
    fn clear_last_error(&self) {
        *self.last_error.lock() = CString::default();
    }

    /// Runs `f` with the last error text (a newer problem of the writer's own comes first).
    pub fn with_last_error<R>(&self, f: impl FnOnce(&CString) -> R) -> R {
        if crate::sync::unclean() {
            let text = CString::new(self.unclean_error().to_string()).unwrap_or_default();
            return f(&text);
        }
        let pending = self.shared.writer_error.lock().take();
        if let Some(m) = pending {
            self.set_last_error(&format!("{} '{}': {m}", self.kind, self.name));
        }
        f(&self.last_error.lock())
    }

    /// Keeps the text of a failed call for `mtalog_last_error`.
    /// (A call refused because a forked child's logger could not restart leaves the
    /// reason it gave.)
    fn record<T>(&self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &r {
            let closed_at_fork = self.closed_at_fork.load(Ordering::Relaxed);
            if !(closed_at_fork && matches!(e, Error::NotRunning)) {
                self.set_last_error(&format!("{} '{}': {e}", self.kind, self.name));
            }
        }
        r
    }

    /// The fields the kind's lines read for events of `kind` (all, before `log_init`).
    #[inline]
    pub fn fields_used(&self, kind: Kind) -> u64 {
        self.pipe.get().map_or(u64::MAX, |p| p.fields[kind.index()])
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.close();
        }
    }
}

#[cfg(test)]
mod tests;
