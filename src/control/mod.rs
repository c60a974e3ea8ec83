//! The control socket (`control_socket = PATH`): a Unix stream socket, mode 0600, that
//! accepts the console commands, so that an external rotation tool (logrotate's
//! `postrotate`) can make any host reopen its files.
//!
//! Protocol: a client connects, sends one command line ending in `\n` (the text
//! `mtalog_console` accepts: `reopen logs`, `stats`, `help`, optionally prefixed with
//! `KIND:NAME`), the server writes the reply and closes the connection. A reply that
//! starts with `error: ` is a failure. A client that closes without sending anything gets
//! no reply. A client has 3 seconds from its connection to send its line, and 3 more to
//! read the reply; the listener reads and writes for several clients at once, so a slow
//! one delays nobody else (commands run one after another: a `reopen logs` waits for the
//! writers, up to their `close_timeout`). Several loggers may name the same socket: one
//! listener serves them all and a command goes to each of them (a `KIND:NAME` prefix picks
//! one), their replies concatenated.
//!
//! The listener thread never touches a `Logger`: each logger registers a
//! [`Handle`](crate::control::Handle) (its
//! channel, counters and names) when it starts and unregisters it at close, before its
//! writer stops; the last one to leave stops the thread, removes the socket and joins the
//! thread. Replies are sent with `MSG_NOSIGNAL`: a client gone away never raises SIGPIPE
//! in the host. A forked child closes its copies of the listener's descriptors.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use once_cell::sync::Lazy;

use crate::console;
use crate::error::{errno_error, errno_of};
use crate::pipeline::Port;
use crate::sync::ForkMutex;
use crate::sys::{self, ForkClosed};

/// How long a client may take to send its command line, counted from its connection.
const READ_DEADLINE: Duration = Duration::from_secs(3);
/// How long a client may take to read its reply, counted from the end of the command.
const WRITE_DEADLINE: Duration = Duration::from_secs(3);
/// Longest time the listener goes without looking at its stop flag (also while a command
/// waits for a writer).
const STOP_POLL: Duration = Duration::from_millis(100);
/// Most clients served at once; more wait in the socket's backlog.
const MAX_CLIENTS: usize = 16;
/// Longest command line read.
const MAX_COMMAND: usize = 4096;

/// What the listener needs of one running logger: its names and its writer.
pub struct Handle {
    /// The logger kind.
    pub kind: &'static str,
    /// The instance name.
    pub name: String,
    /// The logger's writer.
    pub port: Port,
}

/// Runs `line` on the loggers of one socket through the console; the reply starts with
/// `error: ` when any failed. A wait for a writer ends early once `stop` is set.
pub fn dispatch(handles: &[Arc<Handle>], line: &str, stop: &AtomicBool) -> String {
    let loggers: Vec<console::Logger<'_>> = handles
        .iter()
        .map(|h| console::Logger {
            kind: h.kind,
            name: &h.name,
            port: &h.port,
        })
        .collect();
    let reply = console::run(&loggers, line, Some(stop));
    match reply.error {
        Some(_) => format!("error: {}", reply.text),
        None => reply.text,
    }
}

struct Inner {
    handles: ForkMutex<Vec<(u64, Arc<Handle>)>>,
    stop: AtomicBool,
    /// A byte written here wakes the listener thread (after `stop` is set).
    wake: ForkClosed<UnixStream>,
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

impl Listener {
    /// Tells the thread to stop and removes the socket file if it is still ours, so that
    /// the path is free at once; returns the thread, to be joined once the registry lock
    /// is released. Does nothing in a forked child (the thread is its parent's).
    fn shut(mut self) -> Option<JoinHandle<()>> {
        if self.pid != std::process::id() {
            return None;
        }
        self.inner.stop.store(true, Ordering::SeqCst);
        if let Some(w) = self.inner.wake.get() {
            let _ = sys::send_nosignal(w.as_fd(), b"x");
        }
        if let Ok(m) = std::fs::symlink_metadata(&self.path) {
            if m.dev() == self.dev && m.ino() == self.ino {
                let _ = std::fs::remove_file(&self.path);
            }
        }
        self.join.take()
    }
}

static LISTENERS: Lazy<ForkMutex<HashMap<PathBuf, Listener>>> =
    Lazy::new(|| ForkMutex::new(HashMap::new()));
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
    errno_error(code, format!("control_socket {}: {what}", path.display()))
}

