//! Operations of the control side: reopen, flush, close, stats and the console. None
//! holds a lock while it waits for the writer.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{CLOSED, Core, Error, FORKED, RUNNING};
use crate::console;
use crate::pipeline::Control;
use crate::pipeline::stats::{Counter, StatsSnapshot};

impl Core {
    /// `log_reopen` / `reopen logs`: ordered with the events queued before it; reopens every
    /// file by name.
    pub fn reopen(&self) -> Result<(), Error> {
        let r = self.running().and_then(|p| p.port.reopen(None));
        self.record(r)
    }

    /// Writes out everything queued before this call (lines reach the files).
    pub fn flush(&self) -> Result<(), Error> {
        if self.unbuilt_child() {
            // Nothing was queued in this process.
            return Ok(());
        }
        let r = self
            .running()
            .and_then(|p| p.port.request(Control::Flush, None).and_then(|r| r));
        self.record(r)
    }

    /// `log_close`: drains the queue, flushes, fsyncs (unless `fsync = none`), joins the
    /// writer. Bounded by `close_timeout`; on timeout the writer is told to give up, what
    /// was not written is counted as dropped and reported, and `TimedOut` is returned.
    pub fn close(&self) -> Result<(), Error> {
        let r = self.close_inner();
        self.record(r)
    }

    fn close_inner(&self) -> Result<(), Error> {
        let p = {
            let _g = self.ctl()?;
            match self.state.load(Ordering::Acquire) {
                RUNNING => {}
                FORKED => {
                    // A forked child that never logged: nothing to write, nothing started.
                    self.state.store(CLOSED, Ordering::Release);
                    self.drop_parts();
                    return Ok(());
                }
                _ => {
                    self.shared.stats.add(Counter::input_errors, 1);
                    return Err(Error::NotRunning);
                }
            }
            self.state.store(CLOSED, Ordering::Release);
            self.pipe.get().ok_or(Error::NotRunning)?
        };
        if let Some(c) = &p.control {
            c.detach();
        }
        let timeout = p.settings.close_timeout;
        let start = Instant::now();
        let result = match p.port.request(Control::Shutdown, None) {
            Ok(r) => r,
            Err(e) => {
                self.shared.abort.store(true, Ordering::SeqCst);
                p.port.thread.unpark();
                Err(match e {
                    Error::TimedOut(_) => Error::TimedOut(format!(
                        "close did not finish within {timeout:?}; unwritten events were counted as dropped"
                    )),
                    other => other,
                })
            }
        };
        let handle = p.join.lock().take();
        if let Some(h) = handle {
            // After Shutdown, or once told to give up (abort), the writer exits promptly,
            // unless it is stuck inside write(2) (a hung filesystem, an unread FIFO). The
            // close stays bounded: a writer still stuck after a short grace is left to
            // exit by itself when its write returns (it owns everything it uses).
            let grace = Duration::from_millis(200);
            let bounded = result.is_err();
            while bounded && !h.is_finished() && start.elapsed() < timeout + grace {
                std::thread::sleep(Duration::from_millis(5));
            }
            if (!bounded || h.is_finished()) && h.join().is_err() {
                self.shared.stats.add(Counter::panics, 1);
            }
        }
        result
    }

    /// Is this a forked child's logger whose pipeline is not built yet (see `child`)?
    fn unbuilt_child(&self) -> bool {
        self.state.load(Ordering::Acquire) == FORKED
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> StatsSnapshot {
        match self.pipe.get() {
            Some(p) => p.port.stats(),
            None => self.shared.stats.snapshot(|| 0),
        }
    }

    /// The console (see [`console`]): `help`, `reopen logs`, `stats` (also as
    /// `KIND:NAME <command>`). Returns the reply text, or an error with a reply text.
    pub fn console(&self, command: &str) -> Result<String, (Error, String)> {
        let reply = match self.running() {
            Ok(p) => console::run(
                &[console::Logger {
                    kind: self.kind.name(),
                    name: &self.name,
                    port: &p.port,
                }],
                command,
                None,
            ),
            Err(_) => console::run(&[], command, None),
        };
        match reply.error {
            None => Ok(reply.text),
            Some(e) => {
                self.set_last_error(&format!("{} '{}': {e}", self.kind, self.name));
                Err((e, reply.text))
            }
        }
    }
}
