//! The core logger: configuration, the producer side of the pipeline, control operations
//! and statistics. Safe Rust; the C ABI in `ffi` is a thin layer over this.
//!
//! Producer side (the MTA's threads): take a recycled [`Event`](crate::event::Event) box from the pool, fill it,
//! push it onto a bounded crossbeam channel. No formatting, I/O, locks or (in the steady
//! state) allocation. The writer thread (`worker`) does everything else.

use std::ffi::CString;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_channel::{SendTimeoutError, Sender, TrySendError, bounded};

use crate::config::{self, ConfigError, Entry, Fsync, Options, Overflow};
use crate::event::{Event, Kind};
use crate::format::{self, FormatContext, Level, Target};
use crate::pool::{self, Pool};
use crate::sink::{OpenPolicy, SharedFile, errno_of};
use crate::sys::SwapCell;
use crate::worker::{self, Control, Msg};

/// Errors of the core API; `ffi` maps them to negative errno codes.
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

    fn io(e: std::io::Error) -> Error {
        Error::Os(errno_of(&e), e.to_string())
    }
}

/// Options every logger kind has (beyond its own paths and format options).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Channel capacity in events (`queue_size`, default 65536).
    pub queue_size: usize,
    /// What a full queue does (`overflow`, default `block`).
    pub overflow: Overflow,
    /// Longest wait of a hook in block mode (`block_timeout`, default 0 = no bound).
    pub block_timeout: Option<Duration>,
    /// Bound of `log_close` (`close_timeout`, default 30 s).
    pub close_timeout: Duration,
    /// Longest time a line stays in the writer's buffer (`flush_interval`, default 1 s).
    pub flush_interval: Duration,
    /// fsync policy (`fsync`, default `close`).
    pub fsync: Fsync,
    /// Longest field or note in bytes (`max_field`, default 4096).
    pub max_field: usize,
    /// Level of unmarked `log_error` texts (`error_default_level`, default `error`).
    pub error_default_level: Level,
    /// Which event kinds are logged (the `log_*` filters), indexed by `Kind::index`.
    pub filters: [bool; 9],
    /// How files are opened.
    pub policy: OpenPolicy,
    /// Heartbeat interval of the kind, if any.
    pub heartbeat: Option<Duration>,
    /// Whether acctlog/importlog records are accepted.
    pub records: bool,
    /// Reopen a file whose path was renamed or removed (`reopen_on_rename`, default off).
    pub reopen_on_rename: bool,
    /// Which targets have a file, indexed by `Target as usize`.
    pub targets: [bool; crate::format::TARGET_COUNT],
    /// Rotation and retention of each target's file (see `rotate::parse`).
    pub rotation: [crate::rotate::Policy; crate::format::TARGET_COUNT],
    /// Unix socket accepting console commands (`control_socket`, default none).
    pub control_socket: Option<std::path::PathBuf>,
}

/// Default queue capacity.
pub const DEFAULT_QUEUE_SIZE: usize = 65536;
/// How long a producer retries on a full queue (block mode) before it parks.
const FULL_RETRY: Duration = Duration::from_millis(2);
/// Longest sleep between retries of a producer that waits longer than [`FULL_RETRY`].
const FULL_SLEEP_MAX: Duration = Duration::from_millis(1);
/// Smallest `close_timeout`: 0 would make every close and reopen time out at once.
const MIN_CLOSE_TIMEOUT: Duration = Duration::from_millis(1);
/// Default `max_field`.
pub const DEFAULT_MAX_FIELD: usize = 4096;

fn parse_id(
    o: &mut Options<'_>,
    key: &str,
    by_name: fn(&str) -> Option<u32>,
) -> Result<Option<u32>, ConfigError> {
    match o.entry(&[key]) {
        None => Ok(None),
        Some(e) => match e.value.parse::<u32>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => by_name(&e.value)
                .map(Some)
                .ok_or_else(|| config::err(e, format!("unknown {key} '{}'", e.value))),
        },
    }
}