/// Binds the socket at `path` with mode 0600 (from the start: the file never has a wider
/// mode). A socket file nobody listens on (connecting is refused) is replaced; a live one,
/// one whose state cannot be told, or any other file is refused, and so is a file that
/// another process places there meanwhile (bind never replaces a file).
fn bind(path: &Path) -> io::Result<UnixListener> {
    let ctx = |e: io::Error| {
        errno_error(
            errno_of(&e),
            format!("control_socket {}: {e}", path.display()),
        )
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => match sys::probe_unix(path) {
            Ok(()) => {
                return Err(io_err(
                    path,
                    libc::EADDRINUSE,
                    "another process is listening there",
                ));
            }
            Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                // Stale (its process is gone): remove it, unless it was replaced since.
                if let Ok(now) = std::fs::symlink_metadata(path) {
                    if now.dev() == m.dev() && now.ino() == m.ino() {
                        let _ = std::fs::remove_file(path);
                    }
                }
            }
            Err(e) => {
                return Err(io_err(
                    path,
                    errno_of(&e),
                    &format!("a socket whose listener cannot be checked ({e}); not replaced"),
                ));
            }
        },
        Ok(_) => {
            return Err(io_err(path, libc::EEXIST, "exists and is not a socket"));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(ctx(e)),
    }
    let l = sys::bind_unix(path, 0o600).map_err(|e| {
        if e.raw_os_error() == Some(libc::EADDRINUSE) {
            io_err(
                path,
                libc::EADDRINUSE,
                "another process created a file there meanwhile",
            )
        } else {
            ctx(e)
        }
    })?;
    // The umask may have taken bits of the owner's (and a system that ignores a socket's
    // own mode used the umask's): make it exactly 0600.
    let ready = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| l.set_nonblocking(true));
    if let Err(e) = ready {
        let _ = std::fs::remove_file(path);
        return Err(ctx(e));
    }
    Ok(l)
}

/// One connection: its command line is read, then the reply written, each within its
/// deadline.
struct Client {
    stream: ForkClosed<UnixStream>,
    deadline: Instant,
    line: Vec<u8>,
    /// The reply and how many bytes of it were sent, once the command ran.
    reply: Option<(Vec<u8>, usize)>,
}

impl Client {
    /// Goes as far as it can without waiting: reads, runs the command once the line is
    /// complete, writes the reply. `false` when the exchange is over (reply sent, client
    /// gone or failed, or closed without sending anything: no reply then).
    fn advance(&mut self, inner: &Inner) -> bool {
        let Some(s) = self.stream.get() else {
            return false;
        };
        if self.reply.is_none() {
            let mut buf = [0u8; 512];
            let mut r = s;
            while !self.line.contains(&b'\n') && self.line.len() < MAX_COMMAND {
                match r.read(&mut buf) {
                    Ok(0) if self.line.is_empty() => return false,
                    Ok(0) => break,
                    Ok(n) => self.line.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                    Err(_) => return false,
                }
            }
            let end = self
                .line
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(self.line.len());
            let reply = match std::str::from_utf8(&self.line[..end]) {
                Ok(cmd) => {
                    let handles: Vec<Arc<Handle>> = inner
                        .handles
                        .lock()
                        .iter()
                        .map(|(_, h)| Arc::clone(h))
                        .collect();
                    dispatch(&handles, cmd, &inner.stop)
                }
                Err(_) => "error: the command is not UTF-8\n".to_owned(),
            };
            self.reply = Some((reply.into_bytes(), 0));
            self.deadline = Instant::now() + WRITE_DEADLINE;
        }
        let Some((reply, sent)) = self.reply.as_mut() else {
            return false;
        };
        while *sent < reply.len() {
            match sys::send_nosignal(s.as_fd(), &reply[*sent..]) {
                Ok(0) => return false,
                Ok(n) => *sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(_) => return false,
            }
        }
        false
    }
}

