//! The logger in a child process right after `fork()` (see `crate::atfork`).

use std::sync::atomic::Ordering;

use super::{CLOSED, Core, Error, FORKED, RUNNING};
use crate::atfork::AfterFork;

impl AfterFork for Core {
    /// The parent's writer thread does not exist here. When the fork was clean, a running
    /// logger puts the parent's pipeline away (its queued events stay the parent's: it is
    /// never touched again, and never dropped) and waits, `FORKED`, for its first use in
    /// the child, which builds a pipeline of the child's own ([`Core::resume`]): no file
    /// is opened, no thread started and no event pool allocated inside `fork()`, and a
    /// child that execs or exits without logging does none of that at all. When the fork was not clean, a lock may be held by
    /// a thread that is gone: the logger closes without taking any lock, and its calls
    /// are refused (`mtalog_last_error` says why).
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
        self.pipe.retire();
        self.state.store(FORKED, Ordering::Release);
    }
}

impl Core {
    /// Builds the pipeline of a forked child at its first use (the first hook, or a call
    /// that needs the writer). Once: concurrent first calls wait for the one that builds.
    /// When it cannot be built, the logger closes: hooks of the child are refused
    /// (counted) rather than queued to nobody, and `mtalog_last_error` says why.
    #[cold]
    #[inline(never)]
    pub(super) fn resume(&self) -> Result<(), Error> {
        let _g = self.ctl()?;
        match self.state.load(Ordering::Acquire) {
            FORKED => {}
            RUNNING => return Ok(()),
            _ => return Err(Error::NotRunning),
        }
        let built = match self.entries.get() {
            Some(entries) => self.build(entries, true),
            None => Err(Error::NotRunning),
        };
        match built {
            Ok(p) => {
                self.pipe.set(p);
                self.state.store(RUNNING, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                self.state.store(CLOSED, Ordering::Release);
                self.set_last_error(&format!(
                    "{} '{}': cannot restart after fork: {e}",
                    self.kind, self.name
                ));
                Err(e)
            }
        }
    }
}