impl Settings {
    /// Reads the common options (and marks them used).
    pub fn parse(o: &mut Options<'_>) -> Result<Settings, ConfigError> {
        let queue_size = o.uint("queue_size", DEFAULT_QUEUE_SIZE as u64, 16, 1 << 24)? as usize;
        let overflow =
            [Overflow::Block, Overflow::Drop][o.choice("overflow", &["block", "drop"], 0)?];
        let block_timeout = o.duration(&["block_timeout"], Duration::ZERO)?;
        let close_timeout = o.duration(&["close_timeout"], Duration::from_secs(30))?;
        if close_timeout < MIN_CLOSE_TIMEOUT {
            let e = o
                .entry(&["close_timeout"])
                .expect("present when not default");
            return Err(config::err(
                e,
                "must be at least 1ms (it bounds every close and reopen)",
            ));
        }
        let flush_interval = o.duration(&["flush_interval"], Duration::from_secs(1))?;
        let fsync = [Fsync::None, Fsync::Close, Fsync::Interval]
            [o.choice("fsync", &["none", "close", "interval"], 1)?];
        let max_field = o.size(&["max_field"], DEFAULT_MAX_FIELD as u64)?;
        if !(16..=1 << 20).contains(&max_field) {
            let e = o.entry(&["max_field"]).expect("present when not default");
            return Err(config::err(e, "must be between 16 and 1048576 bytes"));
        }
        let level = match o.entry(&["error_default_level"]) {
            None => Level::Error,
            Some(e) => Level::parse(&e.value).ok_or_else(|| {
                config::err(
                    e,
                    format!(
                        "expected debug|info|notice|warning|error|critical|fatal|panic, got '{}'",
                        e.value
                    ),
                )
            })?,
        };
        let mut filters = [true; 9];
        for (kind, key, default) in [
            (Kind::Reception, "log_receptions", true),
            (Kind::Attempt, "log_attempts", false),
            (Kind::TransientFailure, "log_transient_failures", true),
            (Kind::PermanentFailure, "log_permanent_failures", true),
            (Kind::Delivery, "log_deliveries", true),
            (Kind::Rejection, "log_rejections", true),
            (Kind::Error, "log_errors", true),
        ] {
            filters[kind.index()] = o.boolean(key, default)?;
        }
        let follow_symlinks = o.boolean("follow_symlinks", false)?;
        let owner = parse_id(o, "log_owner", crate::sys::user_id)?;
        let group = parse_id(o, "log_group", crate::sys::group_id)?;
        let reopen_on_rename = o.boolean("reopen_on_rename", false)?;
        let control_socket = o.path("control_socket")?;
        Ok(Settings {
            queue_size,
            overflow,
            block_timeout: (!block_timeout.is_zero()).then_some(block_timeout),
            close_timeout,
            flush_interval: flush_interval.max(Duration::from_millis(1)),
            fsync,
            max_field: max_field as usize,
            error_default_level: level,
            filters,
            policy: OpenPolicy {
                follow_symlinks,
                owner,
                group,
            },
            heartbeat: None,
            records: false,
            reopen_on_rename,
            targets: [false; crate::format::TARGET_COUNT],
            rotation: Default::default(),
            control_socket,
        })
    }
}

/// Counters, updated with relaxed atomics. Producers touch only the drop and input-error
/// counters (rare paths); the hot path updates nothing shared but the channel.
#[derive(Debug, Default)]
pub struct Stats {
    /// Events taken off the queue by the writer, counted after their boxes went back to
    /// the pool (producers waiting for a box poll it).
    pub dequeued: AtomicU64,
    /// Events and requests taken off the queue, counted as they are taken.
    pub taken: TakenSeq,
    /// Requests (reopen, flush, close) put on the queue.
    pub requests_sent: AtomicU64,
    /// Events whose lines are in their files.
    pub written: AtomicU64,
    /// Events dropped, per kind.
    pub dropped: [AtomicU64; 9],
    /// Bytes written to files.
    pub bytes_written: AtomicU64,
    /// Write faults (a fault that persists over retries counts once).
    pub write_errors: AtomicU64,
    /// Reopens done.
    pub reopens: AtomicU64,
    /// Bad calls from the host (NULL arguments, bad lengths, calls in the wrong state).
    pub input_errors: AtomicU64,
    /// Events not logged because their `log_*` filter is off.
    pub filtered: AtomicU64,
    /// Values cut at `max_field` (or texts at the 64 KiB bound).
    pub truncated: AtomicU64,
    /// Rotations done.
    pub rotations: AtomicU64,
    /// Panics caught.
    pub panics: AtomicU64,
}

