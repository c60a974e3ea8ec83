//! The counters of a logger, declared once in [`for_each_counter!`](crate::for_each_counter): the atomic
//! counts that the producers and the writer update ([`Stats`]), the copy that callers read
//! ([`StatsSnapshot`]), the console's `stats` reply ([`StatsSnapshot::lines`](crate::pipeline::stats::StatsSnapshot::lines)) and the C
//! `struct mtalog_stats` (generated into the header by build.rs from the same list, and
//! into `ffi` by [`for_each_counter!`](crate::for_each_counter)) all follow it. The order
//! is the C struct's: a new counter is only ever appended.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};

use crate::event::{KIND_COUNT, Kind};
use crate::sync::ForkMutex;

/// Calls `$m! { ... }` with the list of counters (doc comments, then the name), in the
/// order of the C struct. This list is the one declaration of the counters; build.rs
/// reads it to write the C struct.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_counter {
    ($m:ident) => {
        $m! {
            /// Events accepted onto the queue (written, queued, or lost at close).
            accepted,
            /// Events whose lines are in their files.
            written,
            /// Events dropped (queue full in `overflow = drop`, `block_timeout` expired, or
            /// not written at a timed-out close).
            dropped,
            /// Bytes written.
            bytes_written,
            /// Write faults (a fault that lasts over retries counts once).
            write_errors,
            /// Events on the queue now.
            queue_depth,
            /// Reopens done.
            reopens,
            /// Dropped receptions.
            dropped_reception,
            /// Dropped attempts.
            dropped_attempt,
            /// Dropped transient failures.
            dropped_transient_failure,
            /// Dropped permanent failures.
            dropped_permanent_failure,
            /// Dropped deliveries.
            dropped_delivery,
            /// Dropped rejections.
            dropped_rejection,
            /// Dropped errors.
            dropped_error,
            /// Dropped acctlog records.
            dropped_acct,
            /// Dropped importlog records.
            dropped_import,
            /// Bad calls from the host (NULL message, bad `note_len`, calls before
            /// `log_init` or after `log_close`, ...).
            input_errors,
            /// Events not logged because their `log_*` option is off.
            filtered,
            /// Values cut at `max_field`, or texts at `MTALOG_TEXT_MAX`.
            truncated,
            /// Built-in rotations done.
            rotations,
            /// Internal errors caught.
            panics,
            /// Byte sequences that were not UTF-8, written as U+FFFD (json_logger).
            invalid_utf8,
            /// Messages sent again to a syslog receiver after a connection broke (RELP:
            /// those not acknowledged; TCP/TLS: those the receiver's host had not
            /// acknowledged). The receiver may hold them twice.
            resent,
        }
    };
}

