//! The logger in a child process right after `fork()` (see `crate::atfork`).

use std::sync::atomic::Ordering;

use super::{CLOSED, Core, Error, RUNNING};
use crate::atfork::AfterFork;

impl AfterFork for Core {
    /// The parent's writer thread does not exist here. When the fork was clean, a running
    /// logger starts a pipeline of the child's own (the parent's queued events stay the
    /// parent's: the old pipeline is never touched again, and never dropped). When it was
    /// not, a lock may be held by a thread that is gone: the logger closes without taking
    /// any lock, and its calls are refused (`mtalog_last_error` says why).
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
        if state != RUNNING {
            return;
        }
        let built = match self.entries.get() {
            Some(entries) => self.build(entries, true),
            None => Err(Error::NotRunning),
        };
        match built {
            Ok(p) => self.pipe.set(p),
            Err(e) => {
                // Hooks of the child are refused (counted) rather than queued to nobody.
                self.state.store(CLOSED, Ordering::Release);
                self.set_last_error(&format!(
                    "{} '{}': cannot restart after fork: {e}",
                    self.kind, self.name
                ));
            }
        }
    }
}
