//! `fork()` support, through `pthread_atfork` (never a `getpid()` per hook).
//!
//! Only the forking thread exists in a child, so the child has no writer threads, and any
//! lock another thread held at the fork stays locked there forever. Three handlers:
//!
//! - *prepare* (parent, before the fork): takes the list of running loggers and closes the
//!   file gate, waiting until no thread is inside a file operation (no file or registry
//!   lock is held) when the process is copied. The wait is bounded by [`PREPARE_WAIT`]: a
//!   write that blocks (a hung filesystem, an unread FIFO) never holds up the host's
//!   `fork()` for longer.
//! - *parent* (after the fork): opens the gate again; the parent goes on as if nothing
//!   happened, and its queued events are written by its own writers, once.
//! - *child*: opens the gate, then gives every running logger a pipeline of its own (new
//!   queue, new writer thread, the same shared log files, appended to with whole lines).
//!   The parent's queued events are not in the child's queue and are never written by it.
//!   When a file operation was still under way at the fork (the bounded wait ran out), the
//!   locks it held stay locked in the child: its loggers are closed there instead (hooks
//!   are refused and counted; `mtalog_last_error` says why), and no logger starts in that
//!   process (`log_init` returns `-ECANCELED`). The child also closes its copies of the
//!   control sockets' descriptors (listeners and the clients being served): the sockets
//!   stay the parent's.
//!
//! File operations (in `sink`) enter the gate through [`gate`]; it is re-entrant per
//! thread, so nested file locks never wait for a pending fork. The gate is a plain mutex
//! and a count (no condition variable, whose waiters would not survive a fork).

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, Weak};
use std::time::{Duration, Instant};

use crate::logger::Core;

/// Longest wait of `fork()` for file operations under way to finish.
pub const PREPARE_WAIT: Duration = Duration::from_secs(1);
/// Pause between two looks at the gate while it is closed, or while waiting for it to
/// empty.
const GATE_POLL: Duration = Duration::from_micros(50);

struct GateState {
    /// Threads inside a file operation.
    inside: usize,
    /// A fork is being prepared: no thread enters.
    closed: bool,
}

static LIVE: Mutex<Vec<Weak<Core>>> = Mutex::new(Vec::new());
static GATE: Mutex<GateState> = Mutex::new(GateState {
    inside: 0,
    closed: false,
});
static INSTALL: Once = Once::new();
/// This process is a child forked past a stuck file operation: a file or registry lock
/// may be held by a thread that does not exist here, so no logger starts.
static UNCLEAN: AtomicBool = AtomicBool::new(false);

/// Whether this process was forked past a stuck file operation (see [`UNCLEAN`]).
pub(crate) fn unclean() -> bool {
    UNCLEAN.load(Ordering::Relaxed)
}

/// What *prepare* holds across the fork: the list, the gate's lock, and whether the gate
/// emptied in time.
type Held = (
    MutexGuard<'static, Vec<Weak<Core>>>,
    MutexGuard<'static, GateState>,
    bool,
);

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

fn gate_lock() -> MutexGuard<'static, GateState> {
    GATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A thread inside the file gate (see the module documentation).
pub(crate) struct GateGuard(bool);

/// Enters a file operation: waits while a fork is being prepared.
pub(crate) fn gate() -> GateGuard {
    let outer = DEPTH.with(|d| {
        let n = d.get();
        d.set(n + 1);
        n == 0
    });
    if outer {
        loop {
            let mut g = gate_lock();
            if !g.closed {
                g.inside += 1;
                break;
            }
            drop(g);
            std::thread::sleep(GATE_POLL);
        }
    }
    GateGuard(outer)
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        if self.0 {
            let mut g = gate_lock();
            g.inside = g.inside.saturating_sub(1);
        }
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Adds a logger (from its creation on) to the list the child handler walks; installs the
/// handlers once.
pub(crate) fn register(core: &Arc<Core>) {
    INSTALL.call_once(|| {
        // SAFETY: the three handlers are plain `extern "C"` functions that never unwind.
        let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        debug_assert_eq!(rc, 0, "pthread_atfork");
    });
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(core));
}

extern "C" fn prepare() {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    let mut g = gate_lock();
    g.closed = true;
    let start = Instant::now();
    while g.inside > 0 && start.elapsed() < PREPARE_WAIT {
        drop(g);
        std::thread::sleep(GATE_POLL);
        g = gate_lock();
    }
    let clean = g.inside == 0;
    HELD.with(|h| *h.borrow_mut() = Some((live, g, clean)));
}

extern "C" fn parent() {
    if let Some((live, mut g, _)) = HELD.with(|h| h.borrow_mut().take()) {
        g.closed = false;
        drop(g);
        drop(live);
    }
}

extern "C" fn child() {
    let Some((live, mut g, clean)) = HELD.with(|h| h.borrow_mut().take()) else {
        return;
    };
    // The threads that were inside are gone; the child rebuilds through the ordinary open
    // path, which enters the gate.
    g.closed = false;
    g.inside = 0;
    drop(g);
    // The control sockets stay the parent's; their descriptors go.
    crate::control::after_fork_in_child();
    let cores: Vec<Arc<Core>> = live.iter().filter_map(Weak::upgrade).collect();
    drop(live);
    if clean {
        crate::sink::after_fork_in_child();
    } else {
        UNCLEAN.store(true, Ordering::Relaxed);
    }
    for c in &cores {
        // Never unwind into the C library's fork().
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            c.after_fork_in_child(clean);
        }));
    }
}
