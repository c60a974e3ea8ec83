//! The control socket (`control_socket = PATH`): a Unix stream socket, mode 0600, that
//! accepts the console commands, so that an external rotation tool (logrotate's
//! `postrotate`) can make any host reopen its files.
//!
//! Protocol: a client connects, sends one command line ending in `\n` (the text
//! `mtalog_console` accepts: `reopen logs`, `stats`, `help`, optionally prefixed with
//! `KIND:NAME`), the server writes the reply and closes the connection. A reply that
//! starts with `error: ` is a failure. Several loggers may name the same socket: one
//! listener serves them all and a command goes to each of them (a `KIND:NAME` prefix picks
//! one), their replies concatenated.
//!
//! The listener thread never touches a `Logger`: each logger registers a
//! [`Handle`](crate::control::Handle) (its
//! channel, counters and names) when it starts and unregisters it at close, before its
//! writer stops; the last one to leave stops the thread, joins it and removes the socket.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_channel::{SendTimeoutError, Sender, bounded};
use once_cell::sync::Lazy;

use crate::event::Kind;
use crate::logger::{Error, Shared, StatsSnapshot};
use crate::sink;
use crate::worker::{Control, Msg};

/// The reply to `help`.
pub const HELP: &str =
    "reopen logs\n\tClose and reopen log files\nstats\n\tShow logger statistics\n";

/// How long a client may take to send its command or read the reply.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the idle listener looks at its stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(100);
/// Size of `sun_path` in a Unix socket address, with its terminating NUL.
const SUN_PATH_MAX: usize = 108;
/// Longest command line read.
const MAX_COMMAND: usize = 4096;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A consistent copy of the counters of `shared`, with `depth` events queued.
pub fn snapshot(shared: &Shared, depth: u64) -> StatsSnapshot {
    let s = &shared.stats;
    let dropped_by_kind: [u64; 9] = std::array::from_fn(|i| s.dropped[i].load(Ordering::Relaxed));
    StatsSnapshot {
        accepted: s.dequeued.load(Ordering::Relaxed) + depth,
        written: s.written.load(Ordering::Relaxed),
        dropped: dropped_by_kind.iter().sum(),
        dropped_by_kind,
        bytes_written: s.bytes_written.load(Ordering::Relaxed),
        write_errors: s.write_errors.load(Ordering::Relaxed),
        queue_depth: depth,
        reopens: s.reopens.load(Ordering::Relaxed),
        input_errors: s.input_errors.load(Ordering::Relaxed),
        filtered: s.filtered.load(Ordering::Relaxed),
        truncated: s.truncated.load(Ordering::Relaxed),
        rotations: s.rotations.load(Ordering::Relaxed),
        panics: s.panics.load(Ordering::Relaxed),
    }
}

/// The reply to `stats`.
pub fn stats_text(s: &StatsSnapshot) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "accepted: {}", s.accepted);
    let _ = writeln!(out, "written: {}", s.written);
    let _ = writeln!(out, "dropped: {}", s.dropped);
    for k in Kind::ALL {
        let n = s.dropped_by_kind[k.index()];
        let _ = writeln!(out, "dropped_{}: {n}", k.name());
    }
    for (name, v) in [
        ("bytes_written", s.bytes_written),
        ("write_errors", s.write_errors),
        ("queue_depth", s.queue_depth),
        ("reopens", s.reopens),
        ("input_errors", s.input_errors),
        ("rotations", s.rotations),
    ] {
        let _ = writeln!(out, "{name}: {v}");
    }
    out
}

/// What the listener needs of one running logger.
pub struct Handle {
    /// The logger kind.
    pub kind: &'static str,
    /// The instance name.
    pub name: String,
    /// The logger's channel (control requests travel with the events).
    pub tx: Sender<Msg>,
    /// The writer thread (to wake it).
    pub thread: Thread,
    /// Counters.
    pub shared: Arc<Shared>,
    /// Bound of a request (`close_timeout`).
    pub timeout: Duration,
}

impl Handle {
    fn reopen(&self) -> Result<(), Error> {
        let (ack_tx, ack_rx) = bounded(1);
        let deadline = Instant::now() + self.timeout;
        self.shared.reopen_asked.store(true, Ordering::Relaxed);
        self.thread.unpark();
        self.tx
            .send_timeout(Msg::Control(Control::Reopen(ack_tx)), self.timeout)
            .map_err(|e| match e {
                SendTimeoutError::Timeout(_) => Error::TimedOut("the queue stayed full".into()),
                SendTimeoutError::Disconnected(_) => Error::NotRunning,
            })?;
        self.shared.parked.store(false, Ordering::Relaxed);
        self.thread.unpark();
        ack_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .map_err(|_| Error::TimedOut("the writer did not answer in time".into()))?
    }