impl Stats {
    /// Sets every counter to zero (a forked child counts its own events).
    pub(crate) fn reset(&self) {
        let Stats {
            dequeued,
            taken,
            requests_sent,
            written,
            dropped,
            bytes_written,
            write_errors,
            reopens,
            input_errors,
            filtered,
            truncated,
            rotations,
            panics,
        } = self;
        for c in dropped.iter().chain([
            dequeued,
            requests_sent,
            written,
            bytes_written,
            write_errors,
            reopens,
            input_errors,
            filtered,
            truncated,
            rotations,
            panics,
        ]) {
            c.store(0, Ordering::Relaxed);
        }
        for c in [&taken.seq, &taken.events, &taken.requests] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Queues a request for the writer with `send`, counting it once it is on the queue.
    pub(crate) fn send_request<E>(&self, send: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        send()?;
        self.requests_sent.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// The events accepted so far and the events queued now, from the queue's length
    /// (`len`) read at a moment between two of the writer's receives, less the requests
    /// that wait there. Exact when no producer is inside a hook and no request is being
    /// queued: a message moving from the queue to the writer is never counted twice or
    /// missed.
    pub fn accepted(&self, len: impl Fn() -> u64) -> (u64, u64) {
        let t = &self.taken;
        let mut spins = 0u32;
        loop {
            let before = t.seq.load(Ordering::Acquire);
            if before & 1 == 0 {
                let events = t.events.load(Ordering::Relaxed);
                let taken = t.requests.load(Ordering::Relaxed);
                let queued = len();
                let requests = self
                    .requests_sent
                    .load(Ordering::SeqCst)
                    .saturating_sub(taken)
                    .min(queued);
                fence(Ordering::Acquire);
                if t.seq.load(Ordering::Relaxed) == before {
                    let depth = queued - requests;
                    return (events + depth, depth);
                }
            }
            spins += 1;
            if spins % 64 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

/// What the writer has taken off the queue, read with the queue's length to count the
/// events accepted and queued ([`Stats::accepted`]). Kept on a cache line of its own,
/// away from the counters that waiting producers poll.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct TakenSeq {
    /// Odd while the writer is taking a message off the queue; a new even value after
    /// each try. Plain stores, like the two counts: the writer is their only writer.
    pub(crate) seq: AtomicU64,
    /// Events taken, stored while `seq` is odd.
    pub(crate) events: AtomicU64,
    /// Requests (reopen, flush, close) taken, stored while `seq` is odd.
    pub(crate) requests: AtomicU64,
}

/// A consistent copy of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Events accepted onto the queue (written, queued, or lost at close).
    pub accepted: u64,
    /// Events whose lines are in their files.
    pub written: u64,
    /// Events dropped, in total.
    pub dropped: u64,
    /// Events dropped, per kind (indexed by `Kind::index`).
    pub dropped_by_kind: [u64; 9],
    /// Bytes written.
    pub bytes_written: u64,
    /// Write faults.
    pub write_errors: u64,
    /// Events on the queue now.
    pub queue_depth: u64,
    /// Reopens done.
    pub reopens: u64,
    /// Bad calls from the host.
    pub input_errors: u64,
    /// Events filtered out by `log_*` options.
    pub filtered: u64,
    /// Values truncated.
    pub truncated: u64,
    /// Rotations done.
    pub rotations: u64,
    /// Panics caught.
    pub panics: u64,
}

/// State shared by the producers, the control side and the writer.
#[derive(Debug, Default)]
pub struct Shared {
    /// Counters.
    pub stats: Stats,
    /// The writer is asleep and wants an unpark for new work.
    pub parked: AtomicBool,
    /// Control side gave up waiting: the writer stops retrying and exits.
    pub abort: AtomicBool,
    /// A reopen was asked for (`log_reopen`, the console): a writer retrying a failed write
    /// reopens at once, without waiting for the request's turn in the queue, which the
    /// fault holds up (the old file may be what fails).
    pub reopen_asked: AtomicBool,
    /// The writer thread failed (panicked).
    pub failed: AtomicBool,
    /// A problem the writer met on its own (a rotation that failed), for `last_error`.
    pub writer_error: Mutex<Option<String>>,
}

/// One running pipeline: the channel, the event pool, the writer thread.
pub struct Pipeline {
    pub(crate) tx: Sender<Msg>,
    /// The event boxes (shared with the writer).
    pool: Arc<Pool>,
    thread: Thread,
    join: Mutex<Option<JoinHandle<()>>>,
    /// The options in effect.
    pub settings: Arc<Settings>,
    control: Option<crate::control::Registration>,
}

const NEW: u8 = 0;
const RUNNING: u8 = 1;
const CLOSED: u8 = 2;

/// A logger instance. Its state lives in a shared [`Core`] so that the `fork()` handler
/// (`fork.rs`) can reach every running logger and give a child process its own
/// writer.
pub struct Logger {
    core: Arc<Core>,
}

/// The state of a logger (reached through [`Logger`]'s `Deref`).
pub struct Core {
    kind: &'static str,
    description: &'static str,
    name: String,
    state: AtomicU8,
    pipe: SwapCell<Pipeline>,
    shared: Arc<Shared>,
    /// Serialises control calls. In a cell because a forked child replaces it: a thread of
    /// the parent may have held it at the fork, and that thread does not exist in the child.
    ctl: SwapCell<Mutex<()>>,
    /// As `ctl`, replaced in a forked child.
    last_error: SwapCell<Mutex<CString>>,
    /// The configuration, kept for a forked child to rebuild its pipeline from.
    entries: std::sync::OnceLock<Vec<Entry>>,
}

impl std::ops::Deref for Logger {
    type Target = Core;
    #[inline]
    fn deref(&self) -> &Core {
        &self.core
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Core {
    fn ctl(&self) -> MutexGuard<'_, ()> {
        lock(self.ctl.get().expect("set at creation"))
    }

    fn last_error(&self) -> MutexGuard<'_, CString> {
        lock(self.last_error.get().expect("set at creation"))
    }

    /// In a child process right after `fork()`: the parent's writer thread does not exist
    /// here. Replaces the locks a vanished thread may hold and, when running, starts a
    /// pipeline of the child's own (the parent's queued events stay the parent's: the old
    /// pipeline is never touched again, and never dropped, since its locks may be held).
    pub(crate) fn after_fork_in_child(&self, clean: bool) {
        self.ctl.set(Mutex::new(()));
        let text = self
            .last_error
            .get()
            .and_then(|m| m.try_lock().ok().map(|c| c.clone()));
        self.last_error.set(Mutex::new(text.unwrap_or_default()));
        self.shared.stats.reset();
        self.shared.parked.store(false, Ordering::Relaxed);
        let state = self.state.load(Ordering::Acquire);
        if state == CLOSED {
            return;
        }
        if !clean {
            // A file lock that a stuck file operation held at the fork stays locked here:
            // no new pipeline (and none later: `log_init` would wait for that lock), and
            // the old one is put away untouched.
            self.state.store(CLOSED, Ordering::Release);
            self.pipe.retire();
            *self.last_error() = CString::new(format!(
                "{} '{}': closed in this child process: a file operation (a write, an open) \
                 had not finished {:?} after the process asked to fork, and forked anyway",
                self.kind,
                self.name,
                crate::fork::PREPARE_WAIT
            ))
            .unwrap_or_default();
            return;
        }
        if state != RUNNING {
            return;
        }
        let built = match self.entries.get() {
            Some(entries) => self.build(entries),
            None => Err(Error::NotRunning),
        };
        match built {
            Ok(p) => self.pipe.set(p),
            Err(e) => {
                // Hooks of the child are refused (counted) rather than queued to nobody.
                self.state.store(CLOSED, Ordering::Release);
                *self.last_error() = CString::new(format!(
                    "{} '{}': cannot restart after fork: {e}",
                    self.kind, self.name
                ))
                .unwrap_or_default();
            }
        }
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
        let k = format::kind(kind)?;
        let core = Core {
            kind: k.0,
            description: k.1,
            name: name.to_owned(),
            state: AtomicU8::new(NEW),
            pipe: SwapCell::empty(),
            shared: Arc::new(Shared::default()),
            ctl: SwapCell::empty(),
            last_error: SwapCell::empty(),
            entries: std::sync::OnceLock::new(),
        };
        core.ctl.set(Mutex::new(()));
        core.last_error.set(Mutex::new(CString::default()));
        let core = Arc::new(core);
        // Known to the fork handlers from the start: a fork while another thread is inside
        // `log_init` (holding `ctl`) still gives the child fresh locks.
        crate::fork::register(&core);
        Some(Logger { core })
    }

    /// Creates and initialises a logger in one step (the Rust API).
    pub fn open(kind: &str, name: &str, config: &str) -> Result<Logger, Error> {
        let l = Logger::new(kind, name)
            .ok_or_else(|| Error::Invalid(format!("unknown logger kind '{kind}'")))?;
        l.init(config)?;
        Ok(l)
    }

    /// The kind (`ec_logger`, ...), a static string.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The kind's one-line description, a static string.
    pub fn description(&self) -> &'static str {
        self.description
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
        self.state.load(Ordering::Acquire) == RUNNING
    }

    /// Records the text of a failed control call for `mtalog_last_error`.
    pub fn set_last_error(&self, msg: &str) {
        let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
        *crate::sink::lock(&self.shared.writer_error) = None;
        *self.last_error() = c;
    }

    /// Runs `f` with the last error text (a newer problem of the writer's own comes first).
    pub fn with_last_error<R>(&self, f: impl FnOnce(&CString) -> R) -> R {
        let pending = crate::sink::lock(&self.shared.writer_error).take();
        if let Some(m) = pending {
            self.set_last_error(&format!("{} '{}': {m}", self.kind, self.name));
        }
        f(&self.last_error())
    }

    /// A panic caught at the C boundary: counted, kept for `mtalog_last_error`, and written
    /// to the paniclog as a `critical:` line while the logger runs.
    pub fn internal_error(&self, msg: &str) {
        self.shared.stats.panics.fetch_add(1, Ordering::Relaxed);
        self.set_last_error(msg);
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if !self.is_running() {
                return;
            }
            let Some(p) = self.pipe.get() else { return };
            let mut ev = p.pool.take_now();
            ev.reset(Kind::Error);
            ev.thread = crate::event::thread_token();
            ev.time = crate::event::Timestamp::now();
            let text = format!("critical: mtalog: {msg}");
            ev.push(crate::event::Field::Note, text.as_bytes(), usize::MAX);
            self.submit(ev);
        }));
    }

    /// Counts a bad call from the host.
    pub fn input_error(&self) {
        self.shared
            .stats
            .input_errors
            .fetch_add(1, Ordering::Relaxed);
    }

    fn record<T>(&self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &r {
            self.set_last_error(&format!("{} '{}': {e}", self.kind, self.name));
        }
        r
    }

    /// `log_init`: parses `config` (one stanza or its body), opens the files and starts the
    /// writer.
    pub fn init(&self, config: &str) -> Result<(), Error> {
        let _g = self.ctl();
        let r = self.init_locked(config);
        self.record(r)
    }

    /// `log_init` with entries already parsed (`mtalog_load`).
    pub fn init_entries(&self, entries: Vec<Entry>) -> Result<(), Error> {
        let _g = self.ctl();
        let r = self.start(entries);
        self.record(r)
    }

    fn init_locked(&self, config: &str) -> Result<(), Error> {
        let entries = config::parse_init(config, self.kind, &self.name)?;
        self.start(entries)
    }

    fn start(&self, entries: Vec<Entry>) -> Result<(), Error> {
        match self.state.load(Ordering::Acquire) {
            NEW => {}
            RUNNING => return Err(Error::AlreadyRunning),
            _ => return Err(Error::NotRunning),
        }
        if crate::fork::unclean() {
            return Err(Error::Os(
                libc::ECANCELED,
                format!(
                    "{} '{}': no logger starts in this process: it was forked while a file \
                     operation (a write, an open) of its parent was stuck",
                    self.kind, self.name
                ),
            ));
        }
        let pipe = self.build(&entries)?;
        let _ = self.entries.set(entries);
        self.pipe.set(pipe);
        self.state.store(RUNNING, Ordering::Release);
        Ok(())
    }
}

