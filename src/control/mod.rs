//! The control socket (`control_socket = PATH`): a Unix stream socket, mode 0600, that
//! accepts the console commands, so that an external rotation tool (logrotate's
//! `postrotate`) can make any host reopen its files.
//!
//! Protocol: a client connects, sends one command line ending in `\n` (the text
//! `mtalog_console` accepts: `reopen logs`, `stats`, `help`, optionally prefixed with
//! `KIND:NAME`), the server writes the reply and closes the connection. A reply that
//! starts with `error: ` is a failure. A client that closes without sending anything gets
//! no reply. A client has 3 seconds from its connection to send its line, and 3 more to
//! read the reply. Several loggers may name the same socket: one listener serves them all
//! and a command goes to each of them (a `KIND:NAME` prefix picks one), their replies
//! concatenated.
//!
//! A slow client delays nobody else: one thread polls the listening socket and every
//! connection, and reads and writes for each as its bytes come and go. It serves up to
//! [`MAX_CLIENTS`](crate::control::MAX_CLIENTS) clients at once; when all places are taken,
//! a new connection takes the place of the idlest client (the one that has gone longest
//! without a byte moving either way). Commands run on threads of their own, four at once
//! (more wait their turn), so that a `reopen logs`, which waits for the writers up to their
//! `close_timeout`, holds up neither the loop nor the commands of other clients.
//!
//! The listener thread never touches a `Logger`: each logger registers a
//! [`Handle`](crate::control::Handle) (its
//! channel, counters and names) when it starts and unregisters it at close, before its
//! writer stops; the last one to leave stops the thread, removes the socket and joins the
//! thread (which joins its commands' threads first). Replies are sent with `MSG_NOSIGNAL`:
//! a client gone away never raises SIGPIPE in the host. A forked child closes its copies of
//! the listener's and its clients' descriptors.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
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
/// Longest time the listener goes without looking at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);
/// Most clients served at once. When all places are taken, a new connection takes the
/// place of the idlest client (the one that has gone longest without a byte moving; never
/// one whose command runs).
pub const MAX_CLIENTS: usize = 256;
/// Most commands running at once, each on a thread of its own; the others wait their turn.
const MAX_RUNNING: usize = 4;
// Every client's descriptor is closed in a forked child, with room for the listener's own.
const _: () = assert!(MAX_CLIENTS + 16 <= sys::FORK_CLOSED_SLOTS);
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

/// Where a client's exchange stands.
enum Stage {
    /// Reading its command line (the bytes so far).
    Line(Vec<u8>),
    /// Its command waits for its turn or runs.
    Command,
    /// Writing the reply: the reply and how many bytes of it were sent.
    Reply(Vec<u8>, usize),
}

/// One connection: its command line is read, its command run, its reply written; the line
/// and the reply each within their deadline.
struct Client {
    /// Names the client to its command's thread.
    id: u64,
    stream: ForkClosed<UnixStream>,
    /// The end of the current stage (none while the command runs: a command is bounded by
    /// the writers' `close_timeout`).
    deadline: Option<Instant>,
    /// When a byte last moved either way (the connection's time at first).
    progress: Instant,
    /// What the last poll said of the stream (a new client is tried at once).
    ready: bool,
    stage: Stage,
}

/// What a client's turn in the loop led to.
enum Step {
    /// Nothing more to do until its stream is ready again.
    Wait,
    /// Its command line is complete: run it.
    Run(String),
    /// The exchange is over (reply sent, client gone or failed, or closed without sending
    /// anything: no reply then).
    Done,
}

impl Client {
    fn new(id: u64, stream: ForkClosed<UnixStream>, now: Instant) -> Client {
        Client {
            id,
            stream,
            deadline: Some(now + READ_DEADLINE),
            progress: now,
            ready: true,
            stage: Stage::Line(Vec::new()),
        }
    }

    /// May this client be dropped to admit a new one? Not while its command runs.
    fn evictable(&self) -> bool {
        !matches!(self.stage, Stage::Command)
    }