    /// Runs one console command; `Err` carries the failure text.
    fn command(&self, words: &[&str]) -> Result<String, String> {
        if self.shared.failed.load(Ordering::Relaxed) {
            return Err("the writer thread failed; this logger stopped writing\n".into());
        }
        match words {
            ["help"] => Ok(HELP.to_owned()),
            ["reopen", "logs"] => match self.reopen() {
                Ok(()) => Ok("Log files reopened\n".to_owned()),
                Err(e) => Err(format!("reopen failed: {e}\n")),
            },
            ["stats"] => Ok(stats_text(&snapshot(&self.shared, self.tx.len() as u64))),
            _ => Err(format!(
                "unknown command '{}'; try 'help'\n",
                words.join(" ")
            )),
        }
    }
}

/// Runs `line` on the loggers of one socket; the reply starts with `error: ` when any
/// failed. A `KIND:NAME` prefix sends it to that logger only.
pub fn dispatch(handles: &[Arc<Handle>], line: &str) -> String {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let mut only = None;
    if let Some((k, n)) = words.first().and_then(|w| w.split_once(':')) {
        only = Some((k.to_owned(), n.to_owned()));
        words.remove(0);
    }
    let chosen: Vec<&Arc<Handle>> = handles
        .iter()
        .filter(|h| {
            only.as_ref()
                .is_none_or(|(k, n)| h.kind == k && h.name == *n)
        })
        .collect();
    if chosen.is_empty() {
        return match only {
            Some((k, n)) => format!("error: no logger {k}:{n} on this socket\n"),
            None => "error: no logger is running on this socket\n".to_owned(),
        };
    }
    let mut ok = String::new();
    let mut failed = false;
    for h in chosen {
        match h.command(&words) {
            Ok(t) => ok.push_str(&t),
            Err(t) => {
                failed = true;
                if handles.len() > 1 {
                    ok.push_str(&format!("{}:{}: ", h.kind, h.name));
                }
                ok.push_str(&t);
            }
        }
    }
    if failed { format!("error: {ok}") } else { ok }
}

struct Inner {
    handles: Mutex<Vec<(u64, Arc<Handle>)>>,
    stop: AtomicBool,
}

struct Listener {
    /// The process that listens (a forked child inherits the entry, not the thread).
    pid: u32,
    path: PathBuf,
    dev: u64,
    ino: u64,
    inner: Arc<Inner>,
    join: Option<JoinHandle<()>>,
}

static LISTENERS: Lazy<Mutex<HashMap<PathBuf, Listener>>> =
    Lazy::new(|| Mutex::new(HashMap::new()));
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// The process that last used the registry (to notice a forked child).
static OWNER: AtomicU32 = AtomicU32::new(0);

/// A logger's place on a control socket; [`Registration::detach`] gives it up.
#[derive(Debug)]
pub struct Registration {
    key: PathBuf,
    id: u64,
    attached: AtomicBool,
}

fn io_err(path: &Path, code: i32, what: &str) -> io::Error {
    sink::errno_error(code, format!("control_socket {}: {what}", path.display()))
}

/// Binds the socket at `path` with mode 0600: bound under a temporary name, restricted,
/// then renamed into place (replacing a stale socket, never a live one or another file).
fn bind(path: &Path) -> io::Result<UnixListener> {
    let ctx = |e: io::Error| {
        sink::errno_error(
            sink::errno_of(&e),
            format!("control_socket {}: {e}", path.display()),
        )
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                return Err(io_err(
                    path,
                    libc::EADDRINUSE,
                    "another process is listening there",
                ));
            }
        }
        Ok(_) => {
            return Err(io_err(path, libc::EEXIST, "exists and is not a socket"));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(ctx(e)),
    }
    // When the temporary name does not fit in a socket address but the path does, the
    // path itself is bound and restricted right after (a moment with the umask's mode);
    // a socket file left there is stale (checked above) and goes first.
    let tmp = PathBuf::from(format!("{}.{}.tmp", path.display(), std::process::id()));
    let at = if tmp.as_os_str().len() < SUN_PATH_MAX {
        tmp.as_path()
    } else {
        path
    };
    let _ = std::fs::remove_file(at);
    let l = UnixListener::bind(at).map_err(ctx)?;
    let placed =
        std::fs::set_permissions(at, std::fs::Permissions::from_mode(0o600)).and_then(|()| {
            if at == path {
                Ok(())
            } else {
                std::fs::rename(at, path)
            }
        });
    if let Err(e) = placed {
        let _ = std::fs::remove_file(at);
        return Err(ctx(e));
    }
    l.set_nonblocking(true)?;
    Ok(l)
}

