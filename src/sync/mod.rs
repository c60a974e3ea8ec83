//! Locks and `fork()`.
//!
//! Only the forking thread exists in a child process, so a lock that another thread held
//! at the fork stays locked there for ever. mtalog has one rule against that:
//!
//! **Every mutex that a fork must not copy held is a [`ForkMutex`](crate::sync::ForkMutex).** Taking one enters
//! the fork gate (`sync::gate`); `fork()`'s *prepare* handler (in `atfork`) closes the gate
//! and waits, up to [`PREPARE_WAIT`](crate::sync::PREPARE_WAIT), until no thread is inside, so a child normally
//! inherits none of them held. A `ForkMutex` is therefore held only for bounded work (a
//! file operation, a registry update, a state change): never while waiting for another
//! thread. When the wait runs out (a write that blocks: a hung filesystem, an unread FIFO)
//! the child is *unclean*: its loggers are closed and no `ForkMutex` of a
//! logger is taken there again.
//!
//! Other mutexes in mtalog are private to one thread at a time by construction (the
//! gate's own, the fork handlers' list, which the forking thread holds across the fork).

pub(crate) mod gate;

use std::sync::{Mutex, MutexGuard};

pub use gate::PREPARE_WAIT;
pub(crate) use gate::{fork_pending, unclean};

/// A mutex that a fork respects (see the module documentation). Poisoning is ignored:
/// what it guards stays consistent across a panic (every holder writes whole values).
#[derive(Debug, Default)]
pub struct ForkMutex<T> {
    inner: Mutex<T>,
}

/// A held [`ForkMutex`]. Fields drop in order: the lock, then the gate.
pub struct ForkGuard<'a, T> {
    guard: MutexGuard<'a, T>,
    _gate: gate::GateGuard,
}

impl<T> ForkMutex<T> {
    /// A new mutex holding `value`.
    pub const fn new(value: T) -> ForkMutex<T> {
        ForkMutex {
            inner: Mutex::new(value),
        }
    }

    /// Enters the fork gate (waiting while a fork is being prepared), then locks.
    pub fn lock(&self) -> ForkGuard<'_, T> {
        let gate = gate::enter();
        ForkGuard {
            guard: self.inner.lock().unwrap_or_else(|e| e.into_inner()),
            _gate: gate,
        }
    }

    /// Locks without waiting: `None` when another thread holds it (for a forked child
    /// that must not wait for a thread of its parent).
    pub fn try_lock(&self) -> Option<ForkGuard<'_, T>> {
        let gate = gate::enter();
        match self.inner.try_lock() {
            Ok(guard) => Some(ForkGuard { guard, _gate: gate }),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(ForkGuard {
                guard: e.into_inner(),
                _gate: gate,
            }),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

impl<T> std::ops::Deref for ForkGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> std::ops::DerefMut for ForkGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// Enters the fork gate for work that holds no `ForkMutex` but must not be copied half
/// done (an accepted connection not yet recorded for the child to close).
pub(crate) fn gate() -> gate::GateGuard {
    gate::enter()
}