    /// Goes as far as it can without waiting: reads the line, or writes the reply.
    fn advance(&mut self, now: Instant) -> Step {
        let Some(s) = self.stream.get() else {
            return Step::Done;
        };
        match &mut self.stage {
            Stage::Command => Step::Wait,
            Stage::Line(line) => {
                let mut buf = [0u8; 512];
                let mut r = s;
                while !line.contains(&b'\n') && line.len() < MAX_COMMAND {
                    match r.read(&mut buf) {
                        Ok(0) if line.is_empty() => return Step::Done,
                        Ok(0) => break,
                        Ok(n) => {
                            line.extend_from_slice(&buf[..n]);
                            self.progress = now;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
                        Err(_) => return Step::Done,
                    }
                }
                let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
                match std::str::from_utf8(&line[..end]) {
                    Ok(cmd) => {
                        let cmd = cmd.to_owned();
                        self.stage = Stage::Command;
                        self.deadline = None;
                        Step::Run(cmd)
                    }
                    Err(_) => {
                        self.reply("error: the command is not UTF-8\n".into(), now);
                        self.advance(now)
                    }
                }
            }
            Stage::Reply(reply, sent) => {
                while *sent < reply.len() {
                    match sys::send_nosignal(s.as_fd(), &reply[*sent..]) {
                        Ok(0) => return Step::Done,
                        Ok(n) => {
                            *sent += n;
                            self.progress = now;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
                        Err(_) => return Step::Done,
                    }
                }
                Step::Done
            }
        }
    }

    /// Takes the reply to send; the client has [`WRITE_DEADLINE`] from now to read it.
    fn reply(&mut self, reply: String, now: Instant) {
        self.stage = Stage::Reply(reply.into_bytes(), 0);
        self.deadline = Some(now + WRITE_DEADLINE);
        self.progress = now;
        self.ready = true;
    }
}

/// The client to drop so that a new one can come in: of those whose command is not
/// running, the one that has gone longest without a byte moving (the oldest first when
/// several have never sent one).
fn idlest(clients: &[Client]) -> Option<usize> {
    clients
        .iter()
        .enumerate()
        .filter(|(_, c)| c.evictable())
        .min_by_key(|(_, c)| c.progress)
        .map(|(i, _)| i)
}

/// The commands of one listener, each run on a thread of its own so that the listener
/// goes on serving its other clients meanwhile (a `reopen logs` waits for the writers, up
/// to their `close_timeout`): at most [`MAX_RUNNING`] at once, the others wait their turn in
/// order. Every thread is joined before the listener's thread ends.
struct Commands {
    inner: Arc<Inner>,
    waiting: VecDeque<(u64, String)>,
    running: Vec<JoinHandle<()>>,
    done_tx: mpsc::Sender<(u64, String)>,
    done_rx: mpsc::Receiver<(u64, String)>,
}

impl Commands {
    fn new(inner: Arc<Inner>) -> Commands {
        let (done_tx, done_rx) = mpsc::channel();
        Commands {
            inner,
            waiting: VecDeque::new(),
            running: Vec::new(),
            done_tx,
            done_rx,
        }
    }

    /// Queues client `id`'s command line.
    fn push(&mut self, id: u64, line: String) {
        self.waiting.push_back((id, line));
    }

    /// Joins the threads that ended and starts waiting commands while there is room.
    fn start(&mut self) {
        let (ended, running): (Vec<_>, Vec<_>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(JoinHandle::is_finished);
        self.running = running;
        for j in ended {
            let _ = j.join();
        }
        while self.running.len() < MAX_RUNNING {
            let Some((id, line)) = self.waiting.pop_front() else {
                break;
            };
            let handles: Vec<Arc<Handle>> = self
                .inner
                .handles
                .lock()
                .iter()
                .map(|(_, h)| Arc::clone(h))
                .collect();
            let inner = Arc::clone(&self.inner);
            let done = self.done_tx.clone();
            let spawned = std::thread::Builder::new()
                .name("mtalog-command".into())
                .spawn(move || {
                    let reply = dispatch(&handles, &line, &inner.stop);
                    let _ = done.send((id, reply));
                    if let Some(w) = inner.wake.get() {
                        let _ = sys::send_nosignal(w.as_fd(), b"x");
                    }
                });
            match spawned {
                Ok(j) => self.running.push(j),
                Err(e) => {
                    let reply = format!("error: cannot start a thread for the command: {e}\n");
                    let _ = self.done_tx.send((id, reply));
                }
            }
        }
    }

    /// The replies of the commands that ended, with their clients' ids.
    fn replies(&self) -> impl Iterator<Item = (u64, String)> + '_ {
        self.done_rx.try_iter()
    }

    /// Waits for the running commands (once the listener's stop flag is set, each ends
    /// within about 0.1 s); the waiting ones are dropped.
    fn join(&mut self) {
        self.waiting.clear();
        for j in self.running.drain(..) {
            let _ = j.join();
        }
    }
}

impl Drop for Commands {
    fn drop(&mut self) {
        self.join();
    }
}

/// The listener thread: one loop over the listening socket and every connection, so that a
/// slow or silent client delays nobody else. It serves up to [`MAX_CLIENTS`] clients at once,
/// each within its deadlines; when all places are taken, a new connection takes the place
/// of the idlest client. Commands run on threads of their own ([`Commands`]). It looks at
/// the stop flag at least every [`STOP_POLL`].
fn run(inner: Arc<Inner>, listener: ForkClosed<UnixListener>, wake: ForkClosed<UnixStream>) {
    let (Some(l), Some(w)) = (listener.get(), wake.get()) else {
        return;
    };
    let mut clients: Vec<Client> = Vec::new();
    let mut commands = Commands::new(Arc::clone(&inner));
    let mut next_id = 0u64;
    let mut accept_failed = false;
    while !inner.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let wait = clients
            .iter()
            .filter_map(|c| c.deadline)
            .map(|d| d.saturating_duration_since(now))
            .fold(STOP_POLL, Duration::min);
        // After a failed accept (no descriptor left), the next try waits for the timeout
        // rather than spinning on a listener that stays readable.
        let accepting = !accept_failed
            && (clients.len() < MAX_CLIENTS || clients.iter().any(Client::evictable));
        let mut fds = vec![(w.as_fd(), false)];
        if accepting {
            fds.push((l.as_fd(), false));
        }
        let first = fds.len();
        let mut polled = Vec::with_capacity(clients.len());
        for (i, c) in clients.iter().enumerate() {
            let write = match c.stage {
                Stage::Line(_) => false,
                Stage::Reply(..) => true,
                Stage::Command => continue,
            };
            if let Some(s) = c.stream.get() {
                fds.push((s.as_fd(), write));
                polled.push(i);
            }
        }
        let ready = sys::poll_ready(&fds, wait);
        drop(fds);
        for (&i, &r) in polled.iter().zip(&ready[first..]) {
            clients[i].ready = r;
        }
        let mut woken = w;
        while matches!(woken.read(&mut [0u8; 64]), Ok(n) if n > 0) {}
        accept_failed = false;
        if accepting && ready[1] {
            accept_failed = !accept(l, &mut clients, &mut commands, &mut next_id);
        }
        let now = Instant::now();
        for (id, reply) in commands.replies() {
            if let Some(c) = clients.iter_mut().find(|c| c.id == id) {
                c.reply(reply, now);
            }
        }
        clients.retain_mut(|c| serve(c, &mut commands, now));
        commands.start();
    }
    // Stopping: the running commands end soon (their waits look at the stop flag); their
    // clients get what fits in their sockets' buffers now, the others nothing.
    commands.join();
    let now = Instant::now();
    for (id, reply) in commands.replies() {
        if let Some(c) = clients.iter_mut().find(|c| c.id == id) {
            c.reply(reply, now);
            c.advance(now);
        }
    }
}

/// Accepts the connections waiting on `l` (a new one takes the place of the idlest client
/// when all are taken) and reads what they sent already; `false` when accepting failed
/// (no descriptor left).
fn accept(
    l: &UnixListener,
    clients: &mut Vec<Client>,
    commands: &mut Commands,
    next_id: &mut u64,
) -> bool {
    loop {
        // Inside the fork gate: a fork between the accept and the record would leave the
        // child a copy of the connection, and its client waiting for the end of its reply
        // until that child exits.
        let gate = crate::sync::gate();
        let accepted = l.accept().map(|(s, _)| ForkClosed::new(s));
        drop(gate);
        match accepted {
            Ok(s) => {
                if s.get().is_none_or(|s| s.set_nonblocking(true).is_err()) {
                    continue;
                }
                if clients.len() >= MAX_CLIENTS {
                    match idlest(clients) {
                        Some(i) => drop(clients.remove(i)),
                        None => return true,
                    }
                }
                *next_id += 1;
                // Its line may be there already: read it before the next accept could
                // take its place.
                let now = Instant::now();
                let mut c = Client::new(*next_id, s, now);
                if serve(&mut c, commands, now) {
                    clients.push(c);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
}

/// Gives client `c` its turn if its stream was ready: `false` when it is to be dropped (its
/// exchange is over, or its deadline passed).
fn serve(c: &mut Client, commands: &mut Commands, now: Instant) -> bool {
    if std::mem::take(&mut c.ready) {
        match c.advance(now) {
            Step::Done => return false,
            Step::Run(line) => commands.push(c.id, line),
            Step::Wait => {}
        }
    }
    c.deadline.is_none_or(|d| now < d)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: u64, progress: Instant, stage: Stage) -> (Client, UnixStream) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let mut c = Client::new(id, ForkClosed::new(ours), progress);
        c.stage = stage;
        (c, theirs)
    }

    #[test]
    fn the_client_longest_without_progress_goes_first() {
        let t = Instant::now();
        let s = Duration::from_secs(1);
        // The oldest connection sent a byte a moment ago; the next oldest never did.
        let (mut talker, _a) = client(1, t, Stage::Line(Vec::new()));
        talker.progress = t + 3 * s;
        let (silent, _b) = client(2, t + s, Stage::Line(Vec::new()));
        let (reader, _c) = client(3, t + 2 * s, Stage::Reply(b"x\n".to_vec(), 0));
        let mut clients = vec![talker, silent, reader];
        assert_eq!(idlest(&clients).map(|i| clients[i].id), Some(2));
        // A client whose command runs is never dropped, however long it has waited.
        let (running, _d) = client(4, t - 10 * s, Stage::Command);
        clients.push(running);
        assert_eq!(idlest(&clients).map(|i| clients[i].id), Some(2));
        clients.remove(1);
        // Then the slow reader of its reply; several without progress: the oldest.
        assert_eq!(idlest(&clients).map(|i| clients[i].id), Some(3));
        let (late, _e) = client(5, t + 2 * s, Stage::Line(Vec::new()));
        clients.push(late);
        assert_eq!(idlest(&clients).map(|i| clients[i].id), Some(3));
        clients.retain(|c| c.id == 4);
        assert_eq!(idlest(&clients), None);
    }

    #[test]
    fn a_command_waiting_for_a_writer_holds_up_nobody() {
        let d = std::env::temp_dir().join(format!("mtalog-control-wait-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let path = d.join("ctl.sock");
        // A logger whose writer never takes anything from its channel: a reopen waits for
        // the whole of its 5 s timeout.
        let (tx, _rx) = crossbeam_channel::bounded(16);
        let port = Port {
            tx,
            thread: std::thread::current(),
            shared: Arc::new(crate::pipeline::stats::Shared::default()),
            timeout: Duration::from_secs(5),
        };
        let key = prepare(&path).unwrap().unwrap();
        let reg = attach(
            &key,
            Handle {
                kind: "ec_logger",
                name: "stuck".into(),
                port,
            },
        );
        let reopen_path = path.clone();
        let start = Instant::now();
        let reopen = std::thread::spawn(move || request(&reopen_path, "reopen logs").unwrap());
        // Let the reopen reach its writer, then other clients come and go meanwhile.
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..3 {
            let t = Instant::now();
            let reply = request(&path, "stats").unwrap();
            assert!(reply.contains("accepted: 0\n"), "{reply}");
            println!("stats while a reopen waits: {:?}", t.elapsed());
            assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        }
        assert!(
            !reopen.is_finished(),
            "the reopen did not wait for its writer"
        );
        // Giving up the socket ends the wait at once (the thread joins its commands).
        let t = Instant::now();
        reg.detach();
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        let reply = reopen.join().unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{:?}",
            start.elapsed()
        );
        assert!(
            reply.starts_with("error: reopen failed: ") && reply.contains("closing"),
            "{reply}"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