macro_rules! counters {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// One counter of [`StatsSnapshot`], by its name in the C struct.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Counter {
            $($(#[doc = $doc])* $name,)*
        }

        impl Counter {
            /// Every counter, in the order of the C struct.
            pub const ALL: &'static [Counter] = &[$(Counter::$name,)*];

            /// The counter's name (the C member, the console's label).
            pub fn name(self) -> &'static str {
                match self {
                    $(Counter::$name => stringify!($name),)*
                }
            }
        }

        /// A consistent copy of the counters (see [`Stats::snapshot`]): `written <=
        /// accepted` always, and `written + dropped <= accepted` while no event was dropped
        /// before it was accepted (`overflow = drop`, `block_timeout`).
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct StatsSnapshot {
            $($(#[doc = $doc])* pub $name: u64,)*
        }

        impl StatsSnapshot {
            /// The value of `c`.
            pub fn get(&self, c: Counter) -> u64 {
                match c {
                    $(Counter::$name => self.$name,)*
                }
            }

            fn from_values(v: &[u64; COUNTER_COUNT]) -> StatsSnapshot {
                StatsSnapshot {
                    $($name: v[Counter::$name as usize],)*
                }
            }
        }
    };
}

for_each_counter!(counters);

/// Number of counters.
pub const COUNTER_COUNT: usize = Counter::ALL.len();

// The per-kind drop counters follow `Kind::ALL`, in one run.
const _: () = assert!(
    Counter::dropped_import as usize - Counter::dropped_reception as usize + 1 == KIND_COUNT
);

impl StatsSnapshot {
    /// The console's `stats` reply: every counter, `name: value` per line.
    pub fn lines(&self) -> String {
        let mut out = String::new();
        for &c in Counter::ALL {
            out.push_str(c.name());
            out.push_str(": ");
            out.push_str(&self.get(c).to_string());
            out.push('\n');
        }
        out
    }
}

/// The counts, updated with relaxed atomics. Producers touch only the drop, filter and
/// input-error counts (rare paths); the hot path updates nothing shared but the channel.
#[derive(Debug, Default)]
pub struct Stats {
    /// Indexed by [`Counter`]; `accepted`, `dropped` and `queue_depth` are computed by
    /// [`Stats::snapshot`] instead.
    counts: [AtomicU64; COUNTER_COUNT],
    /// Events taken off the queue by the writer, counted after their boxes went back to
    /// the pool (producers waiting for a box poll it).
    pub dequeued: AtomicU64,
    /// Events and requests taken off the queue, counted as they are taken.
    pub taken: TakenSeq,
    /// Requests (reopen, flush, close) put on the queue.
    pub requests_sent: AtomicU64,
}

impl Stats {
    /// The count of `c`.
    #[inline]
    pub fn counter(&self, c: Counter) -> &AtomicU64 {
        &self.counts[c as usize]
    }

    /// Adds `n` to `c`. (Release: a snapshot that sees the count also sees what was done
    /// before it, e.g. the event taken off the queue before it was written.)
    #[inline]
    pub fn add(&self, c: Counter, n: u64) {
        self.counts[c as usize].fetch_add(n, Ordering::Release);
    }

    /// Counts `n` events of `kind` dropped by the writer after it took them off the queue
    /// (it gave up on them). See [`Stats::add`].
    #[inline]
    pub fn drop_taken(&self, kind: Kind, n: u64) {
        self.dropped(kind).fetch_add(n, Ordering::Release);
    }

    /// The drop count of events of `kind`.
    #[inline]
    pub fn dropped(&self, kind: Kind) -> &AtomicU64 {
        &self.counts[Counter::dropped_reception as usize + kind.index()]
    }

    /// Sets every counter to zero (a forked child counts its own events).
    pub(crate) fn reset(&self) {
        let t = &self.taken;
        for c in self.counts.iter().chain([
            &self.dequeued,
            &self.requests_sent,
            &t.seq,
            &t.events,
            &t.requests,
        ]) {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Queues a request for the writer with `send`, counting it once it is on the queue.
    pub(crate) fn send_request<E>(&self, send: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        send()?;
        self.requests_sent.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// The events accepted so far and the events queued now, from the queue's length
    /// (`len`) read at a moment between two of the writer's receives, less the requests
    /// that wait there. Exact when no producer is inside a hook and no request is being
    /// queued: a message moving from the queue to the writer is never counted twice or
    /// missed.
    pub fn accepted(&self, len: impl Fn() -> u64) -> (u64, u64) {
        let t = &self.taken;
        let mut spins = 0u32;
        loop {
            let before = t.seq.load(Ordering::Acquire);
            if before & 1 == 0 {
                let events = t.events.load(Ordering::Relaxed);
                let taken = t.requests.load(Ordering::Relaxed);
                let queued = len();
                let requests = self
                    .requests_sent
                    .load(Ordering::SeqCst)
                    .saturating_sub(taken)
                    .min(queued);
                fence(Ordering::Acquire);
                if t.seq.load(Ordering::Relaxed) == before {
                    let depth = queued - requests;
                    return (events + depth, depth);
                }
            }
            spins += 1;
            if spins % 64 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// A copy of the counters; `len` reads the queue's length.
    ///
    /// Consistent: an event is accepted before it is written or dropped by the writer, and
    /// those counts are read before the accepted count (each with Acquire, against the
    /// writer's Release), so a snapshot never shows more events written, or dropped after
    /// being accepted, than accepted. (Events dropped by a hook were never accepted.)
    pub fn snapshot(&self, len: impl Fn() -> u64) -> StatsSnapshot {
        let mut v: [u64; COUNTER_COUNT] =
            std::array::from_fn(|i| self.counts[i].load(Ordering::Acquire));
        let (accepted, depth) = self.accepted(len);
        let first = Counter::dropped_reception as usize;
        v[Counter::dropped as usize] = v[first..first + KIND_COUNT].iter().sum();
        v[Counter::accepted as usize] = accepted;
        v[Counter::queue_depth as usize] = depth;
        StatsSnapshot::from_values(&v)
    }
}

/// What the writer has taken off the queue, read with the queue's length to count the
/// events accepted and queued ([`Stats::accepted`]). Kept on a cache line of its own,
/// away from the counters that waiting producers poll.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct TakenSeq {
    /// Odd while the writer is taking a message off the queue; a new even value after
    /// each try. Plain stores, like the two counts: the writer is their only writer.
    pub(crate) seq: AtomicU64,
    /// Events taken, stored while `seq` is odd.
    pub(crate) events: AtomicU64,
    /// Requests (reopen, flush, close) taken, stored while `seq` is odd.
    pub(crate) requests: AtomicU64,
}

/// State shared by the producers, the control side and the writer.
#[derive(Debug, Default)]
pub struct Shared {
    /// Counters.
    pub stats: Stats,
    /// The writer is asleep and wants an unpark for new work.
    pub parked: AtomicBool,
    /// Control side gave up waiting: the writer stops retrying and exits.
    pub abort: AtomicBool,
    /// A reopen was asked for (`log_reopen`, the console): a writer retrying a failed write
    /// reopens at once, without waiting for the request's turn in the queue, which the
    /// fault holds up (the old file may be what fails).
    pub reopen_asked: AtomicBool,
    /// The writer thread failed (panicked).
    pub failed: AtomicBool,
    /// A problem the writer met on its own (a rotation that failed), for `last_error`.
    pub writer_error: ForkMutex<Option<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_per_kind_drop_counters_follow_the_kinds() {
        for k in Kind::ALL {
            let c = Counter::ALL[Counter::dropped_reception as usize + k.index()];
            assert_eq!(c.name(), format!("dropped_{}", k.name()));
        }
    }

    #[test]
    fn the_stats_reply_names_every_counter_once() {
        let s = Stats::default();
        for (i, &c) in Counter::ALL.iter().enumerate() {
            s.counter(c).store(i as u64 + 1, Ordering::Relaxed);
        }
        let text = s.snapshot(|| 0).lines();
        let names: Vec<&str> = text.lines().map(|l| l.split(':').next().unwrap()).collect();
        let want: Vec<&str> = Counter::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, want);
        assert!(text.contains("\nfiltered: 18\ntruncated: 19\nrotations: 20\npanics: 21\n"));
        // dropped is the sum of the kinds (8 + 9 + ... + 16).
        assert!(text.contains("\ndropped: 108\n"), "{text}");
    }
}
