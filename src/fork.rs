//! `fork()` support, through `pthread_atfork` (never a `getpid()` per hook).
//!
//! Only the forking thread exists in a child, so the child has no writer threads, and any
//! lock another thread held at the fork stays locked there forever. Three handlers:
//!
//! - *prepare* (parent, before the fork): takes the list of running loggers and the file
//!   gate for writing, so that no thread is inside a file operation (no file or registry
//!   lock is held) when the process is copied.
//! - *parent* (after the fork): releases both; the parent goes on as if nothing happened,
//!   and its queued events are written by its own writers, once.
//! - *child*: releases both, then gives every running logger a pipeline of its own (new
//!   queue, new writer thread, the same shared log files, appended to with whole lines).
//!   The parent's queued events are not in the child's queue and are never written by it.
//!
//! File operations (in `sink`) hold the gate for reading through [`gate`]; it is re-entrant
//! per thread, so nested file locks never wait for a pending fork.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex, MutexGuard, Once, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use crate::logger::Core;

static LIVE: Mutex<Vec<Weak<Core>>> = Mutex::new(Vec::new());
static GATE: RwLock<()> = RwLock::new(());
static INSTALL: Once = Once::new();

type Held = (
    MutexGuard<'static, Vec<Weak<Core>>>,
    RwLockWriteGuard<'static, ()>,
);

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Holds the file gate for reading (see the module documentation).
pub(crate) struct GateGuard(Option<RwLockReadGuard<'static, ()>>);

/// Enters a file operation: waits while a fork is being prepared.
pub(crate) fn gate() -> GateGuard {
    let outer = DEPTH.with(|d| {
        let n = d.get();
        d.set(n + 1);
        n == 0
    });
    GateGuard(outer.then(|| GATE.read().unwrap_or_else(|e| e.into_inner())))
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        drop(self.0.take());
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Adds a running logger to the list the child handler walks; installs the handlers once.
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
    let gate = GATE.write().unwrap_or_else(|e| e.into_inner());
    HELD.with(|h| *h.borrow_mut() = Some((live, gate)));
}

extern "C" fn parent() {
    drop(HELD.with(|h| h.borrow_mut().take()));
}

extern "C" fn child() {
    let Some((live, gate)) = HELD.with(|h| h.borrow_mut().take()) else {
        return;
    };
    // The child rebuilds through the ordinary open path, which enters the gate.
    drop(gate);
    let cores: Vec<Arc<Core>> = live.iter().filter_map(Weak::upgrade).collect();
    drop(live);
    for c in &cores {
        // Never unwind into the C library's fork().
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            c.after_fork_in_child();
        }));
    }
}
