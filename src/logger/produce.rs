//! The producer side, run on the MTA's threads: take a recycled event box from the pool,
//! fill it, queue it. No formatting, I/O, locks or (in the steady state) allocation; the one
//! exception is a logger's first hook in a forked child, which starts its pipeline
//! (`child`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::TrySendError;

use super::{Core, FORKED, Pipeline, RUNNING};
use crate::config::Overflow;
use crate::event::{Event, Field, Kind, Timestamp, thread_token};
use crate::pipeline::Msg;
use crate::pipeline::pool;
use crate::pipeline::settings::{DEFAULT_MAX_FIELD, Settings};
use crate::pipeline::stats::Counter;

/// How long a producer retries on a full queue (block mode) before it sleeps.
const FULL_RETRY: Duration = Duration::from_millis(2);
/// Longest sleep between retries of a producer that waits longer than [`FULL_RETRY`].
const FULL_SLEEP_MAX: Duration = Duration::from_millis(1);

impl Core {
    /// Starts an event of `kind`: `None` when the logger is not running (counted as an
    /// input error) or the kind is filtered out. The box comes from the pool; in block
    /// mode an empty pool is waited on while the writer moves (see
    /// [`Pool::take`](crate::pipeline::pool::Pool::take)).
    #[inline]
    pub fn begin(&self, kind: Kind) -> Option<Box<Event>> {
        self.begin_if(kind, |s| s.filters[kind.index()])
    }

    /// [`Core::begin`] with another filter than the kind's: `wanted` reads the settings
    /// (`mtalog_bounce_log` asks for `bounces`, not for the permanent failures' filter).
    #[inline]
    pub fn begin_if(
        &self,
        kind: Kind,
        wanted: impl FnOnce(&Settings) -> bool,
    ) -> Option<Box<Event>> {
        let state = self.state.load(Ordering::Acquire);
        if state != RUNNING && (state != FORKED || self.resume().is_err()) {
            // (A forked child's logger that could not start keeps its reason: `refuse`.)
            self.refused_not_running(kind);
            return None;
        }
        let p = self.pipe.get()?;
        if !wanted(&p.settings) {
            self.shared.stats.add(Counter::filtered, 1);
            return None;
        }
        let (mut ev, waited_us) = p
            .pool
            .take(&self.shared.stats.dequeued, || p.port.wake(true));
        ev.prefetch_for_write();
        ev.reset(kind);
        ev.waited_us = waited_us;
        ev.thread = thread_token();
        Some(ev)
    }

    /// The bound for fields of events (`max_field`).
    #[inline]
    pub fn max_field(&self) -> usize {
        self.pipe
            .get()
            .map_or(DEFAULT_MAX_FIELD, |p| p.settings.max_field)
    }

    /// Queues a filled event. Follows the overflow policy; never formats or does I/O.
    /// Returns whether the event was queued (a drop is counted).
    #[inline]
    pub fn submit(&self, ev: Box<Event>) -> bool {
        let Some(p) = self.pipe.get() else {
            self.refused_not_running(ev.kind);
            return false;
        };
        let kind = ev.kind;
        let waited = Duration::from_micros(ev.waited_us.into());
        let r = match p.port.tx.try_send(Msg::Event(ev)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(m)) if p.settings.overflow == Overflow::Block => {
                p.port.wake(true);
                send_full(p, m, waited)
            }
            Err(TrySendError::Full(m) | TrySendError::Disconnected(m)) => Err(m),
        };
        p.port.wake(false);
        match r {
            Ok(()) => true,
            Err(m) => {
                // The box goes back to the pool, which counts the boxes in circulation.
                if let Msg::Event(ev) = m {
                    p.pool.put_back(ev);
                }
                self.shared
                    .stats
                    .dropped(kind)
                    .fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// A bad call from the host: counted in `input_errors`, and `why` is kept for
    /// `mtalog_last_error` (a rare path: the text is made only when a call is refused).
    pub fn input_error(&self, why: &str) {
        self.shared.stats.add(Counter::input_errors, 1);
        self.set_last_error(&format!("{} '{}': {why}", self.kind, self.name));
    }

    /// A hook called while the logger is not running.
    #[cold]
    fn refused_not_running(&self, kind: Kind) {
        self.refuse(&format!(
            "a {} event was refused: the hook was called",
            kind.name()
        ));
    }

    /// A call refused because the logger is not running: counted in `input_errors`, and
    /// said for `mtalog_last_error` as `what` then `before log_init` or `after log_close`;
    /// in a forked child whose logger could not restart, the reason it gave stays.
    #[cold]
    pub fn refuse(&self, what: &str) {
        if self.closed_at_fork.load(Ordering::Relaxed) {
            self.shared.stats.add(Counter::input_errors, 1);
            return;
        }
        let when = match self.state.load(Ordering::Acquire) {
            super::NEW => "before log_init",
            _ => "after log_close",
        };
        self.input_error(&format!("{what} {when}"));
    }

    /// A panic caught at the C boundary: counted, kept for `mtalog_last_error`, and written
    /// to the paniclog as a `critical:` line while the logger runs.
    pub fn internal_error(&self, msg: &str) {
        self.shared.stats.add(Counter::panics, 1);
        self.set_last_error(msg);
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let Ok(p) = self.running() else { return };
            let mut ev = p.pool.take_now();
            ev.reset(Kind::Error);
            ev.thread = thread_token();
            ev.time = Timestamp::now();
            let text = format!("critical: mtalog: {msg}");
            ev.push(Field::Note, text.as_bytes(), usize::MAX);
            self.submit(ev);
        }));
    }
}

/// Block mode, queue full: retries with a growing spin, then yielding, for up to
/// [`FULL_RETRY`]; the writer frees a slot every few hundred nanoseconds under load, so the
/// wait is short and even, and the writer never has to wake anyone. A longer stall (a
/// write fault) sleeps between retries, from 50 µs up to [`FULL_SLEEP_MAX`], bounded by
/// `block_timeout`. (Not the channel's blocking send: its first wait on a thread
/// allocates, and nothing on the producer side allocates in the steady state.)
#[cold]
fn send_full(p: &Pipeline, mut m: Msg, waited: Duration) -> Result<(), Msg> {
    let start = Instant::now();
    // What is left of `block_timeout` after the wait for the event's box.
    let timeout = p.settings.block_timeout.map(|t| t.saturating_sub(waited));
    let mut step = 0u32;
    loop {
        pool::pause(step);
        step += 1;
        match p.port.tx.try_send(m) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(back)) => m = back,
            Err(TrySendError::Disconnected(back)) => return Err(back),
        }
        let retry = timeout.map_or(FULL_RETRY, |t| t.min(FULL_RETRY));
        if step % 16 == 0 && start.elapsed() >= retry {
            break;
        }
    }
    let mut nap = Duration::from_micros(50);
    loop {
        let waited = start.elapsed();
        let nap_now = match timeout {
            Some(t) if waited >= t => return Err(m),
            Some(t) => nap.min(t - waited),
            None => nap,
        };
        std::thread::sleep(nap_now);
        nap = (nap * 2).min(FULL_SLEEP_MAX);
        match p.port.tx.try_send(m) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(back)) => m = back,
            Err(TrySendError::Disconnected(back)) => return Err(back),
        }
    }
}
