//! The pipeline behind one logger: the counters ([`stats`](crate::pipeline::stats)), the options every kind has
//! ([`settings`](crate::pipeline::settings)), the recycled event boxes ([`pool`](crate::pipeline::pool)) and the writer thread ([`writer`](crate::pipeline::writer)),
//! with the messages that travel to it and the [`Port`](crate::pipeline::Port) through which the control side
//! asks it for something.

pub mod pool;
pub mod settings;
pub mod stats;
pub mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, SendTimeoutError, Sender, bounded};

use crate::error::Error;
use crate::event::Event;
use stats::{Shared, StatsSnapshot};

/// What travels through the channel.
pub enum Msg {
    /// An event to format and write.
    Event(Box<Event>),
    /// A control request, answered through its sender.
    Control(Control),
}

/// Control requests, ordered with the events queued before them.
pub enum Control {
    /// Reopen every file by name.
    Reopen(Sender<Result<(), Error>>),
    /// Write out everything queued so far.
    Flush(Sender<Result<(), Error>>),
    /// Write out, fsync, and exit.
    Shutdown(Sender<Result<(), Error>>),
}

/// Longest wait between two looks at a `stop` flag while a request waits.
const STOP_POLL: Duration = Duration::from_millis(100);

/// The control side's way to a running writer: its channel, its thread, the state shared
/// with it, and the bound of a request (`close_timeout`). Holds no lock.
#[derive(Clone)]
pub struct Port {
    /// The channel (requests travel with the events).
    pub tx: Sender<Msg>,
    /// The writer thread, to wake it.
    pub thread: Thread,
    /// Counters and flags.
    pub shared: Arc<Shared>,
    /// Bound of a request.
    pub timeout: Duration,
}

impl Port {
    /// Unparks the writer if it sleeps (or always, when `force`).
    #[inline]
    pub fn wake(&self, force: bool) {
        fence(Ordering::SeqCst);
        if force || self.shared.parked.load(Ordering::Relaxed) {
            self.shared.parked.store(false, Ordering::Relaxed);
            self.thread.unpark();
        }
    }

    /// A copy of the counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot(|| self.tx.len() as u64)
    }

    /// Queues the request `make` builds and waits for its answer, both within the port's
    /// timeout; a wait ends early once `stop` is set (a control socket closing).
    pub fn request<T>(
        &self,
        make: impl FnOnce(Sender<T>) -> Control,
        stop: Option<&AtomicBool>,
    ) -> Result<T, Error> {
        let timeout = self.timeout;
        let deadline = Instant::now() + timeout;
        let stopped = || stop.is_some_and(|s| s.load(Ordering::SeqCst));
        let closing = || Error::TimedOut("the control socket is closing".into());
        let poll = if stop.is_some() { STOP_POLL } else { timeout };
        let (ack_tx, ack_rx) = bounded(1);
        let mut msg = Msg::Control(make(ack_tx));
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let stats = &self.shared.stats;
            match stats.send_request(|| self.tx.send_timeout(msg, left.min(poll))) {
                Ok(()) => break,
                Err(SendTimeoutError::Disconnected(_)) => {
                    return Err(Error::Failed("the writer thread is gone".into()));
                }
                Err(SendTimeoutError::Timeout(m)) => {
                    if stopped() {
                        return Err(closing());
                    }
                    if Instant::now() >= deadline {
                        return Err(Error::TimedOut(format!(
                            "the queue stayed full for {timeout:?}"
                        )));
                    }
                    msg = m;
                }
            }
        }
        self.wake(true);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ack_rx.recv_timeout(left.min(poll)) {
                Ok(r) => return Ok(r),
                Err(RecvTimeoutError::Timeout) if stopped() => return Err(closing()),
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => {
                    return Err(Error::TimedOut(format!(
                        "the writer did not answer within {timeout:?}"
                    )));
                }
            }
        }
    }

    /// Asks the writer to reopen its files by name and waits for it. A writer retrying a
    /// failed write reopens at once (see [`Shared::reopen_asked`]).
    pub fn reopen(&self, stop: Option<&AtomicBool>) -> Result<(), Error> {
        self.shared.reopen_asked.store(true, Ordering::Relaxed);
        self.wake(true);
        self.request(Control::Reopen, stop).and_then(|r| r)
    }
}
