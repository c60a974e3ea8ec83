//! The writer's side of the destinations that are not files ([`Syslog`]): which targets
//! go to them, the severity and time of each event's lines (a syslog message carries
//! them; a file line does not need them), and the writes, which get the writer's retry,
//! back-off and counters like a file's.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::event::{Event, Field, Timestamp};
use crate::file::syslog::Syslog;
use crate::file::syslog::message::{self, Meta};
use crate::format::{Level, Out, TARGET_COUNT, Target};
use crate::pipeline::stats::{Counter, Shared, Stats};

/// A logger's syslog destinations, with the marks of the lines waiting for them.
#[derive(Debug, Default)]
pub struct Destinations {
    list: Vec<Syslog>,
    route: [Option<usize>; TARGET_COUNT],
    /// Per target: the end offset in its buffer of each event's lines, and their meta.
    marks: [Vec<(usize, Meta)>; TARGET_COUNT],
    /// Per target: bytes of its lines that a destination took and may not have sent yet
    /// (at most those taken since the destination last had nothing waiting).
    held: [usize; TARGET_COUNT],
    /// Level of a `log_error` text without a prefix.
    default_level: Option<Level>,
}

impl Destinations {
    /// Destinations and the targets each receives (a destination named by several file
    /// options of one logger is one connection).
    pub fn new(list: Vec<(Vec<Target>, Syslog)>, default_level: Level) -> Destinations {
        let mut d = Destinations {
            default_level: Some(default_level),
            ..Destinations::default()
        };
        for (i, (targets, s)) in list.into_iter().enumerate() {
            for t in targets {
                d.route[t as usize] = Some(i);
            }
            d.list.push(s);
        }
        d
    }

    /// No destination (every target is a file).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Does `t` go to a destination here?
    pub(super) fn routes(&self, t: Target) -> bool {
        self.route[t as usize].is_some()
    }

    /// Records the meta of the lines `ev` added to `out` (the buffers' lengths were
    /// `before`).
    pub(super) fn mark_event(&mut self, before: &[usize; TARGET_COUNT], out: &Out, ev: &Event) {
        let level = self.default_level.unwrap_or(Level::Error);
        let meta = Meta {
            severity: message::event_severity(ev.kind, ev.get(Field::Note), level),
            time: ev.time,
        };
        self.mark(before, out, meta);
    }

    /// Records the meta of lines the writer made of its own at `time` (heartbeats): `info`.
    pub(super) fn mark_own(&mut self, before: &[usize; TARGET_COUNT], out: &Out, time: Timestamp) {
        self.mark(before, out, Meta::info(time));
    }

    /// Records `meta` for the lines added to `out` since the buffers' lengths were `before`.
    pub(super) fn mark(&mut self, before: &[usize; TARGET_COUNT], out: &Out, meta: Meta) {
        for t in Target::ALL {
            let (i, len) = (t as usize, out.bufs[t as usize].len());
            if self.route[i].is_some() && len > before[i] {
                self.marks[i].push((len, meta));
            }
        }
    }

    /// Forgets the marks (the buffers were cleared).
    pub(super) fn clear(&mut self) {
        for m in &mut self.marks {
            m.clear();
        }
    }

    /// Writes `buf` (the lines of `t`) to its destination, taking what was written off
    /// `buf` and counting its bytes; stops at the first error.
    pub(super) fn write(
        &mut self,
        t: Target,
        buf: &mut Vec<u8>,
        give_up: &dyn Fn() -> bool,
        stats: &Stats,
    ) -> Result<(), (String, io::Error)> {
        let Some(i) = self.route[t as usize] else {
            return Ok(());
        };
        let marks = &mut self.marks[t as usize];
        marks.retain(|m| m.0 <= buf.len());
        let d = &mut self.list[i];
        let mut result = Ok(());
        while !buf.is_empty() {
            let r = d.write(t, buf, marks, give_up);
            stats.add(Counter::resent, d.take_resent());
            match r {
                Ok(0) => break,
                Ok(n) => {
                    stats.add(Counter::bytes_written, n as u64);
                    self.held[t as usize] += n;
                    buf.drain(..n);
                    marks.retain_mut(|m| {
                        m.0 = m.0.saturating_sub(n);
                        m.0 > 0
                    });
                }
                Err(e) => {
                    result = Err((d.name().to_owned(), e));
                    break;
                }
            }
        }
        self.settle();
        result
    }

    /// Bytes of `t`'s lines that its destination took and may not have sent yet: the
    /// writer does not count their events as written until they are sent.
    pub(super) fn held(&self, t: Target) -> usize {
        self.held[t as usize]
    }

    /// Forgets what was held for the targets of the destinations that have sent
    /// everything they took.
    fn settle(&mut self) {
        for t in Target::ALL {
            if let Some(i) = self.route[t as usize] {
                if !self.list[i].pending() {
                    self.held[t as usize] = 0;
                }
            }
        }
    }

    /// Sends what the destinations took and have not sent yet (a fault shows at once).
    pub(super) fn finish_pending(
        &mut self,
        give_up: &dyn Fn() -> bool,
        stats: &Stats,
        result: &mut Result<(), (String, io::Error)>,
    ) {
        for d in &mut self.list {
            if d.pending() {
                let r = d.write(Target::Main, &[], &[], give_up);
                stats.add(Counter::resent, d.take_resent());
                if let (Err(e), true) = (r, result.is_ok()) {
                    *result = Err((d.name().to_owned(), e));
                }
            }
        }
        self.settle();
    }

    /// Sends everything taken and waits for the acknowledgements of the destinations that
    /// have them (a flush, a close); stops at the first error.
    pub(super) fn drain(
        &mut self,
        give_up: &dyn Fn() -> bool,
        stats: &Stats,
    ) -> Result<(), (String, io::Error)> {
        let mut result = Ok(());
        for d in &mut self.list {
            let r = d.drain(give_up);
            stats.add(Counter::resent, d.take_resent());
            if let Err(e) = r {
                result = Err((d.name().to_owned(), e));
                break;
            }
        }
        self.settle();
        result
    }

    /// Reconnects every destination (`reopen logs`); the failures, as texts.
    pub(super) fn reconnect(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        for d in &mut self.list {
            if let Err(e) = d.reconnect() {
                errors.push(format!(
                    "reconnect to {} failed: {e}; its messages wait and are retried",
                    d.name()
                ));
            }
        }
        errors
    }

    /// Problems the destinations met, to report.
    pub(super) fn take_problems(&mut self) -> Vec<String> {
        self.list
            .iter_mut()
            .flat_map(Syslog::take_problems)
            .collect()
    }
}

/// The give-up test of a writer: the control side gave up (a close timed out).
pub(super) fn abort_flag(shared: &Arc<Shared>) -> impl Fn() -> bool + use<> {
    let shared = Arc::clone(shared);
    move || shared.abort.load(Ordering::Relaxed)
}