fn serve(inner: &Inner, mut stream: UnixStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    let mut line = Vec::new();
    let mut buf = [0u8; 512];
    while !line.contains(&b'\n') && line.len() < MAX_COMMAND {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => line.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
    let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
    let reply = match std::str::from_utf8(&line[..end]) {
        Ok(cmd) => {
            let handles: Vec<Arc<Handle>> = lock(&inner.handles)
                .iter()
                .map(|(_, h)| Arc::clone(h))
                .collect();
            dispatch(&handles, cmd)
        }
        Err(_) => "error: the command is not UTF-8\n".to_owned(),
    };
    let _ = stream.write_all(reply.as_bytes());
}

fn run(inner: Arc<Inner>, listener: UnixListener) {
    while !inner.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => serve(&inner, stream),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => std::thread::park_timeout(ACCEPT_POLL),
        }
    }
}

/// Binds `path` if no logger of this process listens there yet (before the writer starts,
/// so that a bad path fails `log_init` cleanly). Returns the registry key, or `None` in a
/// forked child for a socket its parent listens on: the parent keeps serving it, and the
/// child's loggers go without (a thread of the parent may even have held the registry
/// lock at the fork, which is then never waited for).
pub fn prepare(path: &Path) -> io::Result<Option<PathBuf>> {
    let me = std::process::id();
    let previous = OWNER.swap(me, Ordering::Relaxed);
    let forked = previous != 0 && previous != me;
    let key = crate::sink::registry_key(path)?;
    let mut reg = match LISTENERS.try_lock() {
        Ok(g) => g,
        Err(TryLockError::Poisoned(e)) => e.into_inner(),
        Err(TryLockError::WouldBlock) if forked => return Ok(None),
        Err(TryLockError::WouldBlock) => lock(&LISTENERS),
    };
    if let Some(l) = reg.get(&key) {
        return Ok((l.pid == me).then_some(key));
    }
    let l = bind(path)?;
    let meta = std::fs::symlink_metadata(path)?;
    let inner = Arc::new(Inner {
        handles: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
    });
    let thread_inner = Arc::clone(&inner);
    let join = std::thread::Builder::new()
        .name("mtalog-control".into())
        .spawn(move || run(thread_inner, l));
    let join = match join {
        Ok(j) => j,
        Err(e) => {
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
    };
    reg.insert(
        key.clone(),
        Listener {
            pid: me,
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
            inner,
            join: Some(join),
        },
    );
    Ok(Some(key))
}

/// Puts a running logger on the socket `prepare` returned `key` for.
pub fn attach(key: &Path, handle: Handle) -> Registration {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let reg = lock(&LISTENERS);
    if let Some(l) = reg.get(key) {
        lock(&l.inner.handles).push((id, Arc::new(handle)));
    }
    Registration {
        key: key.to_path_buf(),
        id,
        attached: AtomicBool::new(true),
    }
}

/// Stops a listener nobody uses (after a failed start).
pub fn release(key: &Path) {
    let mut reg = lock(&LISTENERS);
    let empty = reg
        .get(key)
        .is_some_and(|l| lock(&l.inner.handles).is_empty());
    if empty {
        if let Some(l) = reg.remove(key) {
            stop(l);
        }
    }
}

fn stop(mut l: Listener) {
    l.inner.stop.store(true, Ordering::Relaxed);
    if let Some(j) = l.join.take() {
        j.thread().unpark();
        let _ = j.join();
    }
    // Remove the socket only if it is still ours.
    if let Ok(m) = std::fs::symlink_metadata(&l.path) {
        if m.dev() == l.dev && m.ino() == l.ino {
            let _ = std::fs::remove_file(&l.path);
        }
    }
}

impl Registration {
    /// Takes the logger off its socket (idempotent); the last one stops the listener,
    /// joins its thread and removes the socket file.
    pub fn detach(&self) {
        if !self.attached.swap(false, Ordering::SeqCst) {
            return;
        }
        let mut reg = lock(&LISTENERS);
        let empty = match reg.get(&self.key) {
            Some(l) => {
                let mut hs = lock(&l.inner.handles);
                hs.retain(|(id, _)| *id != self.id);
                hs.is_empty()
            }
            None => false,
        };
        if empty {
            if let Some(l) = reg.remove(&self.key) {
                stop(l);
            }
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.detach();
    }
}

/// Sends one command line to the socket at `path` and returns the reply (a client, for
/// tests and tools).
pub fn request(path: &Path, command: &str) -> io::Result<String> {
    let mut s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    s.write_all(command.trim_end_matches('\n').as_bytes())?;
    s.write_all(b"\n")?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)?;
    Ok(reply)
}