impl Core {
    fn build(&self, entries: &[Entry]) -> Result<Pipeline, Error> {
        let mut o = Options::new(entries);
        let mut settings = Settings::parse(&mut o)?;
        let setup_fn = format::kind(self.kind).expect("kind checked at new").2;
        let ctx = FormatContext::current(settings.error_default_level);
        let setup = setup_fn(&mut o, &ctx)?;
        settings.rotation = crate::rotate::parse(&mut o, self.kind)?;
        o.finish()?;
        settings.heartbeat = setup.heartbeat;
        settings.records = setup.records;
        for f in &setup.files {
            settings.targets[f.target as usize] = true;
        }
        let mut files: Vec<(Target, Arc<SharedFile>)> = Vec::new();
        for spec in &setup.files {
            let rot = &settings.rotation[spec.target as usize];
            let f = SharedFile::open_rotating(&spec.path, spec.mode, &settings.policy, rot)
                .map_err(Error::io)?;
            files.push((spec.target, f));
        }
        self.shared.abort.store(false, Ordering::Relaxed);
        self.shared.failed.store(false, Ordering::Relaxed);
        let settings = Arc::new(settings);
        let control_key = match &settings.control_socket {
            Some(path) => crate::control::prepare(path).map_err(Error::io)?,
            None => None,
        };
        let (tx, rx) = bounded::<Msg>(settings.queue_size);
        // The event boxes: a working set in circulation, and (block mode) a reserve for the
        // backlog of a stalled writer; see `pool`.
        let pool = Arc::new(Pool::new(
            settings.queue_size,
            settings.overflow == Overflow::Block,
            settings.block_timeout,
        ));
        let w = worker::Writer::new(
            rx,
            Arc::clone(&pool),
            Arc::clone(&self.shared),
            Arc::clone(&settings),
            setup.formatter,
            files,
        );
        let handle = std::thread::Builder::new()
            .name("mtalog-writer".into())
            .spawn(move || w.run())
            .map_err(|e| {
                if let Some(k) = &control_key {
                    crate::control::release(k);
                }
                Error::Os(
                    e.raw_os_error().unwrap_or(libc::EAGAIN),
                    format!("cannot start the writer thread: {e}"),
                )
            })?;
        let control = control_key.map(|k| {
            let h = crate::control::Handle {
                kind: self.kind,
                name: self.name.clone(),
                tx: tx.clone(),
                thread: handle.thread().clone(),
                shared: Arc::clone(&self.shared),
                timeout: settings.close_timeout,
            };
            crate::control::attach(&k, h)
        });
        Ok(Pipeline {
            tx,
            pool,
            thread: handle.thread().clone(),
            join: Mutex::new(Some(handle)),
            settings,
            control,
        })
    }
}

