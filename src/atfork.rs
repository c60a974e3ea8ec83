//! `fork()` support, through `pthread_atfork` (never a `getpid()` per hook).
//!
//! Only the forking thread exists in a child, so the child has no writer threads, and any
//! lock another thread held at the fork stays locked there for ever. Three handlers:
//!
//! - *prepare* (parent, before the fork): takes the list of loggers and closes the fork
//!   gate ([`crate::sync`]), waiting until no thread holds a
//!   [`ForkMutex`](crate::sync::ForkMutex) when the process is copied. The wait is bounded
//!   by [`PREPARE_WAIT`](crate::sync::PREPARE_WAIT): a write that blocks (a hung
//!   filesystem, an unread FIFO) never holds up the host's `fork()` for longer.
//! - *parent* (after the fork): opens the gate again; the parent goes on as if nothing
//!   happened, and its queued events are written by its own writers, once.
//! - *child*: opens the gate, closes its copies of the control sockets' descriptors (the
//!   sockets stay the parent's), forgets the rest of a line the parent's last write left,
//!   then calls [`AfterFork::after_fork_in_child`] on every logger, which prepares a
//!   pipeline of its own (the same shared log files, appended to with whole lines) and
//!   starts its queue and writer thread at its first use. The parent's queued events are not in the child's
//!   queue and are never written by it. When a thread was still inside the gate at the
//!   fork (the bounded wait ran out), the locks it held stay locked in the child: the
//!   loggers close themselves there instead, and no logger starts in that process.
//!
//! The handlers know loggers only through the [`AfterFork`] trait.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard, Once, Weak};

use crate::sync::gate::{self, Closed};

/// What a logger does in a child process right after `fork()`.
pub trait AfterFork: Send + Sync {
    /// Called once in the child; `clean` is false when a lock may be held by a thread
    /// that does not exist there.
    fn after_fork_in_child(&self, clean: bool);
}

/// The loggers, from their creation on. A plain mutex: *prepare* holds it across the fork
/// and the same thread releases it in both processes.
static LIVE: Mutex<Vec<Weak<dyn AfterFork>>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

/// What *prepare* holds across the fork: the list and the closed gate.
type Held = (MutexGuard<'static, Vec<Weak<dyn AfterFork>>>, Closed);

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

fn live() -> MutexGuard<'static, Vec<Weak<dyn AfterFork>>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds a logger to the list the child handler walks; installs the handlers once.
pub(crate) fn register(logger: Weak<dyn AfterFork>) {
    INSTALL.call_once(|| {
        // SAFETY: the three handlers are plain `extern "C"` functions that never unwind.
        let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        debug_assert_eq!(rc, 0, "pthread_atfork");
    });
    let mut live = live();
    live.retain(|w| w.strong_count() > 0);
    live.push(logger);
}

extern "C" fn prepare() {
    let live = live();
    let closed = gate::close_for_fork();
    HELD.with(|h| *h.borrow_mut() = Some((live, closed)));
}

extern "C" fn parent() {
    if let Some((live, closed)) = HELD.with(|h| h.borrow_mut().take()) {
        closed.reopen_in_parent();
        drop(live);
    }
}

extern "C" fn child() {
    let Some((live, closed)) = HELD.with(|h| h.borrow_mut().take()) else {
        return;
    };
    let clean = closed.clean;
    closed.reopen_in_child();
    // The control sockets stay the parent's; their descriptors go.
    crate::sys::close_in_child();
    let loggers: Vec<Arc<dyn AfterFork>> = live.iter().filter_map(Weak::upgrade).collect();
    drop(live);
    if clean {
        crate::file::after_fork_in_child();
    }
    for l in &loggers {
        // Never unwind into the C library's fork().
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            l.after_fork_in_child(clean);
        }));
    }
}
