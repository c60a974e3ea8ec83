//! The logger in a child process right after `fork()` (see `crate::atfork`).

use std::sync::atomic::Ordering;

use super::{CLOSED, Core, Error, FORKED, RUNNING};
use crate::atfork::AfterFork;

impl AfterFork for Core {
    /// The parent's writer thread does not exist here. When the fork was clean, a running
    /// logger puts the parent's pipeline away (its queued events stay the parent's: it is
    /// never touched again, and never dropped) and prepares one of the child's own: its
    /// options and files as the forking process has them (its directory and privileges;
    /// the files are the descriptions the child inherited). It then waits, `FORKED`, for
    /// its first use in the child, which starts the pipeline's queue, event boxes and
    /// writer thread ([`Core::resume`]): a child that execs or exits without logging
    /// allocates no queue and starts no thread, and one that changes directory, chroots
    /// or gives up privileges after the fork still writes to the files it inherited. When the fork was not clean, a lock may be held by a thread that
    /// is gone: the logger closes without taking any lock, and its calls are refused
    /// (`mtalog_last_error` says why).
    fn after_fork_in_child(&self, clean: bool) {
        self.shared.stats.reset();
        self.shared.parked.store(false, Ordering::Relaxed);
        let state = self.state.load(Ordering::Acquire);
        if state == CLOSED {
            return;
        }
        if !clean {
            self.state.store(CLOSED, Ordering::Release);
            self.pipe.retire();
            return;
        }
        if state != RUNNING && state != FORKED {
            return;
        }
        // Closed while it is prepared: a panic on the way (caught by the fork handler) leaves
        // a logger that refuses its hooks, not one that queues them to nobody.
        self.pipe.retire();
        self.state.store(CLOSED, Ordering::Release);
        let prepared = match self.entries.get() {
            Some(entries) => self.prepare(entries, true),
            None => Err(Error::NotRunning),
        };
        match prepared {
            Ok(parts) => {
                *self.parts.lock() = Some(parts);
                self.state.store(FORKED, Ordering::Release);
            }
            Err(e) => self.cannot_restart(&e),
        }
    }
}

impl Core {
    /// Starts the pipeline of a forked child at its first use (the first hook, or a call
    /// that needs the writer), from the parts prepared at the fork. Once: concurrent first
    /// calls wait for the one that starts it. When it cannot be started, the logger
    /// closes (see [`Core::cannot_restart`]).
    #[cold]
    #[inline(never)]
    pub(super) fn resume(&self) -> Result<(), Error> {
        let _g = self.ctl()?;
        match self.state.load(Ordering::Acquire) {
            FORKED => {}
            RUNNING => return Ok(()),
            _ => return Err(Error::NotRunning),
        }
        let parts = self.parts.lock().take();
        let started = match parts {
            Some(parts) => self.start_parts(parts),
            None => Err(Error::NotRunning),
        };
        match started {
            Ok(p) => {
                self.pipe.set(p);
                self.state.store(RUNNING, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                self.cannot_restart(&e);
                Err(e)
            }
        }
    }

    /// A forked child's logger that cannot have a pipeline closes: its hooks are refused
    /// (counted) rather than queued to nobody, and `mtalog_last_error` says why.
    fn cannot_restart(&self, e: &Error) {
        self.state.store(CLOSED, Ordering::Release);
        self.closed_at_fork.store(true, Ordering::Relaxed);
        self.set_last_error(&format!(
            "{} '{}': cannot restart after fork: {e}",
            self.kind, self.name
        ));
    }

    /// A forked child's logger closed before its first use: the parts prepared for it go.
    pub(super) fn drop_parts(&self) {
        self.parts.lock().take();
    }
}
