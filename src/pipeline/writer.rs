//! The writer thread: drains the channel in batches, formats into per-file buffers, writes
//! them in large blocks, and answers control messages in order with the events.
//!
//! Idle strategy: after the queue runs empty the writer writes what it has, then polls with
//! short sleeps for a while (producers wake nobody during bursts), and only then parks with
//! the `parked` flag set, so that the first event after a long quiet spell pays one unpark.
//!
//! Faults: a failed write keeps the bytes and is retried with back-off; while it lasts the
//! writer takes nothing off the queue, so the overflow policy applies to the producers. The
//! fault is reported once to the paniclog and the stats, and once more when it clears.
//! An event counts as written once all its lines are in their files (`writer/ledger.rs`);
//! when the writer gives up (a close that timed out), the rest count as dropped, and a line
//! that a short write cut is cut off the file again, so that no file ends in part of a line.
//!
//! Rotation: files rotate inside their writes (between whole lines) and, when due by time,
//! from the timers after everything buffered was written; compression and removal of old
//! files run on a helper thread ([`Helper`]) started at the first
//! such job. Problems are
//! reported to the paniclog and to `mtalog_last_error`; logging goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{Ordering, fence};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};

use super::pool::{IdleLook, Pool};
use super::settings::Settings;
use super::stats::{Counter, Shared};
use super::{Control, Msg};
use crate::config::Fsync;
use crate::error::{Error, errno_of};
use crate::event::{Event, Field, Kind, Timestamp};
use crate::file::rotate::{self, Helper};
use crate::file::{RotateCtx, SharedFile};
use crate::format::{Formatter, Out, TARGET_COUNT, Target};
pub use destinations::Destinations;
use destinations::abort_flag;
use ledger::Ledger;
use rotation::sweep_job;

/// Size at which a buffer is written out even when more events are waiting.
pub const WRITE_CHUNK: usize = 64 * 1024;
/// Messages handled between timer checks.
const BATCH: usize = 1024;
/// Events taken off the queue before they are formatted (see `Writer::events`), and whose
/// boxes then go back together. (8 ran about 5% slower; 32 a little faster still, with
/// twice the longest waits of a producer that outruns the writer.)
const AHEAD: usize = 16;
/// How long the writer polls after the last event before it parks.
const POLL_PHASE: Duration = Duration::from_millis(20);
/// How often old files are checked against `max_age` and `min_free_disk` between
/// rotations (and rotated files left uncompressed are compressed).
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// How often an idle writer looks whether another process rotated its files.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

/// Writes the rest of a line that a short write left in any of `files` (see
/// `SharedFile::write`); the first failure goes to `result`.
fn finish_pending(
    files: &[(Target, Arc<SharedFile>)],
    result: &mut Result<(), (String, std::io::Error)>,
) {
    for (_, f) in files {
        if f.has_pending() {
            if let Err(e) = f.write(&[]) {
                if result.is_ok() {
                    *result = Err((f.path().display().to_string(), e));
                }
            }
        }
    }
}

/// The writer's state (owned by its thread).
pub struct Writer {
    rx: Receiver<Msg>,
    pool: Arc<Pool>,
    /// Events taken off the queue, published to `stats.dequeued` with a plain store: this
    /// thread is the counter's only writer (a forked child starts a new writer and resets
    /// the counters).
    dequeued: u64,
    /// Events taken off the queue (`stats.taken.events`).
    taken: u64,
    /// Requests taken off the queue (`stats.taken.requests`).
    requests_taken: u64,
    /// Tries to take a message (`stats.taken.seq`).
    receives: u64,
    /// The last idle look at the boxes (`Pool::recount`).
    idle_look: Option<IdleLook>,
    shared: Arc<Shared>,
    settings: Arc<Settings>,
    formatter: Box<dyn Formatter>,
    files: Vec<(Target, Arc<SharedFile>)>,
    route: [Option<usize>; TARGET_COUNT],
    out: Out,
    /// The events formatted and not yet wholly in their files.
    ledger: Ledger,
    fault: Option<String>,
    /// The last fsync failure reported (reported again only when it changes).
    sync_fault: Option<String>,
    /// A reopen is writing out first (its retries reopen a moved file).
    in_reopen: bool,
    reported_drops: u64,
    format_failure_reported: bool,
    last_flush: Instant,
    last_sync: Instant,
    last_rename_check: Instant,
    /// The last look at whether another process rotated a file (see `SharedFile::follow`).
    last_follow: Instant,
    next_heartbeat: Option<Instant>,
    synced: bool,
    helper: Option<Helper>,
    rotation_problems: Vec<String>,
    last_sweep: Instant,
    /// Targets that go to syslog destinations instead of files.
    dests: Destinations,
}