impl Logger {
    /// The settings in effect (after init).
    pub fn settings(&self) -> Option<&Settings> {
        self.pipe.get().map(|p| &*p.settings)
    }

    // ------------------------------------------------------------------ producer side

    /// Starts an event of `kind`: `None` when the logger is not running (counted as an
    /// input error) or the kind is filtered out. The box comes from the pool; in block
    /// mode an empty pool is waited on while the writer moves (see [`Pool::take`]).
    #[inline]
    pub fn begin(&self, kind: Kind) -> Option<Box<Event>> {
        if self.state.load(Ordering::Acquire) != RUNNING {
            self.input_error();
            return None;
        }
        let p = self.pipe.get()?;
        if !p.settings.filters[kind.index()] {
            self.shared.stats.filtered.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let (mut ev, waited_us) = p
            .pool
            .take(&self.shared.stats.dequeued, || self.wake(p, true));
        ev.prefetch_for_write();
        ev.reset(kind);
        ev.waited_us = waited_us;
        ev.thread = crate::event::thread_token();
        Some(ev)
    }

    /// The bound for fields of events (`max_field`).
    #[inline]
    pub fn max_field(&self) -> usize {
        self.pipe
            .get()
            .map_or(DEFAULT_MAX_FIELD, |p| p.settings.max_field)
    }

    /// Queues a filled event. Follows the overflow policy; never formats or does I/O.
    /// Returns whether the event was queued (a drop is counted).
    #[inline]
    pub fn submit(&self, ev: Box<Event>) -> bool {
        let Some(p) = self.pipe.get() else {
            self.input_error();
            return false;
        };
        let kind = ev.kind;
        let waited = Duration::from_micros(ev.waited_us.into());
        let r = match p.tx.try_send(Msg::Event(ev)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(m)) if p.settings.overflow == Overflow::Block => {
                self.wake(p, true);
                Self::send_full(p, m, waited)
            }
            Err(TrySendError::Full(m) | TrySendError::Disconnected(m)) => Err(m),
        };
        self.wake(p, false);
        match r {
            Ok(()) => true,
            Err(m) => {
                // The box goes back to the pool, which counts the boxes in circulation.
                if let Msg::Event(ev) = m {
                    p.pool.put_back(ev);
                }
                self.shared.stats.dropped[kind.index()].fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Block mode, queue full: retries with a growing spin, then yielding, for up to
    /// [`FULL_RETRY`]; the writer frees a slot every few hundred nanoseconds under load, so
    /// the wait is short and even, and the writer never has to wake anyone. A longer stall
    /// (a write fault) sleeps between retries, from 50 µs up to [`FULL_SLEEP_MAX`], bounded
    /// by `block_timeout`. (Not the channel's blocking send: its first wait on a thread
    /// allocates, and nothing on the producer side allocates in the steady state.)
    #[cold]
    fn send_full(p: &Pipeline, mut m: Msg, waited: Duration) -> Result<(), Msg> {
        let start = Instant::now();
        // What is left of `block_timeout` after the wait for the event's box.
        let timeout = p.settings.block_timeout.map(|t| t.saturating_sub(waited));
        let mut step = 0u32;
        loop {
            pool::pause(step);
            step += 1;
            match p.tx.try_send(m) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(back)) => m = back,
                Err(TrySendError::Disconnected(back)) => return Err(back),
            }
            let retry = timeout.map_or(FULL_RETRY, |t| t.min(FULL_RETRY));
            if step % 16 == 0 && start.elapsed() >= retry {
                break;
            }
        }
        let mut nap = Duration::from_micros(50);
        loop {
            let waited = start.elapsed();
            let nap_now = match timeout {
                Some(t) if waited >= t => return Err(m),
                Some(t) => nap.min(t - waited),
                None => nap,
            };
            std::thread::sleep(nap_now);
            nap = (nap * 2).min(FULL_SLEEP_MAX);
            match p.tx.try_send(m) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(back)) => m = back,
                Err(TrySendError::Disconnected(back)) => return Err(back),
            }
        }
    }

    /// Unparks the writer if it sleeps (or always, when `force`).
    #[inline]
    fn wake(&self, p: &Pipeline, force: bool) {
        fence(Ordering::SeqCst);
        if force || self.shared.parked.load(Ordering::Relaxed) {
            self.shared.parked.store(false, Ordering::Relaxed);
            p.thread.unpark();
        }
    }

    // ------------------------------------------------------------------ control side

    fn control<T>(
        &self,
        make: impl FnOnce(Sender<T>) -> Control,
        timeout: Duration,
    ) -> Result<T, Error> {
        let p = self.pipe.get().ok_or(Error::NotRunning)?;
        let (ack_tx, ack_rx) = bounded(1);
        let deadline = Instant::now() + timeout;
        self.shared
            .stats
            .send_request(|| p.tx.send_timeout(Msg::Control(make(ack_tx)), timeout))
            .map_err(|e| match e {
                SendTimeoutError::Timeout(_) => {
                    Error::TimedOut(format!("the queue stayed full for {timeout:?}"))
                }
                SendTimeoutError::Disconnected(_) => {
                    Error::Failed("the writer thread is gone".into())
                }
            })?;
        self.wake(p, true);
        ack_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .map_err(|_| Error::TimedOut(format!("the writer did not answer within {timeout:?}")))
    }

    /// `log_reopen` / `reopen logs`: ordered with the events queued before it; reopens every
    /// file by name.
    pub fn reopen(&self) -> Result<(), Error> {
        let _g = self.ctl();
        let r = if self.state.load(Ordering::Acquire) != RUNNING {
            Err(Error::NotRunning)
        } else {
            let t = self
                .pipe
                .get()
                .map_or(Duration::from_secs(30), |p| p.settings.close_timeout);
            self.shared.reopen_asked.store(true, Ordering::Relaxed);
            if let Some(p) = self.pipe.get() {
                self.wake(p, true);
            }
            self.control(Control::Reopen, t).and_then(|r| r)
        };
        self.record(r)
    }

    /// Writes out everything queued before this call (lines reach the files).
    pub fn flush(&self) -> Result<(), Error> {
        let _g = self.ctl();
        if self.state.load(Ordering::Acquire) != RUNNING {
            return self.record(Err(Error::NotRunning));
        }
        let t = self
            .pipe
            .get()
            .map_or(Duration::from_secs(30), |p| p.settings.close_timeout);
        let r = self.control(Control::Flush, t).and_then(|r| r);
        self.record(r)
    }

    /// `log_close`: drains the queue, flushes, fsyncs (unless `fsync = none`), joins the
    /// writer. Bounded by `close_timeout`; on timeout the writer is told to give up, what
    /// was not written is counted as dropped and reported, and `TimedOut` is returned.
    pub fn close(&self) -> Result<(), Error> {
        let _g = self.ctl();
        let r = self.close_locked();
        self.record(r)
    }

    fn close_locked(&self) -> Result<(), Error> {
        if self.state.load(Ordering::Acquire) != RUNNING {
            self.input_error();
            return Err(Error::NotRunning);
        }
        self.state.store(CLOSED, Ordering::Release);
        let p = self.pipe.get().ok_or(Error::NotRunning)?;
        if let Some(c) = &p.control {
            c.detach();
        }
        let timeout = p.settings.close_timeout;
        let start = Instant::now();
        let r = self.control(Control::Shutdown, timeout);
        let result = match r {
            Ok(r) => r,
            Err(e) => {
                self.shared.abort.store(true, Ordering::SeqCst);
                p.thread.unpark();
                Err(match e {
                    Error::TimedOut(_) => Error::TimedOut(format!(
                        "close did not finish within {:?}; unwritten events were counted as dropped",
                        timeout
                    )),
                    other => other,
                })
            }
        };
        let handle = lock(&p.join).take();
        if let Some(h) = handle {
            // After Shutdown, or once told to give up (abort), the writer exits promptly,
            // unless it is stuck inside write(2) (a hung filesystem, an unread FIFO). The
            // close stays bounded: a writer still stuck after a short grace is left to
            // exit by itself when its write returns (it owns everything it uses).
            let grace = Duration::from_millis(200);
            let bounded = result.is_err();
            while bounded && !h.is_finished() && start.elapsed() < timeout + grace {
                std::thread::sleep(Duration::from_millis(5));
            }
            if (!bounded || h.is_finished()) && h.join().is_err() {
                self.shared.stats.panics.fetch_add(1, Ordering::Relaxed);
            }
        }
        result
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> StatsSnapshot {
        let pipe = self.pipe.get();
        crate::control::snapshot(&self.shared, || pipe.map_or(0, |p| p.tx.len() as u64))
    }

    /// The console: `help`, `reopen logs`, `stats` (also as `KIND:NAME <command>`). Returns
    /// the reply text, or an error with a reply text for unknown commands.
    pub fn console(&self, command: &str) -> Result<String, (Error, String)> {
        if !self.is_running() {
            let msg = "logger is not running (not initialised, or closed)\n".to_owned();
            self.set_last_error(msg.trim_end());
            return Err((Error::NotRunning, msg));
        }
        let mut cmd = command.trim();
        if let Some((head, rest)) = cmd.split_once(char::is_whitespace) {
            if let Some((k, n)) = head.split_once(':') {
                if k == self.kind && n == self.name {
                    cmd = rest.trim();
                }
            }
        }
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match words.as_slice() {
            ["help"] => Ok(crate::control::HELP.to_owned()),
            ["reopen", "logs"] => match self.reopen() {
                Ok(()) => Ok("Log files reopened\n".to_owned()),
                Err(e) => {
                    let msg = format!("reopen failed: {e}\n");
                    Err((e, msg))
                }
            },
            ["stats"] => Ok(crate::control::stats_text(&self.stats())),
            _ => {
                let msg = format!("unknown command '{cmd}'; try 'help'\n");
                self.set_last_error(msg.trim_end());
                Err((Error::Invalid(msg.clone()), msg))
            }
        }
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
mod tests {
    use super::*;
    use crate::event::Field;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("mtalog-logger-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn cfg(d: &std::path::Path, extra: &str) -> String {
        format!(
            "mainlog = \"{0}/mainlog.ec\"\nrejectlog = \"{0}/rejectlog.ec\"\npaniclog = \"{0}/paniclog.ec\"\nheartbeat = 0\n{extra}",
            d.display()
        )
    }

    fn delivery(l: &Logger, i: u64) {
        let mut ev = l.begin(Kind::Delivery).unwrap();
        ev.time.sec = 1_700_000_000 + i as i64;
        ev.push(Field::MsgId, format!("id{i}").as_bytes(), 100);
        ev.push(Field::DomainName, b"d.example", 100);
        assert!(l.submit(ev));
    }

    #[test]
    fn writes_lines_and_counts() {
        let d = dir("basic");
        let l = Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap();
        for i in 0..1000 {
            delivery(&l, i);
        }
        l.close().unwrap();
        let text = std::fs::read_to_string(d.join("mainlog.ec")).unwrap();
        assert_eq!(text.lines().count(), 1000);
        assert!(
            text.starts_with("1700000000@id0@id0@00/00-00000-00000000@D@d.example@0@@@0@0.00@\n")
        );
        let s = l.stats();
        assert_eq!((s.accepted, s.written, s.dropped), (1000, 1000, 0));
        assert_eq!(s.bytes_written, text.len() as u64);
        assert_eq!(l.close().unwrap_err(), Error::NotRunning);
        assert!(l.begin(Kind::Delivery).is_none());
    }

    #[test]
    fn reopen_is_ordered_with_events() {
        let d = dir("reopen");
        let l = Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap();
        for i in 0..100 {
            delivery(&l, i);
        }
        std::fs::rename(d.join("mainlog.ec"), d.join("mainlog.ec.1")).unwrap();
        l.reopen().unwrap();
        for i in 100..150 {
            delivery(&l, i);
        }
        l.close().unwrap();
        assert_eq!(
            std::fs::read_to_string(d.join("mainlog.ec.1"))
                .unwrap()
                .lines()
                .count(),
            100
        );
        assert_eq!(
            std::fs::read_to_string(d.join("mainlog.ec"))
                .unwrap()
                .lines()
                .count(),
            50
        );
    }

    #[test]
    fn accepted_counts_every_event_while_the_writer_takes_them() {
        // Each stats call races the writer taking the event just queued (and formatting
        // the ones before it); the count never misses or doubles one.
        let d = dir("accepted");
        let l = Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap();
        for i in 0..20_000u64 {
            delivery(&l, i);
            let s = l.stats();
            assert_eq!(s.accepted, i + 1, "after {} events: {s:?}", i + 1);
        }
        l.close().unwrap();
        let s = l.stats();
        assert_eq!((s.accepted, s.written, s.queue_depth), (20_000, 20_000, 0));
    }

    #[test]
    fn a_request_waiting_on_the_queue_is_not_counted_as_an_event() {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        // The mainlog is a FIFO nobody reads yet: the writer gets stuck in write(2), and a
        // reopen asked meanwhile waits on the queue behind the events.
        let d = dir("request");
        let fifo = d.join("mainlog.ec");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let l = Arc::new(Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap());
        let n = 5000u64;
        for i in 0..n {
            delivery(&l, i);
        }
        let l2 = Arc::clone(&l);
        let reopen = std::thread::spawn(move || l2.reopen());
        let start = Instant::now();
        while l.shared.stats.requests_sent.load(Ordering::SeqCst) == 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no reopen queued"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let s = l.stats();
        assert_eq!(s.accepted, n, "{s:?}");
        assert!(s.queue_depth < n && s.written < n, "{s:?}");
        // A reader comes: everything is written (through the old opening and the new
        // one), the reopen is done.
        let drain = std::thread::spawn(move || {
            let (mut lines, mut buf) = (0u64, [0u8; 65536]);
            let start = Instant::now();
            while lines < n && start.elapsed() < Duration::from_secs(30) {
                match reader.read(&mut buf) {
                    Ok(k) if k > 0 => {
                        lines += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64
                    }
                    Ok(_) => std::thread::sleep(Duration::from_millis(1)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            lines
        });
        reopen.join().unwrap().unwrap();
        assert_eq!(drain.join().unwrap(), n);
        l.close().unwrap();
        let s = l.stats();
        assert_eq!(
            (s.accepted, s.written, s.queue_depth, s.reopens),
            (n, n, 0, 1)
        );
    }

    #[test]
    fn filters_and_config_errors() {
        let d = dir("filters");
        let l = Logger::open("ec_logger", "t", &cfg(&d, "log_deliveries = false\n")).unwrap();
        assert!(l.begin(Kind::Delivery).is_none());
        assert!(l.begin(Kind::Reception).is_some());
        assert!(l.begin(Kind::Attempt).is_none());
        l.close().unwrap();
        let e = Logger::open("ec_logger", "t", &cfg(&d, "bogus = 1\n")).unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL);
        assert!(
            e.to_string()
                .contains("line 5, key 'bogus': unknown option"),
            "{e}"
        );
        for v in ["0", "0s", "0.0001"] {
            let e = Logger::open(
                "ec_logger",
                "t",
                &cfg(&d, &format!("close_timeout = {v}\n")),
            )
            .unwrap_err();
            assert_eq!(e.errno(), libc::EINVAL);
            assert!(
                e.to_string()
                    .contains("key 'close_timeout': must be at least 1ms"),
                "{e}"
            );
        }
        let l = Logger::open("ec_logger", "t", &cfg(&d, "close_timeout = 1ms\n")).unwrap();
        assert_eq!(
            l.settings().unwrap().close_timeout,
            Duration::from_millis(1)
        );
        // Accepted, and honoured: the close finishes in time or reports that it did not.
        match l.close() {
            Ok(()) | Err(Error::TimedOut(_)) => {}
            Err(e) => panic!("{e}"),
        }
        let e = Logger::open("ec_logger", "t", "mainlog = /nonexistent-dir/x\n").unwrap_err();
        assert_eq!(e.errno(), libc::ENOENT);
    }

    #[test]
    fn drop_mode_counts_drops_when_the_writer_cannot_keep_up() {
        let d = dir("drop");
        let l = Logger::open(
            "ec_logger",
            "t",
            &cfg(&d, "overflow = drop\nqueue_size = 16\n"),
        )
        .unwrap();
        let mut queued = 0;
        for i in 0..100_000 {
            let mut ev = l.begin(Kind::Delivery).unwrap();
            ev.time.sec = i;
            if l.submit(ev) {
                queued += 1;
            }
        }
        l.close().unwrap();
        // Every box came back, dropped events' boxes too: the count is still true.
        let pool = &l.pipe.get().unwrap().pool;
        assert!(pool.boxes() >= 16);
        assert_eq!(pool.boxes(), pool.spare() + pool.reserve());
        let s = l.stats();
        assert_eq!(s.accepted, queued);
        assert_eq!(s.dropped, 100_000 - queued);
        assert_eq!(s.dropped_by_kind[Kind::Delivery.index()], s.dropped);
        let text = std::fs::read_to_string(d.join("mainlog.ec")).unwrap();
        assert_eq!(text.lines().count() as u64, queued);
        if s.dropped > 0 {
            let panic = std::fs::read_to_string(d.join("paniclog.ec")).unwrap();
            assert!(panic.contains("events dropped"), "{panic}");
        }
    }

    #[test]
    fn internal_errors_reach_the_paniclog_and_the_counters() {
        let d = dir("internal");
        let l = Logger::open("ec_logger", "t", &cfg(&d, "")).unwrap();
        l.internal_error("internal error at x.rs:1: boom");
        l.close().unwrap();
        assert_eq!(l.stats().panics, 1);
        let panic = std::fs::read_to_string(d.join("paniclog.ec")).unwrap();
        assert!(
            panic.contains("critical: mtalog: internal error at x.rs:1: boom"),
            "{panic}"
        );
        l.with_last_error(|e| assert!(e.to_str().unwrap().contains("boom")));
    }

    #[test]
    fn console_commands() {
        let d = dir("console");
        let l = Logger::open("ec_logger", "c1", &cfg(&d, "")).unwrap();
        assert!(
            l.console("help")
                .unwrap()
                .starts_with("reopen logs\n\tClose and reopen log files\n")
        );
        assert_eq!(
            l.console("ec_logger:c1 reopen logs").unwrap(),
            "Log files reopened\n"
        );
        assert!(l.console("stats").unwrap().contains("reopens: 1\n"));
        assert!(l.console("frobnicate").is_err());
        l.close().unwrap();
    }
}
