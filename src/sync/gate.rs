//! The fork gate: a count of the threads inside a [`ForkMutex`](super::ForkMutex) (or a
//! file operation), which `fork()`'s *prepare* handler closes and waits on, so that no
//! such lock is held when the process is copied.
//!
//! The gate is re-entrant per thread, so nested locks never wait for a pending fork. It is
//! a plain mutex and a count (no condition variable, whose waiters would not survive a
//! fork); the mutex is held only for a few instructions, and by *prepare* across the fork,
//! which releases it in both processes.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Longest wait of `fork()` for the threads inside the gate to leave it.
pub const PREPARE_WAIT: Duration = Duration::from_secs(1);
/// Pause between two looks at the gate while it is closed, or while waiting for it to
/// empty.
const GATE_POLL: Duration = Duration::from_micros(50);

/// The gate's state.
pub(crate) struct GateState {
    /// Threads inside.
    inside: usize,
    /// A fork is being prepared: no thread enters.
    closed: bool,
}

static GATE: Mutex<GateState> = Mutex::new(GateState {
    inside: 0,
    closed: false,
});

/// A fork is being prepared: a thread inside the gate that waits for something other than
/// this process's threads (another process's file lock) stops waiting.
static FORKING: AtomicBool = AtomicBool::new(false);

/// This process is a child forked while a thread was still inside the gate: a lock may be
/// held by a thread that does not exist here, so no logger runs in it.
static UNCLEAN: AtomicBool = AtomicBool::new(false);

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

fn gate_lock() -> MutexGuard<'static, GateState> {
    GATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A thread inside the gate; leaves it when dropped.
pub(crate) struct GateGuard(bool);

/// Enters the gate: waits while a fork is being prepared.
pub(crate) fn enter() -> GateGuard {
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

/// The gate closed for a fork, held across it by the forking thread.
pub(crate) struct Closed {
    guard: MutexGuard<'static, GateState>,
    /// Whether the gate emptied in time.
    pub(crate) clean: bool,
}

/// *prepare*: closes the gate and waits, up to [`PREPARE_WAIT`], for the threads inside to
/// leave.
pub(crate) fn close_for_fork() -> Closed {
    let mut g = gate_lock();
    g.closed = true;
    FORKING.store(true, Ordering::Relaxed);
    let start = Instant::now();
    while g.inside > 0 && start.elapsed() < PREPARE_WAIT {
        drop(g);
        std::thread::sleep(GATE_POLL);
        g = gate_lock();
    }
    let clean = g.inside == 0;
    Closed { guard: g, clean }
}

impl Closed {
    /// *parent*: opens the gate again.
    pub(crate) fn reopen_in_parent(mut self) {
        self.guard.closed = false;
        FORKING.store(false, Ordering::Relaxed);
    }

    /// *child*: opens the gate; the threads that were inside are gone. Marks the process
    /// unclean when the gate had not emptied.
    pub(crate) fn reopen_in_child(mut self) {
        self.guard.closed = false;
        FORKING.store(false, Ordering::Relaxed);
        self.guard.inside = 0;
        if !self.clean {
            UNCLEAN.store(true, Ordering::Relaxed);
        }
    }
}

/// Whether a fork is being prepared (see [`FORKING`]).
pub(crate) fn fork_pending() -> bool {
    FORKING.load(Ordering::Relaxed)
}

/// Whether this process was forked while a lock was held (see [`UNCLEAN`]).
pub(crate) fn unclean() -> bool {
    UNCLEAN.load(Ordering::Relaxed)
}