impl Writer {
    /// Builds the writer; `files` are already open.
    pub fn new(
        rx: Receiver<Msg>,
        pool: Arc<Pool>,
        shared: Arc<Shared>,
        settings: Arc<Settings>,
        formatter: Box<dyn Formatter>,
        files: Vec<(Target, Arc<SharedFile>)>,
    ) -> Writer {
        let mut route = [None; TARGET_COUNT];
        for (i, (t, _)) in files.iter().enumerate() {
            route[*t as usize] = Some(i);
        }
        let now = Instant::now();
        for (_, f) in &files {
            if settings.fsync != Fsync::None {
                f.sync_before_rotation();
            }
        }
        let mut w = Writer {
            rx,
            pool,
            dequeued: 0,
            taken: 0,
            requests_taken: 0,
            receives: 0,
            idle_look: None,
            next_heartbeat: settings.heartbeat.map(|h| now + h),
            shared,
            settings,
            formatter,
            files,
            route,
            out: Out::default(),
            ledger: Ledger::default(),
            fault: None,
            sync_fault: None,
            in_reopen: false,
            reported_drops: 0,
            format_failure_reported: false,
            last_flush: now,
            last_sync: now,
            last_rename_check: now,
            last_follow: now,
            synced: true,
            helper: None,
            rotation_problems: Vec::new(),
            last_sweep: now,
            dests: Destinations::default(),
        };
        for i in 0..w.files.len() {
            let f = Arc::clone(&w.files[i].1);
            if f.take_startup_work() {
                w.job(sweep_job(&f, true));
            }
        }
        w
    }

    /// Sends the targets `dests` routes to them instead of to files.
    pub fn with_destinations(mut self, dests: Destinations) -> Writer {
        self.dests = dests;
        self
    }

    /// The thread body: the loop inside a panic guard. A panic marks the logger failed and
    /// drops the receiver, so producers see a closed channel (counted as drops) instead of
    /// blocking forever.
    pub fn run(mut self) {
        let r = catch_unwind(AssertUnwindSafe(|| self.run_loop()));
        if r.is_err() {
            self.shared.failed.store(true, Ordering::SeqCst);
            self.shared.stats.add(Counter::panics, 1);
            let mut ev = Event::new(Kind::Error);
            ev.time = Timestamp::now();
            ev.push(
                Field::Note,
                b"critical: mtalog: the writer thread failed; this logger stopped writing",
                usize::MAX,
            );
            self.give_up_buffered();
            self.formatter.format(&ev, &mut self.out);
            let _ = self.try_write_all();
            self.give_up_buffered();
        }
    }