/// The listener thread: serves up to [`MAX_CLIENTS`] clients at once, each within its
/// deadlines, so that a slow or silent client delays nobody else; looks at the stop flag
/// at least every [`STOP_POLL`].
fn run(inner: Arc<Inner>, listener: ForkClosed<UnixListener>, wake: ForkClosed<UnixStream>) {
    let (Some(l), Some(w)) = (listener.get(), wake.get()) else {
        return;
    };
    let mut clients: Vec<Client> = Vec::new();
    let mut accept_failed = false;
    while !inner.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let wait = clients
            .iter()
            .map(|c| c.deadline.saturating_duration_since(now))
            .fold(STOP_POLL, Duration::min);
        let mut fds = vec![(w.as_fd(), false)];
        // After a failed accept (no descriptor left), the next try waits for the timeout
        // rather than spinning on a listener that stays readable.
        if clients.len() < MAX_CLIENTS && !accept_failed {
            fds.push((l.as_fd(), false));
        }
        fds.extend(
            clients
                .iter()
                .filter_map(|c| c.stream.get().map(|s| (s.as_fd(), c.reply.is_some()))),
        );
        sys::poll(&fds, wait);
        drop(fds);
        let mut woken = w;
        let _ = woken.read(&mut [0u8; 16]);
        accept_failed = false;
        while clients.len() < MAX_CLIENTS {
            // Inside the fork gate: a fork between the accept and the record would leave
            // the child a copy of the connection, and its client waiting for the end of
            // its reply until that child exits.
            let gate = crate::sync::gate();
            let accepted = l.accept().map(|(s, _)| ForkClosed::new(s));
            drop(gate);
            match accepted {
                Ok(s) => {
                    if s.get().is_some_and(|s| s.set_nonblocking(true).is_ok()) {
                        clients.push(Client {
                            stream: s,
                            deadline: Instant::now() + READ_DEADLINE,
                            line: Vec::new(),
                            reply: None,
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    accept_failed = true;
                    break;
                }
            }
        }
        clients.retain_mut(|c| c.advance(&inner) && Instant::now() < c.deadline);
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
    let key = crate::file::registry_key(path)?;
    let mut reg = match LISTENERS.try_lock() {
        Some(g) => g,
        None if forked => return Ok(None),
        None => LISTENERS.lock(),
    };
    if let Some(l) = reg.get(&key) {
        return Ok((l.pid == me).then_some(key));
    }
    // The registry's lock keeps a fork out (see `crate::sync`) until the socket's
    // descriptors are recorded for a forked child to close.
    let l = bind(path)?;
    let started = (|| {
        let meta = std::fs::symlink_metadata(path)?;
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        let inner = Arc::new(Inner {
            handles: ForkMutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            wake: ForkClosed::new(wake_tx),
        });
        let thread_inner = Arc::clone(&inner);
        let listener = ForkClosed::new(l);
        let wake_rx = ForkClosed::new(wake_rx);
        let join = crate::sys::spawn("mtalog-control", move || {
            run(thread_inner, listener, wake_rx)
        })?;
        Ok::<_, io::Error>(Listener {
            pid: me,
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
            inner,
            join: Some(join),
        })
    })();
    match started {
        Ok(listener) => {
            reg.insert(key.clone(), listener);
            Ok(Some(key))
        }
        Err(e) => {
            let _ = std::fs::remove_file(path);
            Err(e)
        }
    }
}

/// Puts a running logger on the socket `prepare` returned `key` for.
pub fn attach(key: &Path, handle: Handle) -> Registration {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let reg = LISTENERS.lock();
    if let Some(l) = reg.get(key) {
        l.inner.handles.lock().push((id, Arc::new(handle)));
    }
    Registration {
        key: key.to_path_buf(),
        id,
        attached: AtomicBool::new(true),
    }
}

/// Stops a listener nobody uses (after a failed start).
pub fn release(key: &Path) {
    let join = {
        let mut reg = LISTENERS.lock();
        let empty = reg
            .get(key)
            .is_some_and(|l| l.inner.handles.lock().is_empty());
        if empty {
            reg.remove(key).and_then(Listener::shut)
        } else {
            None
        }
    };
    if let Some(j) = join {
        let _ = j.join();
    }
}

impl Registration {
    /// Takes the logger off its socket (idempotent); the last one stops the listener,
    /// removes the socket file and joins the thread (without holding the registry lock,
    /// so that other loggers start and stop meanwhile; the thread stops within about
    /// 0.1 s, also when a command of it waits for a writer).
    pub fn detach(&self) {
        if !self.attached.swap(false, Ordering::SeqCst) {
            return;
        }
        let join = {
            let mut reg = LISTENERS.lock();
            let empty = match reg.get(&self.key) {
                Some(l) => {
                    let mut hs = l.inner.handles.lock();
                    hs.retain(|(id, _)| *id != self.id);
                    hs.is_empty()
                }
                None => false,
            };
            if empty {
                reg.remove(&self.key).and_then(Listener::shut)
            } else {
                None
            }
        };
        if let Some(j) = join {
            let _ = j.join();
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