    fn run_loop(&mut self) {
        self.headers();
        let mut last_event = Instant::now();
        let mut poll = Duration::from_micros(50);
        let mut ahead: Vec<Box<Event>> = Vec::with_capacity(AHEAD);
        loop {
            let mut n = 0;
            while n < BATCH {
                match self.recv() {
                    Ok(Msg::Event(ev)) => {
                        n += 1;
                        ahead.push(ev);
                        if ahead.len() == AHEAD {
                            self.events(&mut ahead);
                        }
                    }
                    Ok(Msg::Control(c)) => {
                        n += 1;
                        self.events(&mut ahead);
                        if self.control(c) {
                            return;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        // Every producer is gone (the logger was dropped without close).
                        self.events(&mut ahead);
                        self.write_out();
                        self.finish_helper();
                        self.write_out();
                        if self.sync_all().is_err() {
                            self.write_out();
                        }
                        return;
                    }
                }
            }
            self.events(&mut ahead);
            if self.shared.abort.load(Ordering::Relaxed) {
                self.abandon();
                return;
            }
            let now = Instant::now();
            self.timers(now);
            if n > 0 {
                self.pool.top_up();
                last_event = now;
                poll = Duration::from_micros(50);
                continue;
            }
            if self.dirty() {
                self.write_out();
            }
            if now.duration_since(last_event) < POLL_PHASE {
                std::thread::park_timeout(poll);
                poll = (poll * 2).min(Duration::from_millis(1));
                continue;
            }
            self.shared.parked.store(true, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            if !self.rx.is_empty() || self.shared.abort.load(Ordering::Relaxed) {
                self.shared.parked.store(false, Ordering::Relaxed);
                continue;
            }
            self.pool.recount(&mut self.idle_look, self.taken, now);
            std::thread::park_timeout(self.sleep_budget(now));
            self.shared.parked.store(false, Ordering::Relaxed);
        }
    }

    fn sleep_budget(&self, now: Instant) -> Duration {
        let mut d = Duration::from_secs(1);
        if let Some(h) = self.next_heartbeat {
            d = d.min(h.saturating_duration_since(now));
        }
        if self.settings.fsync == Fsync::Interval && !self.synced {
            d = d.min(self.settings.flush_interval);
        }
        d.max(Duration::from_millis(1))
    }

    /// Takes the next message off the queue. `stats.taken.seq` is odd while the queue's
    /// length and the counts of messages taken may disagree, and changes with every take,
    /// so that a reader of them (`Stats::accepted`) never sees a message in both places
    /// or in neither.
    fn recv(&mut self) -> Result<Msg, TryRecvError> {
        let t = &self.shared.stats.taken;
        t.seq.store(self.receives * 2 + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        let m = self.rx.try_recv();
        match m {
            Ok(Msg::Event(_)) => {
                self.taken += 1;
                t.events.store(self.taken, Ordering::Relaxed);
            }
            Ok(Msg::Control(_)) => {
                self.requests_taken += 1;
                t.requests.store(self.requests_taken, Ordering::Relaxed);
            }
            Err(_) => {}
        }
        self.receives += 1;
        t.seq.store(self.receives * 2, Ordering::Release);
        m
    }

    fn dirty(&self) -> bool {
        self.out.bufs.iter().any(|b| !b.is_empty())
    }

    fn headers(&mut self) {
        let now = Timestamp::now();
        for i in 0..self.files.len() {
            let (t, f) = (self.files[i].0, Arc::clone(&self.files[i].1));
            if f.is_empty().unwrap_or(false) {
                self.formatter.file_header(t, now, self.out.buf(t));
            }
        }
    }

    /// Formats events taken off the queue, in order. Their memory was written by other
    /// cores: touching all of them first lets those fetches overlap instead of stalling the
    /// formatter event after event.
    #[allow(clippy::vec_box)] // the boxes go back to the pool as they are
    fn events(&mut self, ahead: &mut Vec<Box<Event>>) {
        if ahead.is_empty() {
            return;
        }
        let seen = ahead.iter().fold(0u8, |x, ev| x ^ ev.touch());
        std::hint::black_box(seen);
        for ev in ahead.iter() {
            self.event(ev);
        }
        let replaced = self.formatter.take_replaced();
        if replaced > 0 {
            self.shared.stats.add(Counter::invalid_utf8, replaced);
        }
        // The boxes go back together, after the pass: the pool's cache lines move to this
        // core once for the lot, not once per event between formatting steps. The count
        // is published after them: a hook waiting for a box polls it (`Pool::wait`).
        let first = self.dequeued;
        self.dequeued += ahead.len() as u64;
        for (i, ev) in ahead.drain(..).enumerate() {
            self.pool.give_back(ev, first + 1 + i as u64);
        }
        self.shared
            .stats
            .dequeued
            .store(self.dequeued, Ordering::Release);
        if self.out.bufs.iter().any(|b| b.len() >= WRITE_CHUNK) {
            self.write_out();
        }
    }

    fn event(&mut self, ev: &Event) {
        let kind = ev.kind;
        let lens = self.out.lens();
        let formatted = catch_unwind(AssertUnwindSafe(|| {
            self.formatter.format(ev, &mut self.out)
        }));
        if let Err(payload) = formatted {
            // One event that cannot be formatted (an internal error) is dropped and
            // counted; it never stops the logger. Its partial output is taken back.
            for (b, len) in self.out.bufs.iter_mut().zip(lens) {
                b.truncate(len);
            }
            self.format_failed(kind, payload.as_ref());
            return;
        }
        if !self.dests.is_empty() {
            self.dests.mark_event(&lens, &self.out, ev);
        }
        self.ledger.formatted(kind, self.out.lens());
    }

    fn format_failed(&mut self, kind: Kind, payload: &(dyn std::any::Any + Send)) {
        let stats = &self.shared.stats;
        stats.add(Counter::panics, 1);
        stats.drop_taken(kind, 1);
        if !self.format_failure_reported {
            self.format_failure_reported = true;
            let why = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_owned());
            self.report(
                "critical",
                &format!(
                    "internal error formatting a {} event ({why}); the event was dropped \
                     (further ones are counted in panics and dropped)",
                    kind.name()
                ),
            );
        }
    }

    /// Handles a control request; returns true when the writer must exit.
    fn control(&mut self, c: Control) -> bool {
        match c {
            Control::Flush(ack) => {
                let ok = self.write_out();
                let r = if ok {
                    self.drain()
                } else {
                    Err(self.fault_error())
                };
                let _ = ack.send(r);
                false
            }
            Control::Reopen(ack) => {
                let r = self.reopen();
                let _ = ack.send(r);
                false
            }
            Control::Shutdown(ack) => {
                let mut ok = self.write_out();
                if ok {
                    self.finish_helper();
                    ok = self.write_out();
                }
                let mut r = if ok {
                    self.drain()
                } else {
                    Err(self.fault_error())
                };
                if r.is_ok() {
                    if let Err(msg) = self.sync_all() {
                        // Written, but maybe not on disk: said in the paniclog, and to the
                        // caller.
                        self.write_out();
                        r = Err(Error::Os(libc::EIO, msg));
                    }
                }
                let _ = ack.send(r);
                if !ok {
                    self.abandon();
                }
                true
            }
        }
    }

    fn fault_error(&self) -> Error {
        Error::TimedOut(self.fault.clone().unwrap_or_else(|| "write failed".into()))
    }

    fn reopen(&mut self) -> Result<(), Error> {
        // A fault while writing out first is met by the retry loop, which reopens (this
        // reopen is counted here, once).
        self.in_reopen = true;
        let ok = self.write_out();
        self.in_reopen = false;
        if !ok {
            return Err(self.fault_error());
        }
        self.shared.reopen_asked.store(false, Ordering::Relaxed);
        self.shared.stats.add(Counter::reopens, 1);
        let r = self.reopen_files();
        for msg in self.dests.reconnect() {
            self.report("error", &msg);
        }
        r
    }

    /// Waits until the destinations that acknowledge messages (RELP) have acknowledged
    /// every one sent (the files need nothing more). A fault is met as in
    /// [`Writer::write_out`]: counted and reported once, retried with back-off (the
    /// destination reconnects) until the control side gives up.
    fn drain(&mut self) -> Result<(), Error> {
        if self.dests.is_empty() {
            return Ok(());
        }
        let give_up = abort_flag(&self.shared);
        let mut backoff = Duration::from_millis(10);
        loop {
            match self.dests.drain(&give_up, &self.shared.stats) {
                Ok(()) => break,
                Err((name, e)) => {
                    if self.fault.is_none() {
                        self.shared.stats.add(Counter::write_errors, 1);
                        let msg =
                            format!("write to {name} failed: {e}; keeping events and retrying");
                        self.fault = Some(msg.clone());
                        self.report("error", &msg);
                    }
                    if give_up() {
                        return Err(self.fault_error());
                    }
                    std::thread::park_timeout(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
        // What the destinations held is sent.
        self.count_written();
        // The reports (a fault, its end) go out now.
        if self.dirty() || self.fault.is_some() {
            self.write_out();
        }
        Ok(())
    }

    /// Reopens every file by name; a new file gets its header ahead of the lines that wait
    /// for it.
    fn reopen_files(&mut self) -> Result<(), Error> {
        let mut first_err = None;
        for i in 0..self.files.len() {
            let (t, f) = (self.files[i].0, Arc::clone(&self.files[i].1));
            match f.reopen() {
                Ok(true) => {
                    if f.is_empty().unwrap_or(false) {
                        let mut head = Vec::new();
                        self.formatter.file_header(t, Timestamp::now(), &mut head);
                        self.ledger.put_ahead(t, head.len());
                        self.out.buf(t).splice(0..0, head);
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    let msg = format!(
                        "reopen of {} failed: {e}; still writing to the old file",
                        f.path().display()
                    );
                    self.report("error", &msg);
                    if first_err.is_none() {
                        first_err = Some(Error::Os(errno_of(&e), msg));
                    }
                }
            }
        }
        match first_err {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    fn timers(&mut self, now: Instant) {
        if let (Some(at), Some(every)) = (self.next_heartbeat, self.settings.heartbeat) {
            if now >= at {
                let (lens, time) = (self.out.lens(), Timestamp::now());
                self.formatter.heartbeat(time, &mut self.out);
                if !self.dests.is_empty() {
                    // Sent as `info` of their own time, not as the event after them.
                    self.dests.mark_own(&lens, &self.out, time);
                }
                self.next_heartbeat = Some(now + every);
            }
        }
        if self.dirty() && now.duration_since(self.last_flush) >= self.settings.flush_interval {
            self.write_out();
        }
        if self.settings.fsync == Fsync::Interval
            && !self.synced
            && now.duration_since(self.last_sync) >= self.settings.flush_interval
        {
            let _ = self.sync_all();
        }
        if self.settings.reopen_on_rename
            && now.duration_since(self.last_rename_check) >= Duration::from_secs(1)
        {
            self.last_rename_check = now;
            if self.files.iter().any(|(_, f)| f.path_moved()) {
                let _ = self.reopen();
            }
        }
        if now.duration_since(self.last_follow) >= FOLLOW_INTERVAL {
            // A file another process rotated is left even while this one has nothing to
            // write, so that it can be compressed or removed.
            self.last_follow = now;
            for (_, f) in &self.files {
                self.rotation_problems.extend(f.follow());
            }
        }
        self.rotate_due(rotate::unix_now());
        if now.duration_since(self.last_sweep) >= SWEEP_INTERVAL {
            self.last_sweep = now;
            for i in 0..self.files.len() {
                let f = Arc::clone(&self.files[i].1);
                let p = f.rotation();
                let aged = p.retains() && (p.max_age.is_some() || p.min_free_disk > 0);
                // A rotated file whose compression waited for a process that exited before
                // it let go is compressed by a later sweep.
                let left = p.compress && p.has_jobs();
                if aged || left {
                    self.job(sweep_job(&f, left));
                }
            }
        }
        if let Some(h) = &self.helper {
            self.rotation_problems.extend(h.reports());
        }
        if !self.rotation_problems.is_empty() {
            self.write_out();
        }
    }

    /// fsyncs every file (unless `fsync = none`). A failure is counted in `write_errors`,
    /// reported to the paniclog (once while the same one lasts) and `last_error`, and
    /// returned. Files that cannot be synced at all (`EINVAL`: a pipe, a terminal) are
    /// not failures.
    fn sync_all(&mut self) -> Result<(), String> {
        if self.settings.fsync == Fsync::None {
            return Ok(());
        }
        let mut failed = None;
        for (_, f) in &self.files {
            if let Err(e) = f.sync() {
                if errno_of(&e) != libc::EINVAL && failed.is_none() {
                    failed = Some(format!(
                        "fsync of {} failed: {e}; lines written to it may not be on disk",
                        f.path().display()
                    ));
                }
            }
        }
        self.synced = true;
        self.last_sync = Instant::now();
        let Some(msg) = failed else {
            self.sync_fault = None;
            return Ok(());
        };
        self.shared.stats.add(Counter::write_errors, 1);
        if self.sync_fault.as_ref() != Some(&msg) {
            self.report("error", &msg);
            *self.shared.writer_error.lock() = Some(msg.clone());
            self.sync_fault = Some(msg.clone());
        }
        Err(msg)
    }

    /// Appends an mtalog diagnostic to the paniclog buffer, in the kind's error format.
    fn report(&mut self, severity: &str, msg: &str) {
        let mut ev = Event::new(Kind::Error);
        ev.time = Timestamp::now();
        let text = format!("{severity}: mtalog: {msg}");
        ev.push(Field::Note, text.as_bytes(), usize::MAX);
        let mut tmp = Out::default();
        self.formatter.format(&ev, &mut tmp);
        let lens = self.out.lens();
        for (i, b) in tmp.bufs.iter().enumerate() {
            self.out.bufs[i].extend_from_slice(b);
        }
        if !self.dests.is_empty() {
            self.dests.mark_event(&lens, &self.out, &ev);
        }
    }

    fn try_write_all(&mut self) -> Result<(), (String, std::io::Error)> {
        let mut done = Vec::new();
        let mut grown = Vec::new();
        let mut result = Ok(());
        let Writer {
            out,
            files,
            route,
            formatter,
            shared,
            rotation_problems,
            dests,
            ledger,
            ..
        } = self;
        let give_up = abort_flag(shared);
        for t in Target::ALL {
            let buf = &mut out.bufs[t as usize];
            if buf.is_empty() {
                continue;
            }
            if dests.routes(t) {
                let before = buf.len();
                let r = dests.write(t, buf, &give_up, &shared.stats);
                ledger.taken(t, before - buf.len());
                if let (Err(e), true) = (r, result.is_ok()) {
                    result = Err(e);
                }
                continue;
            }
            let Some(i) = route[t as usize] else {
                ledger.taken(t, buf.len());
                buf.clear();
                continue;
            };
            let f = &files[i].1;
            let mut header = |now: Timestamp, b: &mut Vec<u8>| formatter.file_header(t, now, b);
            let mut ctx = RotateCtx {
                header: &mut header,
                rotated: Vec::new(),
                errors: Vec::new(),
                cut: None,
            };
            while !buf.is_empty() {
                match f.write_rotating(buf, &mut ctx) {
                    Ok(n) => {
                        shared.stats.add(Counter::bytes_written, n as u64);
                        buf.drain(..n);
                        ledger.taken(t, n);
                    }
                    Err(e) => {
                        // The other files are still written (a fault of the mainlog must
                        // not hold back the paniclog line that reports it).
                        if result.is_ok() {
                            result = Err((f.path().display().to_string(), e));
                        }
                        break;
                    }
                }
            }
            if let Some(cut) = ctx.cut {
                ledger.set_cut(t, cut);
            }
            done.extend(ctx.rotated.into_iter().map(|(_, to)| (Arc::clone(f), to)));
            rotation_problems.extend(ctx.errors);
            if f.outgrew_budget() {
                grown.push(Arc::clone(f));
            }
        }
        // The rest of a line a short write left (see `SharedFile::write`), in this pass or
        // an earlier one, is written now even when no new lines wait for its file: a flush
        // or close is not done before it is, and a fault shows at once.
        finish_pending(files, &mut result);
        dests.finish_pending(&give_up, &shared.stats, &mut result);
        rotation_problems.extend(dests.take_problems());
        self.count_written();
        self.rotated(done);
        // Files that grew past what max_total_size leaves them: older files go now, not
        // only at the next rotation.
        for f in grown {
            self.job(sweep_job(&f, false));
        }
        result
    }

    /// Counts the events now wholly in their files as written (a cut line whose rest was
    /// written since, or lines a syslog destination has sent since, no longer hold their
    /// events back).
    fn count_written(&mut self) {
        for t in Target::ALL {
            if self.dests.routes(t) {
                self.ledger.set_held(t, self.dests.held(t));
            }
            if let (Some(id), Some(i)) = (self.ledger.cut(t), self.route[t as usize]) {
                if !self.files[i].1.is_cut(id) {
                    self.ledger.clear_cut(t);
                }
            }
        }
        let n = self.ledger.complete();
        if n > 0 {
            self.shared.stats.add(Counter::written, n);
        }
    }

    /// Gives up every buffered line: what is wholly in the files is counted written, the
    /// rest of the events dropped; a line a short write cut (whose rest waits, see
    /// `SharedFile::write`) is tried once more, and when the file still does not take it,
    /// cut off again (`SharedFile::take_back`), so that the file does not end in part of a
    /// line. Then the buffers are emptied.
    fn give_up_buffered(&mut self) {
        let mut r = Ok(());
        finish_pending(&self.files, &mut r);
        self.count_written();
        for t in Target::ALL {
            if let (Some(id), Some(i)) = (self.ledger.cut(t), self.route[t as usize]) {
                let _ = self.files[i].1.take_back(id);
            }
            self.ledger.clear_cut(t);
            self.ledger.taken(t, self.out.bufs[t as usize].len());
        }
        self.out.clear();
        self.dests.clear();
        let lost = self.ledger.forget();
        for k in Kind::ALL {
            if lost[k.index()] > 0 {
                self.shared.stats.drop_taken(k, lost[k.index()]);
            }
        }
    }

    /// Writes every buffer out, retrying with back-off on faults. Returns false only when
    /// the control side gave up (abort) while a fault lasted.
    ///
    /// A recovery notice or a drop summary is itself written before returning; each is
    /// written at most once per call, so producers that keep dropping while this runs
    /// cannot keep the writer here (their drops are summed up by the next call).
    fn write_out(&mut self) -> bool {
        let mut drops_reported = false;
        let mut rotation_reported = false;
        loop {
            if !self.write_once() {
                return false;
            }
            if let Some(f) = self.fault.take() {
                self.report("notice", &format!("writing resumed after: {f}"));
                continue;
            }
            if !rotation_reported && !self.rotation_problems.is_empty() {
                rotation_reported = true;
                for msg in std::mem::take(&mut self.rotation_problems) {
                    self.report("error", &msg);
                    *self.shared.writer_error.lock() = Some(msg);
                }
                continue;
            }
            if !drops_reported && self.report_drops() {
                drops_reported = true;
                continue;
            }
            return true;
        }
    }

    /// One pass of [`Writer::write_out`]: every buffer written, with retries.
    fn write_once(&mut self) -> bool {
        let mut backoff = Duration::from_millis(10);
        loop {
            match self.try_write_all() {
                Ok(()) => break,
                Err((path, e)) => {
                    if self.fault.is_none() {
                        self.shared.stats.add(Counter::write_errors, 1);
                        let msg =
                            format!("write to {path} failed: {e}; keeping events and retrying");
                        self.fault = Some(msg.clone());
                        self.report("error", &msg);
                    }
                    if self.shared.abort.load(Ordering::Relaxed) {
                        return false;
                    }
                    std::thread::park_timeout(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    // The failing file may be what the operator replaces: a reopen asked
                    // for (its request waits in the queue behind the fault) or, with
                    // `reopen_on_rename`, a renamed path is acted on now.
                    // (An asked-for reopen is counted when its request is handled.)
                    if self.shared.reopen_asked.swap(false, Ordering::Relaxed) {
                        let _ = self.reopen_files();
                    } else if (self.in_reopen || self.settings.reopen_on_rename)
                        && self.files.iter().any(|(_, f)| f.path_moved())
                    {
                        if !self.in_reopen {
                            self.shared.stats.add(Counter::reopens, 1);
                        }
                        let _ = self.reopen_files();
                    }
                }
            }
        }
        self.last_flush = Instant::now();
        self.synced = false;
        true
    }

    /// Queues the "N events dropped" summary when drops were counted since the last one.
    fn report_drops(&mut self) -> bool {
        let stats = &self.shared.stats;
        let dropped: u64 = Kind::ALL
            .iter()
            .map(|&k| stats.dropped(k).load(Ordering::Relaxed))
            .sum();
        if dropped <= self.reported_drops {
            return false;
        }
        let mut detail = String::new();
        for k in Kind::ALL {
            let n = self.shared.stats.dropped(k).load(Ordering::Relaxed);
            if n > 0 {
                if !detail.is_empty() {
                    detail.push_str(", ");
                }
                detail.push_str(&format!("{}={n}", k.name()));
            }
        }
        let n = dropped - self.reported_drops;
        self.reported_drops = dropped;
        self.report(
            "warning",
            &format!("{n} events dropped (queue full or closed; totals: {detail})"),
        );
        true
    }

    /// The control side gave up: count what will never be written as dropped, tell the
    /// paniclog if it still works, and exit.
    fn abandon(&mut self) {
        self.finish_helper();
        self.rotation_problems.clear();
        self.give_up_buffered();
        let mut lost = 0u64;
        while let Ok(m) = self.recv() {
            match m {
                Msg::Event(ev) => {
                    self.shared.stats.drop_taken(ev.kind, 1);
                    lost += 1;
                }
                Msg::Control(Control::Flush(a) | Control::Reopen(a) | Control::Shutdown(a)) => {
                    let _ = a.send(Err(Error::NotRunning));
                }
            }
        }
        self.report(
            "critical",
            &format!("closing without writing {lost} queued events and the buffered lines"),
        );
        let _ = self.try_write_all();
        self.give_up_buffered();
    }
}

mod destinations;
mod ledger;
mod rotation;
#[cfg(test)]
mod tests;
